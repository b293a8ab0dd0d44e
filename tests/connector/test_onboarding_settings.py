"""The Settings page: invoicing settings, Qonto credentials, subscription link, installation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from connector.models import QontoConnection, Tenant
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import (  # noqa: F401 - fixtures
    hubspot,
    install_in_simulator,
    login,
    running_sandbox_fixture,
    sandbox_fixture,
    signed_in_fixture,
)

pytestmark = pytest.mark.django_db
URL = "/settings"


@pytest.fixture
def connected(client, signed_in):
    response = client.post(
        reverse("onboarding_qonto"),
        {
            "form": "qonto",
            "organization_slug": demo.QONTO_LOGIN,
            "secret_key": demo.QONTO_SECRET_KEY,
            "environment": "production",
            "vat_rate": "20",
            "siret_property": "qonto_siret",
        },
    )
    assert response.status_code == 302
    return signed_in


def invoicing(**overrides):
    data = {
        "form": "invoicing",
        "vat_rate": "10",
        "payment_terms_days": "45",
        "siret_property": "siret",
        "iban": demo.QONTO_IBAN_SECOND,
    }
    data.update(overrides)
    return data


def test_page_shows_installation_subscription_and_key_hint(client, connected) -> None:
    assert reverse("tenant_settings") == URL
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert str(demo.PORTAL_ID) in body
    assert demo.HUB_DOMAIN in body
    assert demo.INSTALLER_EMAIL in body
    assert "crm.objects.deals.write" in body
    assert 'href="/billing/"' in body
    assert "Gérer mon abonnement" in body
    assert "…" + demo.QONTO_SECRET_KEY[-4:] in body
    assert demo.QONTO_SECRET_KEY not in body
    assert demo.QONTO_LEGAL_NAME in body


def test_change_invoicing_settings(client, connected) -> None:
    response = client.post(URL, invoicing())
    assert response.status_code == 302
    connection = QontoConnection.objects.get(tenant=connected)
    assert connection.vat_rate == Decimal("10.00")
    assert connection.iban == demo.QONTO_IBAN_SECOND
    tenant = Tenant.objects.get(pk=connected.pk)
    assert tenant.payment_terms_days == 45
    assert tenant.siret_property == "siret"


@pytest.mark.parametrize(
    ("field", "value"),
    [("vat_rate", "vingt"), ("vat_rate", "101"), ("payment_terms_days", "400"), ("iban", "FR00NOTOURS")],
)
def test_invalid_invoicing_settings_are_refused(client, connected, field, value) -> None:
    response = client.post(URL, invoicing(**{field: value}))
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.content.decode()
    assert QontoConnection.objects.get(tenant=connected).vat_rate == Decimal("20.00")


def test_switching_the_siret_to_our_property_runs_the_setup(
    client, connected, sandbox, django_capture_on_commit_callbacks
) -> None:
    client.post(URL, invoicing(siret_property="siret"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(URL, invoicing(siret_property="qonto_siret"))
    assert len(callbacks) == 1
    companies = hubspot(sandbox).state["portals"][str(demo.PORTAL_ID)]["properties"]["companies"]
    assert "qonto_siret" in companies


def test_change_credentials_with_the_same_validation(client, connected, sandbox) -> None:
    response = client.post(
        URL,
        {
            "form": "qonto",
            "qonto-organization_slug": demo.QONTO_LOGIN,
            "qonto-secret_key": "qsk_bad_0000000000",
            "qonto-environment": "production",
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Qonto ne reconnaît pas cet identifiant" in body
    assert 'id="qonto-errors"' in body
    assert body.count('aria-describedby="qonto-errors') == 2  # the login and the key, one message
    assert QontoConnection.objects.get(tenant=connected).secret_key == demo.QONTO_SECRET_KEY
    response = client.post(
        URL,
        {
            "form": "qonto",
            "qonto-organization_slug": demo.OTHER_QONTO_LOGIN,
            "qonto-secret_key": demo.OTHER_QONTO_SECRET_KEY,
            "qonto-environment": "production",
        },
    )
    assert response.status_code == 302
    connection = QontoConnection.objects.get(tenant=connected)
    assert connection.legal_name == demo.OTHER_QONTO_LEGAL_NAME
    assert connection.iban == demo.OTHER_QONTO_IBAN  # the old IBAN is not the new organization's


def test_setup_can_be_run_again(client, connected, sandbox, django_capture_on_commit_callbacks) -> None:
    HubSpotInstallation.objects.filter(tenant=connected).update(setup_completed_at=None)
    assert "en cours de création" in client.get(URL).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"form": "setup"})
    assert response.status_code == 302
    assert HubSpotInstallation.objects.get(tenant=connected).setup_completed_at is not None


def test_without_qonto_the_page_invites_to_connect(client, sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    login(client, tenant)
    body = client.get(URL).content.decode()
    assert "Qonto n'est pas encore connecté" in body
    assert 'href="/onboarding/qonto"' in body
