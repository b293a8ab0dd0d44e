"""The card's settings link: bound to the HubSpot user of the signed card call, 15 minutes, one use,
and who used it is in the audit trail."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from connector.models import AuditLog, Tenant
from connector.tenancy import SESSION_TENANT_ID, SESSION_USER_EMAIL, SESSION_USER_ID
from hubspot_app.models import SettingsLinkUse
from hubspot_app.settings_access import settings_link_for
from tests.factories import QontoConnectionFactory, TenantFactory

pytestmark = pytest.mark.django_db
SALES = {"user_id": "7002", "user_email": "commercial@agence-demo.fr"}


def _path(link: str | None) -> str:
    assert link is not None
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_link_is_absolute_and_short_lived(settings) -> None:
    settings.PUBLIC_BASE_URL = "https://connector.example.com"
    link = settings_link_for(TenantFactory(), **SALES)
    assert link is not None
    assert link.startswith("https://connector.example.com/settings/open?t=")


@pytest.mark.parametrize("user_id", ["", None, "0", "-3", "abc", "7002; drop", "²"])
def test_no_link_without_a_hubspot_user(user_id: object) -> None:
    assert settings_link_for(TenantFactory(), user_id=user_id, user_email="x@example.com") is None


def test_valid_link_logs_in_as_that_user_and_records_who_used_it(client) -> None:
    tenant = TenantFactory()
    QontoConnectionFactory(tenant=tenant)
    response = client.get(_path(settings_link_for(tenant, **SALES)))
    assert response.status_code == 302
    assert response["Location"] == reverse("tenant_settings")
    assert client.session[SESSION_TENANT_ID] == tenant.pk
    assert client.session[SESSION_USER_EMAIL] == "commercial@agence-demo.fr"
    assert client.session[SESSION_USER_ID] == 7002
    assert client.get(reverse("tenant_settings")).status_code == 200
    entry = AuditLog.objects.get(action=AuditLog.Action.SETTINGS_LINK_USED)
    assert entry.tenant == tenant
    assert entry.user_email == "commercial@agence-demo.fr"
    assert entry.detail["hubspot_user_id"] == 7002
    use = SettingsLinkUse.objects.get()
    assert (use.tenant, use.hubspot_user_id) == (tenant, 7002)


def test_a_link_works_once(client) -> None:
    tenant = TenantFactory()
    QontoConnectionFactory(tenant=tenant)
    link = _path(settings_link_for(tenant, **SALES))
    assert client.get(link).status_code == 302
    other_browser = client.__class__()
    response = other_browser.get(link)  # forwarded, leaked, or opened again
    assert response.status_code == 400
    assert "déjà servi" in response.content.decode()
    assert SESSION_TENANT_ID not in other_browser.session
    assert SettingsLinkUse.objects.count() == 1
    assert AuditLog.objects.filter(action=AuditLog.Action.SETTINGS_LINK_USED).count() == 1


def test_two_links_of_the_card_are_two_uses(client) -> None:
    tenant = TenantFactory()
    QontoConnectionFactory(tenant=tenant)
    assert client.get(_path(settings_link_for(tenant, **SALES))).status_code == 302
    assert client.get(_path(settings_link_for(tenant, **SALES))).status_code == 302


def test_tenant_without_qonto_lands_on_connect_qonto(client) -> None:
    tenant = TenantFactory()
    response = client.get(_path(settings_link_for(tenant, **SALES)))
    assert response["Location"] == reverse("onboarding_qonto")


def test_expired_link_is_refused(client, monkeypatch) -> None:
    tenant = TenantFactory()
    link = _path(settings_link_for(tenant, **SALES))
    later = time.time() + 16 * 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = client.get(link)
    assert response.status_code == 400
    assert "expiré" in response.content.decode()
    assert SESSION_TENANT_ID not in client.session
    assert not SettingsLinkUse.objects.exists()


@pytest.mark.parametrize("mutate", [lambda t: t[:-2] + "xx", lambda t: t.replace(":", ".", 1), lambda t: ""])
def test_tampered_link_is_refused(client, mutate) -> None:
    tenant = TenantFactory()
    token = _path(settings_link_for(tenant, **SALES)).split("t=", 1)[1]
    response = client.get(reverse("settings_open"), {"t": mutate(token)})
    assert response.status_code == 400
    assert SESSION_TENANT_ID not in client.session


def test_link_of_another_salt_or_tenant_or_without_user_is_refused(client) -> None:
    from django.core import signing

    tenant = TenantFactory()
    salt = "hubspot_app.settings-link"
    forged = signing.dumps(
        {"t": tenant.pk, "p": tenant.portal_id, "u": 7002, "n": "x"}, salt="another-purpose"
    )
    assert client.get(reverse("settings_open"), {"t": forged}).status_code == 400
    other = signing.dumps({"t": tenant.pk, "p": tenant.portal_id + 1, "u": 7002, "n": "y"}, salt=salt)
    assert client.get(reverse("settings_open"), {"t": other}).status_code == 400
    # The old shape (no user, no nonce: reusable by anyone who has it) is no longer accepted.
    old = signing.dumps({"t": tenant.pk, "p": tenant.portal_id, "e": "", "u": None}, salt=salt)
    assert client.get(reverse("settings_open"), {"t": old}).status_code == 400
    assert SESSION_TENANT_ID not in client.session


def test_link_of_an_uninstalled_tenant_is_refused(client) -> None:
    tenant = TenantFactory(status=Tenant.Status.UNINSTALLED)
    response = client.get(_path(settings_link_for(tenant, **SALES)))
    assert response.status_code == 400
    assert "plus installée" in response.content.decode()
