"""Renewal failures, grace, cancellation: Stripe's lifecycle as ``tenant_can_invoice`` sees it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import Subscription
from billing.selectors import tenant_can_invoice
from tests.billing.stripe_world import login, subscribe
from tests.factories import TenantFactory


@pytest.fixture
def subscribed(stripe_world):  # type: ignore[no-untyped-def]
    tenant = TenantFactory()
    client = Client()
    login(client, tenant)
    row = subscribe(client, stripe_world, tenant)
    return tenant, client, row


def test_past_due_grace_then_suspended_on_time_then_recovered(stripe_world, subscribed):
    tenant, client, row = subscribed
    before = timezone.now()
    stripe_world.sim.fail_payment(row.stripe_subscription_id)
    stripe_world.flush()
    after = timezone.now()

    row.refresh_from_db()
    assert row.status == "past_due"
    assert before + timedelta(days=7) <= row.grace_until <= after + timedelta(days=7)
    grace_until = row.grace_until

    decision = tenant_can_invoice(tenant)
    assert decision.allowed
    assert decision.status == "grace"
    assert decision.until == grace_until
    assert decision.message.startswith("Paiement échoué : le connecteur reste actif jusqu'au ")
    # Six days later: still working. One second after the grace end: suspended.
    assert tenant_can_invoice(tenant, now=before + timedelta(days=6)).allowed
    assert tenant_can_invoice(tenant, now=grace_until - timedelta(seconds=1)).status == "grace"
    late = tenant_can_invoice(tenant, now=grace_until + timedelta(seconds=1))
    assert not late.allowed
    assert late.status == "suspended"
    assert "suspendu" in late.message

    # Stripe's next attempt fails again: the window is not extended.
    stripe_world.sim.fail_payment(row.stripe_subscription_id)
    stripe_world.flush()
    row.refresh_from_db()
    assert row.grace_until == grace_until

    overview = client.get("/billing/").content.decode()
    assert 'id="billing-grace"' in overview

    # The customer pays: active again, grace cleared.
    stripe_world.sim.renew(row.stripe_subscription_id)
    stripe_world.flush()
    row.refresh_from_db()
    assert row.status == "active"
    assert row.grace_until is None
    assert tenant_can_invoice(tenant, now=grace_until + timedelta(days=1)).allowed


def test_unpaid_after_retries_is_suspended(stripe_world, subscribed):
    tenant, _client, row = subscribed
    stripe_world.sim.mark_unpaid(row.stripe_subscription_id)
    stripe_world.flush()
    decision = tenant_can_invoice(tenant)
    assert not decision.allowed
    assert decision.status == "suspended"


def test_cancel_at_period_end_works_until_the_end(stripe_world, subscribed):
    tenant, client, row = subscribed
    stripe_world.sim.cancel(row.stripe_subscription_id, at_period_end=True)
    stripe_world.flush()
    row.refresh_from_db()
    assert row.cancel_at_period_end is True
    period_end = row.current_period_end
    assert period_end > timezone.now() + timedelta(days=27)

    decision = tenant_can_invoice(tenant)
    assert decision.allowed
    assert decision.status == "active"
    assert decision.until == period_end
    assert decision.message.startswith("Abonnement résilié : le connecteur reste actif jusqu'au ")
    assert tenant_can_invoice(tenant, now=period_end - timedelta(seconds=1)).allowed
    ended = tenant_can_invoice(tenant, now=period_end + timedelta(seconds=1))
    assert not ended.allowed
    assert ended.status == "canceled"
    overview = client.get("/billing/").content.decode()
    assert "Se termine le" in overview

    # At the period end Stripe deletes it.
    stripe_world.sim.end_period(row.stripe_subscription_id)
    stripe_world.flush()
    row.refresh_from_db()
    assert row.status == "canceled"
    decision = tenant_can_invoice(tenant)
    assert not decision.allowed
    assert decision.status == "canceled"
    # A canceled tenant may subscribe again.
    assert 'id="choose-monthly"' in client.get("/billing/plans").content.decode()


def test_resubscribing_after_cancel_follows_the_new_subscription(stripe_world, subscribed):
    tenant, client, row = subscribed
    old_sub = row.stripe_subscription_id
    stripe_world.sim.cancel(old_sub, at_period_end=False)
    stripe_world.flush()
    new_row = subscribe(client, stripe_world, tenant, "annual")
    assert new_row.stripe_subscription_id != old_sub
    assert new_row.stripe_customer_id == row.stripe_customer_id  # the customer is reused

    # A late event about the old, canceled subscription does not take over.
    stripe_world.sim.send_event("customer.subscription.updated", stripe_world.sim.get(old_sub))
    stripe_world.flush()
    assert stripe_world.sim.deliveries()[-1]["status_code"] == 200
    current = Subscription.objects.get(tenant=tenant)
    assert current.stripe_subscription_id == new_row.stripe_subscription_id
    assert current.status == "active"
    assert current.plan == "annual"
