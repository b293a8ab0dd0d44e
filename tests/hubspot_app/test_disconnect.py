"""The Disconnect button on the settings page."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connector.models import Tenant
from connector.tenancy import SESSION_TENANT_ID
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from tests.factories import QontoConnectionFactory
from tests.hubspot_app.sandbox_fixtures import (
    add_fault,
    hubspot,
    install_in_simulator,
    login,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, sandbox):
    tenant = install_in_simulator(sandbox)
    QontoConnectionFactory(tenant=tenant)
    login(client, tenant)
    return tenant


def test_settings_page_has_a_confirmed_post_disconnect_form(client, signed_in) -> None:
    body = client.get(reverse("tenant_settings")).content.decode()
    assert f'action="{reverse("hubspot_disconnect")}"' in body
    assert 'name="confirm" value="yes" required' in body


def test_disconnect_needs_the_confirmation(client, signed_in, sandbox) -> None:
    response = client.post(reverse("hubspot_disconnect"))
    assert response.status_code == 400
    assert "Cochez la case" in response.content.decode()
    assert hubspot(sandbox).is_installed(demo.PORTAL_ID)
    assert Tenant.objects.get(pk=signed_in.pk).status == Tenant.Status.INSTALLED


def test_disconnect_uninstalls_in_hubspot_and_forgets_tokens(client, signed_in, sandbox) -> None:
    response = client.post(reverse("hubspot_disconnect"), {"confirm": "yes"})
    assert response.status_code == 200
    assert "Application déconnectée" in response.content.decode()
    assert not hubspot(sandbox).is_installed(demo.PORTAL_ID)
    delete = hubspot(sandbox).calls(demo.PORTAL_ID, method="DELETE")
    assert [c.path for c in delete] == ["/appinstalls/2026-03/external-install"]
    tenant = Tenant.objects.get(pk=signed_in.pk)
    assert tenant.status == Tenant.Status.UNINSTALLED
    installation = HubSpotInstallation.objects.get(tenant=tenant)
    assert not installation.has_tokens
    assert installation.access_token == ""
    assert installation.uninstalled_at is not None
    assert demo.INSTALLER_EMAIL in installation.uninstall_reason
    assert SESSION_TENANT_ID not in client.session
    assert client.get(reverse("tenant_settings")).status_code == 302  # signed out


def test_disconnect_when_hubspot_is_down_changes_nothing(client, signed_in, sandbox) -> None:
    add_fault(sandbox, provider="hubspot", status=503, path="/appinstalls/", count=1)
    response = client.post(reverse("hubspot_disconnect"), {"confirm": "yes"})
    assert response.status_code == 400
    assert "HubSpot ne répond pas" in response.content.decode()
    assert Tenant.objects.get(pk=signed_in.pk).status == Tenant.Status.INSTALLED
    assert HubSpotInstallation.objects.get(tenant=signed_in).has_tokens


def test_disconnect_when_already_uninstalled_in_hubspot(client, signed_in, sandbox) -> None:
    hubspot(sandbox).uninstall(demo.PORTAL_ID)
    response = client.post(reverse("hubspot_disconnect"), {"confirm": "yes"})
    assert response.status_code == 200
    assert Tenant.objects.get(pk=signed_in.pk).status == Tenant.Status.UNINSTALLED


def test_disconnect_requires_csrf(signed_in) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    login(strict, signed_in)
    assert strict.post(reverse("hubspot_disconnect"), {"confirm": "yes"}).status_code == 403
    assert Tenant.objects.get(pk=signed_in.pk).status == Tenant.Status.INSTALLED
