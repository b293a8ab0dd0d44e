"""``tenant_can_invoice``: every Stripe status, the grace window, cancellation and support suspension."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from billing.models import Subscription
from billing.selectors import BillingDecision, tenant_can_invoice
from connector.models import Tenant

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
GRACE_END = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
PERIOD_END = datetime(2026, 12, 25, 10, 0, tzinfo=UTC)


def _row(tenant: Tenant, status: str, **fields) -> Subscription:
    return Subscription.objects.create(
        tenant=tenant,
        stripe_customer_id=f"cus_{tenant.pk}",
        stripe_subscription_id=f"sub_{tenant.pk}",
        status=status,
        plan=fields.pop("plan", "monthly"),
        current_period_end=fields.pop("current_period_end", PERIOD_END),
        **fields,
    )


@pytest.mark.django_db
def test_no_subscription_needs_a_plan(tenant):
    decision = tenant_can_invoice(tenant, now=NOW)
    assert decision == BillingDecision(
        allowed=False,
        status="needs_plan",
        plan=None,
        until=None,
        message="Aucun abonnement : choisissez une offre pour activer le connecteur.",
    )
    # A customer created for a checkout that was never paid is still "needs a plan".
    Subscription.objects.create(tenant=tenant, stripe_customer_id="cus_1")
    assert tenant_can_invoice(tenant, now=NOW).status == "needs_plan"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stripe_status", "allowed", "status"),
    [
        ("active", True, "active"),
        ("trialing", True, "active"),
        ("incomplete", False, "pending_payment"),
        ("incomplete_expired", False, "canceled"),
        ("canceled", False, "canceled"),
        ("unpaid", False, "suspended"),
        ("paused", False, "suspended"),
        ("something_new", False, "suspended"),
    ],
)
def test_each_stripe_status(tenant, stripe_status, allowed, status):
    _row(tenant, stripe_status)
    decision = tenant_can_invoice(tenant, now=NOW)
    assert (decision.allowed, decision.status, decision.plan) == (allowed, status, "monthly")
    assert decision.message


@pytest.mark.django_db
def test_past_due_inside_and_after_grace(tenant):
    _row(tenant, "past_due", grace_until=GRACE_END)
    with translation.override("fr"):
        inside = tenant_can_invoice(tenant, now=NOW)
    assert inside == BillingDecision(
        True,
        "grace",
        "monthly",
        GRACE_END,
        "Paiement échoué : le connecteur reste actif jusqu'au 2 décembre 2026.",
    )
    with translation.override("en"):
        english = tenant_can_invoice(tenant, now=NOW)
    assert english.message == "Payment failed: the connector keeps working until 2 December 2026."
    after = tenant_can_invoice(tenant, now=GRACE_END)
    assert (after.allowed, after.status, after.until) == (False, "suspended", GRACE_END)


@pytest.mark.django_db
def test_cancel_at_period_end(tenant):
    _row(tenant, "active", cancel_at_period_end=True, plan="annual")
    before = tenant_can_invoice(tenant, now=PERIOD_END - timedelta(seconds=1))
    assert (before.allowed, before.status, before.plan, before.until) == (
        True,
        "active",
        "annual",
        PERIOD_END,
    )
    assert before.message == "Abonnement résilié : le connecteur reste actif jusqu'au 25 décembre 2026."
    after = tenant_can_invoice(tenant, now=PERIOD_END)
    assert (after.allowed, after.status) == (False, "canceled")


@pytest.mark.django_db
def test_support_suspension_wins_over_a_paid_subscription(tenant):
    _row(tenant, "active")
    tenant.status = Tenant.Status.SUSPENDED
    tenant.save()
    decision = tenant_can_invoice(tenant, now=NOW)
    assert (decision.allowed, decision.status) == (False, "suspended")
    assert "support" in decision.message


@pytest.mark.django_db
def test_uninstalled_tenant_cannot_invoice(tenant):
    _row(tenant, "active")
    tenant.status = Tenant.Status.UNINSTALLED
    tenant.save()
    assert not tenant_can_invoice(tenant, now=NOW).allowed


@pytest.mark.django_db
def test_decision_is_frozen_and_serialisable(tenant):
    _row(tenant, "past_due", grace_until=GRACE_END)
    decision = tenant_can_invoice(tenant, now=NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.allowed = False  # type: ignore[misc]
    assert decision.as_json() == {
        "allowed": True,
        "status": "grace",
        "plan": "monthly",
        "until": "2026-12-02T10:00:00+00:00",
        "message": "Paiement échoué : le connecteur reste actif jusqu'au 2 décembre 2026.",
    }
