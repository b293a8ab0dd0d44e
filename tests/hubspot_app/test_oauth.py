"""Install and sign-in through HubSpot's OAuth flow, against the HubSpot simulator."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.urls import reverse

from connector.models import Invoice, QontoConnection, Tenant
from connector.tenancy import SESSION_TENANT_ID, SESSION_USER_EMAIL
from hubspot_app.models import HubSpotInstallation
from hubspot_app.oauth_state import SESSION_KEY, safe_next
from hubspot_app.scopes import OPTIONAL_SCOPES, REQUIRED_SCOPES
from sandbox import demo
from tests.factories import QontoConnectionFactory
from tests.hubspot_app.sandbox_fixtures import (
    APP_HSMETA,
    ROOT,
    consent,
    hubspot,
    login,
    oauth_token_calls,
)

pytestmark = pytest.mark.django_db


def start_install(client, next_url: str | None = None) -> str:
    url = reverse("hubspot_install") + (f"?next={next_url}" if next_url else "")
    response = client.get(url)
    assert response.status_code == 302
    return response["Location"]


def error_reason(response) -> str:
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("hubspot_oauth_error")
    return parse_qs(location.query)["reason"][0]


def test_scopes_are_exactly_the_app_config() -> None:
    auth = json.loads(APP_HSMETA.read_text())["config"]["auth"]
    assert list(REQUIRED_SCOPES) == auth["requiredScopes"]
    assert list(OPTIONAL_SCOPES) == auth["optionalScopes"]


def test_install_redirects_to_hubspot_with_client_scopes_and_state(client, sandbox) -> None:
    location = start_install(client)
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{sandbox.url}/hubspot-app/oauth/authorize"
    query = parse_qs(parts.query)
    assert query["client_id"] == [sandbox.sandbox.config.hubspot_client_id]
    assert query["redirect_uri"] == ["http://testserver/hubspot/oauth/callback"]
    assert query["scope"][0].split(" ") == list(REQUIRED_SCOPES)
    assert "%20" in parts.query  # space-separated scopes, as HubSpot documents
    state = query["state"][0]
    # Only a hash of the nonce is kept in the session, never the state itself.
    pending = client.session[SESSION_KEY]
    assert len(pending) == 1
    assert state not in str(pending)


def test_full_install_creates_tenant_logs_in_and_goes_to_connect_qonto(
    client, sandbox, django_capture_on_commit_callbacks
) -> None:
    callback = consent(sandbox, start_install(client))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(callback)
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding_qonto")
    tenant = Tenant.objects.get(portal_id=demo.PORTAL_ID)
    assert tenant.status == Tenant.Status.INSTALLED
    assert tenant.hub_domain == demo.HUB_DOMAIN
    installation = HubSpotInstallation.objects.get(tenant=tenant)
    assert installation.installer_email == demo.INSTALLER_EMAIL
    assert installation.installer_user_id == demo.INSTALLER_USER_ID
    assert set(installation.scopes) == set(REQUIRED_SCOPES) | set(OPTIONAL_SCOPES)
    assert installation.access_token
    assert installation.refresh_token
    assert installation.expires_at is not None
    assert client.session[SESSION_TENANT_ID] == tenant.pk
    assert client.session[SESSION_USER_EMAIL] == demo.INSTALLER_EMAIL
    # The setup task was queued after commit and (eagerly) created our properties.
    assert len(callbacks) == 1
    installation.refresh_from_db()
    assert installation.setup_completed_at is not None
    assert (
        "qonto_last_invoice_status"
        in hubspot(sandbox).state["portals"][str(demo.PORTAL_ID)]["properties"]["deals"]
    )
    # The exchange used the 2026-03 token endpoint, form-encoded, then introspection.
    exchange = oauth_token_calls(sandbox, "authorization_code")
    assert len(exchange) == 1
    assert exchange[0].path == "/oauth/2026-03/token"
    assert any(e.path == "/oauth/2026-03/token/introspect" for e in sandbox.sandbox.log.entries("hubspot"))


def test_connected_tenant_goes_to_settings_after_sign_in(client, sandbox) -> None:
    tenant = Tenant.objects.create(portal_id=demo.PORTAL_ID)
    QontoConnectionFactory(tenant=tenant)
    response = client.get(consent(sandbox, start_install(client)))
    assert response["Location"] == reverse("tenant_settings")


def test_tokens_are_stored_encrypted(client, sandbox) -> None:
    client.get(consent(sandbox, start_install(client)))
    installation = HubSpotInstallation.objects.get(tenant__portal_id=demo.PORTAL_ID)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM hubspot_app_hubspotinstallation WHERE id = %s",
            [installation.pk],
        )
        raw_access, raw_refresh = cursor.fetchone()
    assert installation.access_token not in raw_access
    assert installation.refresh_token not in raw_refresh
    assert installation.refresh_token.startswith("na1-")


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda state: None, "state_missing"),
        (lambda state: state[:-3] + ("aaa" if not state.endswith("aaa") else "bbb"), "state_invalid"),
        (lambda state: "forged-by-someone-else", "state_invalid"),
    ],
)
def test_callback_refuses_missing_or_forged_state(client, sandbox, tamper, reason) -> None:
    callback = consent(sandbox, start_install(client))
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    new_state = tamper(query["state"])
    if new_state is None:
        del query["state"]
    else:
        query["state"] = new_state
    response = client.get(parts.path, query)
    assert error_reason(response) == reason
    assert not Tenant.objects.exists()
    assert not oauth_token_calls(sandbox)  # the code is never exchanged


def test_callback_refuses_a_reused_state(client, sandbox) -> None:
    callback = consent(sandbox, start_install(client))
    assert client.get(callback)["Location"] == reverse("onboarding_qonto")
    client.session.flush()
    again = client.get(callback)
    assert error_reason(again) == "state_unknown"


def test_callback_refuses_a_state_from_another_browser(client, sandbox) -> None:
    from django.test import Client

    callback = consent(sandbox, start_install(client))
    other_browser = Client()
    assert error_reason(other_browser.get(callback)) == "state_unknown"
    assert not Tenant.objects.exists()


def test_callback_refuses_an_expired_state(client, sandbox, monkeypatch) -> None:
    callback = consent(sandbox, start_install(client))
    later = time.time() + 11 * 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    monkeypatch.setattr("hubspot_app.oauth_state.time.time", lambda: later)
    assert error_reason(client.get(callback)) == "state_expired"
    assert not Tenant.objects.exists()


def test_user_refuses_consent(client, sandbox) -> None:
    callback = consent(sandbox, start_install(client), action="deny")
    assert "error=access_denied" in callback
    response = client.get(callback)
    assert error_reason(response) == "access_denied"
    page = client.get(response["Location"])
    assert page.status_code == 400
    assert "Installation annulée" in page.content.decode()
    assert not Tenant.objects.exists()


def test_code_exchange_refused_shows_friendly_page(client, sandbox) -> None:
    callback = consent(sandbox, start_install(client))
    # Spend the (single-use) code first: our exchange then gets 400 BAD_AUTH_CODE.
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["code"] = "not-a-code-hubspot-issued"
    response = client.get(parts.path, query)
    assert error_reason(response) == "code_rejected"
    refused = oauth_token_calls(sandbox, "authorization_code")
    assert len(refused) == 1
    assert refused[0].status == 400
    page = client.get(response["Location"])
    assert page.status_code == 400
    assert "Autorisation expirée" in page.content.decode()
    assert not Tenant.objects.exists()
    assert SESSION_TENANT_ID not in client.session


def test_error_page_in_english(client, sandbox) -> None:
    client.cookies["django_language"] = "en"
    page = client.get(reverse("hubspot_oauth_error") + "?reason=access_denied", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert '<html lang="en">' in page.content.decode()
    assert "Installation cancelled" in page.content.decode()


def test_reinstall_of_an_uninstalled_portal_revives_it_and_keeps_its_rows(client, sandbox) -> None:
    tenant = Tenant.objects.create(
        portal_id=demo.PORTAL_ID, status=Tenant.Status.UNINSTALLED, status_reason="désinstallée"
    )
    QontoConnectionFactory(tenant=tenant)
    from connector.models import Deal

    deal = Deal.objects.create(tenant=tenant, hubspot_deal_id="51200000001")
    invoice = Invoice.objects.create(
        tenant=tenant,
        deal=deal,
        hubspot_deal_id="51200000001",
        kind=Invoice.Kind.FULL,
        status=Invoice.Status.DRAFT,
        idempotency_key="k1",
        reference="deal-51200000001",
        qonto_invoice_id="inv-1",
    )
    HubSpotInstallation.objects.create(
        tenant=tenant, uninstall_reason="invalid_grant", uninstalled_at="2026-01-01T00:00:00Z"
    )
    response = client.get(consent(sandbox, start_install(client)))
    assert response["Location"] == reverse("tenant_settings")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.INSTALLED
    assert Tenant.objects.count() == 1
    assert Invoice.objects.filter(pk=invoice.pk, tenant=tenant).exists()
    assert QontoConnection.objects.filter(tenant=tenant).exists()
    installation = HubSpotInstallation.objects.get(tenant=tenant)
    assert installation.uninstalled_at is None
    assert installation.uninstall_reason == ""
    assert installation.has_tokens


def test_signin_page_and_returning_user_goes_to_next(client, sandbox) -> None:
    page = client.get(reverse("signin") + "?next=/settings")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Se connecter avec HubSpot" in body
    assert "/hubspot/install?next=%2Fsettings" in body
    tenant = Tenant.objects.create(portal_id=demo.PORTAL_ID)
    QontoConnectionFactory(tenant=tenant)
    response = client.get(consent(sandbox, start_install(client, next_url="/settings?tab=1")))
    assert response["Location"] == "/settings?tab=1"
    assert client.session[SESSION_TENANT_ID] == tenant.pk


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "http:/evil"],
)
def test_next_cannot_redirect_off_site(client, sandbox, next_url) -> None:
    assert safe_next(next_url) == ""
    tenant = Tenant.objects.create(portal_id=demo.PORTAL_ID)
    QontoConnectionFactory(tenant=tenant)
    location = client.get(reverse("hubspot_install"), {"next": next_url})["Location"]
    response = client.get(consent(sandbox, location))
    assert response["Location"] == reverse("tenant_settings")


def test_anonymous_visitor_of_a_protected_page_is_sent_to_signin(client, db) -> None:
    response = client.get(reverse("tenant_settings"))
    assert response.status_code == 302
    assert response["Location"] == "/signin?next=%2Fsettings"


def test_signout_is_post_only_and_ends_the_session(client, sandbox) -> None:
    tenant = Tenant.objects.create(portal_id=demo.PORTAL_ID)
    login(client, tenant)
    assert client.get(reverse("signout")).status_code == 405
    response = client.post(reverse("signout"))
    assert response.status_code == 302
    assert SESSION_TENANT_ID not in client.session
    assert client.get(reverse("tenant_settings")).status_code == 302


def test_oauth_code_never_reaches_the_logs(client, sandbox, caplog) -> None:
    callback = consent(sandbox, start_install(client))
    code = parse_qs(urlsplit(callback).query)["code"][0]
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged"
    with caplog.at_level(logging.DEBUG):
        client.get(parts.path, query)  # refused
        client.get(callback)  # accepted
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(v) for v in record.__dict__.values())
        assert code not in text


def test_request_logger_records_are_scrubbed(rf) -> None:
    from hubspot_app.log_filters import OAuthQueryScrubFilter

    request = rf.get("/hubspot/oauth/callback?code=secret-code-123&state=abc")
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Bad Request: %s", ("x",), None)
    record.request = request
    assert OAuthQueryScrubFilter().filter(record)
    assert "secret-code-123" not in repr(record.request)
    server = logging.LogRecord(
        "django.server",
        logging.WARNING,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /hubspot/oauth/callback?code=c0de&state=s HTTP/1.1", "400", "12"),
        None,
    )
    OAuthQueryScrubFilter().filter(server)
    assert "c0de" not in server.getMessage()
    assert logging.getLogger("django.request").filters  # installed at start-up


def test_the_generated_app_config_redirects_to_our_callback(settings) -> None:  # type: ignore[no-untyped-def]
    """configure.mjs builds redirectUrls from PUBLIC_BASE_URL exactly as the backend sends redirect_uri."""
    import shutil
    import subprocess

    from hubspot_app.services import oauth_redirect_uri

    node = shutil.which("node")
    assert node, "node is needed by make test (card tests and check-hubspot-project)"
    base = "https://connector.acme.fr/qonto"  # with a proxy's path prefix
    out = subprocess.run(
        [node, str(ROOT / "hubspot_app/card/scripts/configure.mjs"), "--base-url", base,
         "--support-email", "aide@acme.fr", "--dry-run"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    generated = json.loads(out[: out.rindex("export const API_BASE")])
    settings.PUBLIC_BASE_URL = base
    assert generated["config"]["auth"]["redirectUrls"] == [oauth_redirect_uri()]
    assert generated["config"]["permittedUrls"]["fetch"] == ["https://connector.acme.fr"]
    assert generated["config"]["auth"]["requiredScopes"] == list(REQUIRED_SCOPES)
