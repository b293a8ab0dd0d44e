"""A card call signed for another URL than PUBLIC_BASE_URL (proxy prefix, host, scheme): refused,
and connector_doctor says which URL HubSpot signed and which one we checked — no secret shown."""

from __future__ import annotations

import logging
import time
from io import StringIO
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from connector.doctor import deployment_diagnose
from hubspot_app.signature import sign_v3
from hubspot_app.signature_diagnosis import last_refusal
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

PATH = f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/card"


def hubspot_call(
    client: Any, settings: Any, *, signed_base: str, secret: str | None = None, **headers: Any
) -> tuple[Any, str]:
    """GET the card the way HubSpot does, signing ``signed_base`` + path + query; Django gets PATH."""
    query = urlencode(
        {"appId": settings.HUBSPOT_APP_ID, "portalId": demo.PORTAL_ID, "userId": demo.SALES_USER_ID,
         "userEmail": demo.SALES_EMAIL}
    ).replace("%40", "@")  # fmt: skip
    ts = str(int(time.time() * 1000))
    signature = sign_v3(
        secret or settings.HUBSPOT_CLIENT_SECRET, "GET", f"{signed_base}{PATH}?{query}", b"", ts
    )
    response = client.get(
        f"{PATH}?{query}",
        HTTP_X_HUBSPOT_SIGNATURE_V3=signature,
        HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=ts,
        **headers,
    )
    return response, signature


def doctor() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("connector_doctor", stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.mark.django_db
def test_a_proxy_path_prefix_missing_from_public_base_url_is_explained(
    client, settings, invoice_world: InvoiceWorld, caplog
) -> None:  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["connector.acme.fr"]
    settings.PUBLIC_BASE_URL = "https://connector.acme.fr"  # the proxy's /qonto prefix is missing
    # HubSpot called https://connector.acme.fr/qonto/api/…; the proxy stripped /qonto.
    with caplog.at_level(logging.WARNING):
        response, signature = hubspot_call(
            client, settings, signed_base="https://connector.acme.fr/qonto",
            HTTP_HOST="connector.acme.fr", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_PREFIX="/qonto",
        )  # fmt: skip
    assert response.status_code == 401  # diagnosis only: still refused
    refusal = last_refusal()
    assert refusal is not None
    assert refusal.checked == f"https://connector.acme.fr{PATH}"
    assert refusal.signed_as == f"https://connector.acme.fr/qonto{PATH}"
    assert refusal.differences == ["path prefix"]
    log = "\n".join(r.getMessage() for r in caplog.records)
    assert f"verifies for https://connector.acme.fr/qonto{PATH}" in log

    [finding] = deployment_diagnose()
    assert finding.code == "card_signature_refused"
    assert finding.severity == "error"
    assert f"HubSpot a signé https://connector.acme.fr/qonto{PATH}" in finding.message
    assert f"nous avons vérifié https://connector.acme.fr{PATH}" in finding.message
    assert "préfixe de chemin" in finding.message
    out, error = doctor()
    assert error is not None
    assert "the deployment" in str(error)
    assert "card_signature_refused" in out
    for secret in (signature, settings.HUBSPOT_CLIENT_SECRET, demo.SALES_EMAIL, "portalId"):
        assert secret not in out
        assert secret not in log
        assert secret not in repr(refusal)

    # Fixed: the next signed call passes, and the doctor no longer calls it an error.
    settings.PUBLIC_BASE_URL = "https://connector.acme.fr/qonto"
    response, _ = hubspot_call(
        client, settings, signed_base="https://connector.acme.fr/qonto", HTTP_HOST="connector.acme.fr",
        HTTP_X_FORWARDED_PROTO="https",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    [finding] = deployment_diagnose()
    assert finding.severity == "warning"
    assert "acceptés depuis" in finding.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("public_base_url", "signed_base", "headers", "differs"),
    [
        # TLS ends at the proxy and PUBLIC_BASE_URL was written with http://
        (
            "http://connector.acme.fr",
            "https://connector.acme.fr",
            {"HTTP_X_FORWARDED_PROTO": "https"},
            ["scheme"],
        ),
        # HubSpot calls another host name than the one configured
        (
            "https://connector.acme.fr",
            "https://qonto.acme.fr",
            {"HTTP_X_FORWARDED_HOST": "qonto.acme.fr"},
            ["host"],
        ),
    ],
)
def test_scheme_and_host_differences_are_named(
    client, settings, public_base_url: str, signed_base: str, headers: dict[str, str], differs: list[str]
) -> None:  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["*"]
    settings.PUBLIC_BASE_URL = public_base_url
    response, _ = hubspot_call(
        client, settings, signed_base=signed_base, HTTP_HOST="connector.acme.fr", **headers
    )
    assert response.status_code == 401
    refusal = last_refusal()
    assert refusal is not None
    assert refusal.signed_as == f"{signed_base}{PATH}"
    assert refusal.differences == differs
    with translation.override("en"):
        [finding] = deployment_diagnose()
    assert f"HubSpot signed {signed_base}{PATH} but we checked {public_base_url}{PATH}" in finding.message
    assert f"(differs: {differs[0]})" in finding.message


@pytest.mark.django_db
def test_a_call_signed_with_another_secret_is_not_blamed_on_the_url(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["*"]
    settings.PUBLIC_BASE_URL = "https://connector.acme.fr"
    response, _ = hubspot_call(
        client,
        settings,
        signed_base="https://connector.acme.fr",
        secret="not-our-secret",
        HTTP_HOST="connector.acme.fr",
    )
    assert response.status_code == 401
    refusal = last_refusal()
    assert refusal is not None
    assert refusal.signed_as is None
    [finding] = deployment_diagnose()
    assert finding.severity == "warning"  # could be a forgery: worth a look, not a broken deployment
    assert "HUBSPOT_CLIENT_SECRET" in finding.message
    assert "arrivé comme http://connector.acme.fr" in finding.message


@pytest.mark.django_db
def test_a_stale_timestamp_is_not_recorded(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ALLOWED_HOSTS = ["*"]
    response = client.get(
        f"{PATH}?portalId=1", HTTP_X_HUBSPOT_SIGNATURE_V3="x", HTTP_X_HUBSPOT_REQUEST_TIMESTAMP="1"
    )
    assert response.status_code == 401
    assert last_refusal() is None


@pytest.mark.django_db
def test_public_host_outside_allowed_hosts_is_a_deployment_error(settings) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_BASE_URL = "https://connector.acme.fr"
    settings.ALLOWED_HOSTS = ["other.acme.fr"]
    [finding] = deployment_diagnose()
    assert finding.code == "public_host_not_allowed"
    assert "connector.acme.fr" in finding.message
    with translation.override("en"):
        assert "is not in ALLOWED_HOSTS" in deployment_diagnose()[0].message
    settings.ALLOWED_HOSTS = [".acme.fr"]
    assert deployment_diagnose() == []
