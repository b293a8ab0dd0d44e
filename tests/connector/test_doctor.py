"""connector_doctor: what is misconfigured for a tenant, and a non-zero exit code."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from billing.models import Subscription
from connector.doctor import tenant_diagnose
from connector.models import Deal, QontoConnection, SyncRun, Tenant
from hubspot_app.models import HubSpotInstallation
from tests.factories import HubSpotInstallationFactory, QontoConnectionFactory, TenantFactory

pytestmark = pytest.mark.django_db


def healthy_tenant() -> Tenant:
    tenant = TenantFactory()
    HubSpotInstallationFactory(tenant=tenant, setup_completed_at=timezone.now())
    QontoConnectionFactory(tenant=tenant)
    Subscription.objects.create(
        tenant=tenant,
        stripe_customer_id=f"cus_{tenant.portal_id}",
        stripe_subscription_id=f"sub_{tenant.portal_id}",
        status="active",
        plan="annual",
    )
    SyncRun.objects.create(tenant=tenant, status=SyncRun.Status.SUCCEEDED, started_at=timezone.now())
    return tenant


def run(*args: str) -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("connector_doctor", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def codes(tenant: Tenant) -> list[str]:
    return [f.code for f in tenant_diagnose(tenant)]


def test_healthy_tenant_is_ok_with_exit_zero() -> None:
    tenant = healthy_tenant()
    assert codes(tenant) == []
    out, error = run("--tenant", str(tenant.portal_id))
    assert error is None
    assert f"({tenant.portal_id}): OK" in out


def test_everything_wrong_is_explained() -> None:
    tenant = TenantFactory()
    HubSpotInstallationFactory(tenant=tenant, refresh_token="", access_token="")
    QontoConnectionFactory(tenant=tenant, verified_at=None, iban="", last_error="qonto_auth: clé refusée")
    SyncRun.objects.create(
        tenant=tenant,
        status=SyncRun.Status.FAILED,
        started_at=timezone.now(),
        error="qonto_unavailable: Qonto ne répond pas",
    )
    Deal.objects.create(tenant=tenant, hubspot_deal_id="501", hubspot_deleted_at=timezone.now())
    out, error = run("--tenant", str(tenant.portal_id))
    assert error is not None
    assert error.returncode == 1
    for expected in (
        "no_hubspot_tokens",
        "qonto_not_verified: Connexion Qonto non vérifiée : qonto_auth: clé refusée.",
        "iban_missing",
        "plan_not_active: Abonnement inactif (needs_plan)",
        "last_sync_failed",
        "qonto_unavailable: Qonto ne répond pas",
        "[warning] deals_deleted: Deals supprimés dans HubSpot (plus synchronisés) : 501",
    ):
        assert expected in out, expected
    # Tokens gone: the HubSpot setup is not what to fix first.
    assert "hubspot_setup_incomplete" not in out


def test_setup_never_completed_and_plan_reason() -> None:
    tenant = healthy_tenant()
    HubSpotInstallation.objects.filter(tenant=tenant).update(setup_completed_at=None)
    Subscription.objects.filter(tenant=tenant).update(
        status="past_due", grace_until=timezone.now() - timedelta(days=1)
    )
    found = {f.code: f.message for f in tenant_diagnose(tenant)}
    assert set(found) == {"hubspot_setup_incomplete", "plan_not_active"}
    assert "Paiement échoué" in found["plan_not_active"]


def test_uninstalled_and_suspended_tenants() -> None:
    gone = healthy_tenant()
    Tenant.objects.filter(pk=gone.pk).update(status=Tenant.Status.UNINSTALLED)
    HubSpotInstallation.objects.filter(tenant=gone).update(
        refresh_token="", uninstall_reason="Refresh token refusé (invalid_grant)."
    )
    gone.refresh_from_db()
    assert (
        tenant_diagnose(gone)[0].message
        == "Application désinstallée de HubSpot : Refresh token refusé (invalid_grant)."
    )
    suspended = healthy_tenant()
    Tenant.objects.filter(pk=suspended.pk).update(status=Tenant.Status.SUSPENDED, status_reason="Fraude")
    suspended.refresh_from_db()
    assert codes(suspended) == ["suspended"]


def test_all_tenants_warnings_and_strict() -> None:
    ok = healthy_tenant()
    warned = healthy_tenant()
    Deal.objects.create(tenant=warned, hubspot_deal_id="77", hubspot_deleted_at=timezone.now())
    QontoConnection.objects.filter(tenant=warned).update(last_error="qonto_unavailable: timeout")
    out, error = run()
    assert error is None  # warnings alone do not fail
    assert f"({ok.portal_id}): OK" in out
    assert f"({warned.portal_id}): 2 problem(s)" in out
    _out, error = run("--strict")
    assert error is not None
    assert "1 tenant(s) need attention." in str(error)


def test_skip_uninstalled() -> None:
    healthy_tenant()
    gone = TenantFactory(status=Tenant.Status.UNINSTALLED)
    out, error = run("--skip-uninstalled")
    assert error is None
    assert str(gone.portal_id) not in out


def test_unknown_tenant() -> None:
    _out, error = run("--tenant", "424242424")
    assert error is not None
    assert "No tenant with portal id 424242424." in str(error)
