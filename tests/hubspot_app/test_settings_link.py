"""The card's settings link: a 15-minute signed link that opens the tenant's settings."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from connector.models import Tenant
from connector.tenancy import SESSION_TENANT_ID, SESSION_USER_EMAIL
from hubspot_app.services import settings_link_for
from tests.factories import QontoConnectionFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _path(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def test_link_is_absolute_and_short_lived(settings) -> None:
    settings.PUBLIC_BASE_URL = "https://connector.example.com"
    link = settings_link_for(TenantFactory())
    assert link.startswith("https://connector.example.com/settings/open?t=")


def test_valid_link_logs_in_and_opens_settings(client) -> None:
    tenant = TenantFactory()
    QontoConnectionFactory(tenant=tenant)
    response = client.get(
        _path(settings_link_for(tenant, user_email="commercial@agence-demo.fr", user_id=7002))
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("tenant_settings")
    assert client.session[SESSION_TENANT_ID] == tenant.pk
    assert client.session[SESSION_USER_EMAIL] == "commercial@agence-demo.fr"
    assert client.get(reverse("tenant_settings")).status_code == 200


def test_tenant_without_qonto_lands_on_connect_qonto(client) -> None:
    tenant = TenantFactory()
    response = client.get(_path(settings_link_for(tenant)))
    assert response["Location"] == reverse("onboarding_qonto")


def test_expired_link_is_refused(client, monkeypatch) -> None:
    tenant = TenantFactory()
    link = _path(settings_link_for(tenant))
    later = time.time() + 16 * 60
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    response = client.get(link)
    assert response.status_code == 400
    assert "expiré" in response.content.decode()
    assert SESSION_TENANT_ID not in client.session


@pytest.mark.parametrize("mutate", [lambda t: t[:-2] + "xx", lambda t: t.replace(":", ".", 1), lambda t: ""])
def test_tampered_link_is_refused(client, mutate) -> None:
    tenant = TenantFactory()
    token = _path(settings_link_for(tenant)).split("t=", 1)[1]
    response = client.get(reverse("settings_open"), {"t": mutate(token)})
    assert response.status_code == 400
    assert SESSION_TENANT_ID not in client.session


def test_link_of_another_salt_or_tenant_is_refused(client) -> None:
    from django.core import signing

    tenant = TenantFactory()
    forged = signing.dumps({"t": tenant.pk, "p": tenant.portal_id}, salt="another-purpose")
    assert client.get(reverse("settings_open"), {"t": forged}).status_code == 400
    other = signing.dumps({"t": tenant.pk, "p": tenant.portal_id + 1}, salt="hubspot_app.settings-link")
    assert client.get(reverse("settings_open"), {"t": other}).status_code == 400


def test_link_of_an_uninstalled_tenant_is_refused(client) -> None:
    tenant = TenantFactory(status=Tenant.Status.UNINSTALLED)
    response = client.get(_path(settings_link_for(tenant)))
    assert response.status_code == 400
    assert "plus installée" in response.content.decode()
