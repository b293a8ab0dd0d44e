"""The token service: proactive refresh, one refresh under concurrency, rotation, uninstall."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from connector.exceptions import HubSpotAuthError
from connector.models import Tenant
from hubspot_app.client import HubSpotClient
from hubspot_app.models import HubSpotInstallation
from hubspot_app.tokens import get_access_token
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import (
    add_fault,
    hubspot,
    install_in_simulator,
    oauth_token_calls,
)


def _expire_soon(tenant: Tenant, minutes: float = 2) -> None:
    HubSpotInstallation.objects.filter(tenant=tenant).update(
        expires_at=timezone.now() + timedelta(minutes=minutes)
    )


@pytest.mark.django_db
def test_a_token_with_time_left_is_used_as_is(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    token = HubSpotInstallation.objects.get(tenant=tenant).access_token
    assert get_access_token(tenant) == token
    assert oauth_token_calls(sandbox) == []


@pytest.mark.django_db
def test_a_token_with_less_than_five_minutes_left_is_refreshed(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    old = HubSpotInstallation.objects.get(tenant=tenant)
    _expire_soon(tenant, minutes=4)
    token = get_access_token(tenant)
    assert token != old.access_token
    installation = HubSpotInstallation.objects.get(tenant=tenant)
    assert installation.access_token == token
    # expires_in (1800 s) from HubSpot's answer, not a constant of ours
    assert timedelta(minutes=29) < installation.expires_at - timezone.now() <= timedelta(minutes=30)
    refreshes = oauth_token_calls(sandbox, "refresh_token")
    assert len(refreshes) == 1
    assert refreshes[0].path == "/oauth/2026-03/token"
    # The token works against the API.
    HubSpotClient(tenant).list_properties("deals")


@pytest.mark.django_db
def test_a_new_refresh_token_is_stored(sandbox) -> None:
    hubspot(sandbox).set_rotate_refresh_tokens(True)
    tenant = install_in_simulator(sandbox)
    old_refresh = HubSpotInstallation.objects.get(tenant=tenant).refresh_token
    _expire_soon(tenant, minutes=1)
    get_access_token(tenant)
    new_refresh = HubSpotInstallation.objects.get(tenant=tenant).refresh_token
    assert new_refresh
    assert new_refresh != old_refresh
    # The old one is dead in HubSpot now; the stored one keeps working.
    _expire_soon(tenant, minutes=1)
    get_access_token(tenant)
    assert len(oauth_token_calls(sandbox, "refresh_token")) == 2
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.INSTALLED


def _race(tenant_id: int, workers: int = 2) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(workers)
    tokens: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            tokens.append(get_access_token(tenant_id))
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return tokens, errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lock", ["redis", "postgres"])
def test_concurrent_workers_refresh_an_expiring_token_once(sandbox, settings, lock) -> None:
    if lock == "postgres":
        settings.REDIS_URL = ""  # the fallback: a row lock on the installation
    elif not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set")
    tenant = install_in_simulator(sandbox)
    _expire_soon(tenant, minutes=1)
    # A slow token endpoint widens the window in which both workers see the expiring token.
    add_fault(
        sandbox, provider="hubspot", kind="latency", delay_ms=400, path=r"^/oauth/2026-03/token$", count=5
    )
    tokens, errors = _race(tenant.pk, workers=3)
    assert errors == []
    assert len(tokens) == 3
    assert len(set(tokens)) == 1
    assert len(oauth_token_calls(sandbox, "refresh_token")) == 1
    assert HubSpotInstallation.objects.get(tenant=tenant).access_token == tokens[0]


@pytest.mark.django_db
def test_invalid_grant_on_refresh_marks_the_tenant_uninstalled(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    hubspot(sandbox).uninstall(demo.PORTAL_ID)
    _expire_soon(tenant, minutes=1)
    with pytest.raises(HubSpotAuthError):
        get_access_token(tenant)
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.UNINSTALLED
    assert "BAD_REFRESH_TOKEN" in tenant.status_reason
    installation = HubSpotInstallation.objects.get(tenant=tenant)
    assert installation.access_token == ""
    assert installation.refresh_token == ""
    assert installation.expires_at is None
    assert installation.uninstalled_at is not None
    assert "désinstallée" in installation.uninstall_reason
    # Further calls fail fast without asking HubSpot again.
    with pytest.raises(HubSpotAuthError):
        get_access_token(tenant)
    assert len(oauth_token_calls(sandbox, "refresh_token")) == 1


@pytest.mark.django_db(transaction=True)
def test_invalid_grant_under_the_row_lock_is_committed(sandbox, settings) -> None:
    settings.REDIS_URL = ""
    tenant = install_in_simulator(sandbox)
    hubspot(sandbox).uninstall(demo.PORTAL_ID)
    _expire_soon(tenant, minutes=1)
    with pytest.raises(HubSpotAuthError):
        get_access_token(tenant)
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.UNINSTALLED
    assert HubSpotInstallation.objects.get(tenant=tenant).refresh_token == ""


@pytest.mark.django_db
def test_api_401_after_uninstall_is_detected_through_the_refresh(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    hubspot(sandbox).uninstall(demo.PORTAL_ID)  # our access token still looks valid to us
    with pytest.raises(HubSpotAuthError):
        HubSpotClient(tenant).list_properties("deals")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.UNINSTALLED
    assert not HubSpotInstallation.objects.get(tenant=tenant).has_tokens


@pytest.mark.django_db
def test_401_with_a_freshly_refreshed_token_marks_uninstalled(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    add_fault(sandbox, provider="hubspot", status=401, path=r"^/crm/properties/2026-03/deals$", count=2)
    with pytest.raises(HubSpotAuthError):
        HubSpotClient(tenant).list_properties("deals")
    assert len(oauth_token_calls(sandbox, "refresh_token")) == 1  # refreshed once, then gave up
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.UNINSTALLED
    assert "401" in tenant.status_reason


@pytest.mark.django_db
def test_a_single_401_is_healed_by_one_refresh(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    add_fault(sandbox, provider="hubspot", status=401, path=r"^/crm/properties/2026-03/deals$", count=1)
    client = HubSpotClient(tenant)
    assert client.list_properties("deals")
    assert client.calls == 2
    assert Tenant.objects.get(pk=tenant.pk).status == Tenant.Status.INSTALLED


@pytest.mark.django_db
def test_no_installation_raises_auth_error(db) -> None:
    tenant = Tenant.objects.create(portal_id=999)
    with pytest.raises(HubSpotAuthError):
        get_access_token(tenant)
