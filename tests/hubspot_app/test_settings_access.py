"""Only HubSpot super admins (asked of HubSpot) may change the Qonto connection or disconnect; the
card's settings link signs in the HubSpot user of the signed card call, not "whoever has it"."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from connector.models import AuditLog, QontoConnection
from connector.tenancy import SESSION_USER_ID
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import login, running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db

NEW_KEY = {
    "form": "qonto",
    "qonto-organization_slug": demo.OTHER_QONTO_LOGIN,
    "qonto-secret_key": demo.OTHER_QONTO_SECRET_KEY,
    "qonto-environment": "production",
}


def user_calls(world: InvoiceWorld) -> list[Any]:
    return [
        e for e in world.sb.sandbox.log.entries("hubspot") if "/settings/" in e.path and "/users/" in e.path
    ]


def as_sales(client: Any, world: InvoiceWorld) -> None:
    login(client, world.tenant, email=demo.SALES_EMAIL, user_id=demo.SALES_USER_ID)


def assert_refused(response: Any, world: InvoiceWorld, text: str, what: str, reason: str) -> None:
    assert response.status_code == 403, response.content[:500]
    assert text in response.content.decode()
    entry = AuditLog.objects.filter(action=AuditLog.Action.CONNECTION_CHANGE_REFUSED).latest("created_at")
    assert entry.tenant == world.tenant
    assert entry.detail["what"] == what
    assert entry.detail["reason"] == reason


def test_the_card_link_signs_in_the_user_of_the_signed_call(client, invoice_world: InvoiceWorld) -> None:
    kwargs = invoice_world.signed("GET", f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/card")
    body = client.get(kwargs.pop("path"), **kwargs).json()  # signed as the sales user (7002)
    link = urlsplit(body["tenant"]["settings_url"])
    assert client.get(f"{link.path}?{link.query}").status_code == 302
    assert client.session[SESSION_USER_ID] == demo.SALES_USER_ID
    entry = AuditLog.objects.get(action=AuditLog.Action.SETTINGS_LINK_USED)
    assert entry.user_email == demo.SALES_EMAIL


def test_a_super_admin_may_change_the_qonto_key(client, invoice_world: InvoiceWorld) -> None:
    login(client, invoice_world.tenant)  # the installer: a super admin of the portal
    assert client.post(reverse("tenant_settings"), NEW_KEY).status_code == 302
    assert (
        QontoConnection.objects.get(tenant=invoice_world.tenant).organization_slug == demo.OTHER_QONTO_LOGIN
    )
    [call] = user_calls(invoice_world)
    assert call.path.endswith(f"/settings/users/2026-03/{demo.INSTALLER_USER_ID}")


def test_a_user_who_is_not_super_admin_may_not_change_the_connection(
    client, invoice_world: InvoiceWorld
) -> None:
    as_sales(client, invoice_world)
    page = client.get(reverse("tenant_settings")).content.decode()
    assert "Seuls les super administrateurs du compte HubSpot" in page
    assert 'disabled aria-describedby="qonto-refusal"' in page
    qonto_calls = len(invoice_world.sb.sandbox.log.entries("qonto"))
    response = client.post(reverse("tenant_settings"), NEW_KEY)
    assert_refused(
        response, invoice_world, "Seuls les super administrateurs", "qonto_connection", "not_super_admin"
    )
    assert QontoConnection.objects.get(tenant=invoice_world.tenant).organization_slug == demo.QONTO_LOGIN
    assert len(invoice_world.sb.sandbox.log.entries("qonto")) == qonto_calls  # the key was not even tried
    entry = AuditLog.objects.get(action=AuditLog.Action.CONNECTION_CHANGE_REFUSED)
    assert entry.user_email == demo.SALES_EMAIL
    assert entry.detail["hubspot_user_id"] == demo.SALES_USER_ID
    # The onboarding page's form too.
    response = client.post(
        reverse("onboarding_qonto"),
        {"form": "qonto", "organization_slug": demo.OTHER_QONTO_LOGIN,
         "secret_key": demo.OTHER_QONTO_SECRET_KEY, "environment": "production", "vat_rate": "20",
         "siret_property": "qonto_siret"},
    )  # fmt: skip
    assert_refused(
        response, invoice_world, "Seuls les super administrateurs", "qonto_connection", "not_super_admin"
    )


def test_a_user_who_is_not_super_admin_may_not_disconnect(client, invoice_world: InvoiceWorld) -> None:
    as_sales(client, invoice_world)
    page = client.get(reverse("hubspot_disconnect")).content.decode()
    assert "Seuls les super administrateurs" in page
    response = client.post(reverse("hubspot_disconnect"), {"confirm": "yes"})
    assert_refused(
        response, invoice_world, "Seuls les super administrateurs", "disconnect", "not_super_admin"
    )
    assert invoice_world.hubspot.is_installed(demo.PORTAL_ID)
    assert HubSpotInstallation.objects.get(tenant=invoice_world.tenant).refresh_token


def test_the_receiving_iban_is_part_of_the_connection(client, invoice_world: InvoiceWorld) -> None:
    connection = QontoConnection.objects.get(tenant=invoice_world.tenant)
    connection.bank_accounts = [
        {"iban": demo.QONTO_IBAN_MAIN, "name": "Principal", "main": True},
        {"iban": demo.QONTO_IBAN_SECOND, "name": "Second", "main": False},
    ]
    connection.save()
    as_sales(client, invoice_world)
    form = {"form": "invoicing", "vat_rate": "10", "payment_terms_days": "45", "siret_property": "siret"}
    response = client.post(reverse("tenant_settings"), {**form, "iban": demo.QONTO_IBAN_SECOND})
    assert_refused(
        response, invoice_world, "Seuls les super administrateurs", "qonto_iban", "not_super_admin"
    )
    assert QontoConnection.objects.get(pk=connection.pk).iban == demo.QONTO_IBAN_MAIN
    # The rest of the invoicing settings stay open to whoever opened the settings.
    response = client.post(reverse("tenant_settings"), {**form, "iban": demo.QONTO_IBAN_MAIN})
    assert response.status_code == 302
    assert QontoConnection.objects.get(pk=connection.pk).vat_rate == 10


def test_a_super_admin_demoted_in_hubspot_loses_the_right_at_once(
    client, invoice_world: InvoiceWorld
) -> None:
    login(client, invoice_world.tenant)
    invoice_world.hubspot.set_super_admin(demo.PORTAL_ID, demo.INSTALLER_USER_ID, False)
    response = client.post(reverse("tenant_settings"), NEW_KEY)
    assert_refused(
        response, invoice_world, "Seuls les super administrateurs", "qonto_connection", "not_super_admin"
    )


def test_without_the_users_scope_nobody_may_change_it(client, invoice_world: InvoiceWorld) -> None:
    installation = HubSpotInstallation.objects.get(tenant=invoice_world.tenant)
    installation.scopes = [s for s in installation.scopes if s != "settings.users.read"]
    installation.save()
    login(client, invoice_world.tenant)  # even the installer: we cannot check
    response = client.post(reverse("tenant_settings"), NEW_KEY)
    assert_refused(response, invoice_world, "se connectant avec HubSpot", "qonto_connection", "scope_missing")
    assert user_calls(invoice_world) == []


def test_a_scope_revoked_in_hubspot_refuses_too(client, invoice_world: InvoiceWorld) -> None:
    invoice_world.fault(
        provider="hubspot", method="GET", path=r"/settings/users/", status=403, count=None,
        body={"status": "error", "category": "MISSING_SCOPES", "message": "missing scopes",
              "context": {"missingScopes": ["settings.users.read"]}},
    )  # fmt: skip
    login(client, invoice_world.tenant)
    response = client.post(reverse("hubspot_disconnect"), {"confirm": "yes"})
    assert_refused(response, invoice_world, "se connectant avec HubSpot", "disconnect", "scope_missing")
    assert invoice_world.hubspot.is_installed(demo.PORTAL_ID)


def test_when_hubspot_cannot_answer_the_change_is_refused(client, invoice_world: InvoiceWorld) -> None:
    invoice_world.fault(provider="hubspot", method="GET", path=r"/settings/users/", status=503, count=None)
    login(client, invoice_world.tenant)
    response = client.post(reverse("tenant_settings"), NEW_KEY)
    assert_refused(response, invoice_world, "HubSpot ne répond pas", "qonto_connection", "unavailable")
    assert QontoConnection.objects.get(tenant=invoice_world.tenant).organization_slug == demo.QONTO_LOGIN


def test_a_session_that_names_no_hubspot_user_may_not(client, invoice_world: InvoiceWorld) -> None:
    login(client, invoice_world.tenant, user_id=None)
    response = client.post(reverse("tenant_settings"), NEW_KEY)
    assert_refused(
        response, invoice_world, "quel utilisateur HubSpot vous êtes", "qonto_connection", "no_user"
    )


def test_the_refusal_is_in_english_too(client, invoice_world: InvoiceWorld) -> None:
    as_sales(client, invoice_world)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("tenant_settings"), NEW_KEY, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "Only super admins of the HubSpot account" in response.content.decode()
