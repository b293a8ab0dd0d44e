"""The webhook view: verify → record → dedupe → dispatch, and replay of what failed."""

from __future__ import annotations

import json
import time

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from billing.models import StripeEvent, Subscription
from billing.selectors import tenant_can_invoice
from sandbox.core import FaultRule
from tests.billing.stripe_world import WEBHOOK_SECRET, login, signed, subscribe
from tests.factories import TenantFactory

URL = "/billing/stripe/webhook"


def _event(event_id: str = "evt_test_1", type_: str = "customer.created") -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": type_,
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": {"id": "cus_123", "object": "customer"}},
    }


@pytest.fixture
def webhook_settings(settings):  # type: ignore[no-untyped-def]
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return settings


# --- verification, before any write (no simulator needed) -----------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda body: None, id="missing"),
        pytest.param(lambda body: "garbage", id="malformed"),
        pytest.param(lambda body: signed(body, secret="whsec_wrong")[1], id="wrong-secret"),
        pytest.param(lambda body: signed(body, timestamp=int(time.time()) - 301)[1], id="stale-301s"),
        pytest.param(lambda body: signed(body.replace("customer", "customor"))[1], id="tampered-body"),
    ],
)
def test_bad_signatures_are_rejected_before_any_write(client, webhook_settings, make_header):
    body = json.dumps(_event())
    header = make_header(body)
    extra = {"HTTP_STRIPE_SIGNATURE": header} if header else {}
    response = client.post(URL, data=body, content_type="application/json", **extra)
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
def test_timestamp_inside_the_window_is_accepted(client, webhook_settings):
    body, header = signed(_event(), timestamp=int(time.time()) - 250)
    response = client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 200


@pytest.mark.django_db
def test_bad_json_with_a_valid_signature_is_rejected(client, webhook_settings):
    body, header = signed("{not json")
    response = client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


@pytest.mark.django_db
def test_unknown_event_type_is_acknowledged_and_recorded_as_ignored(client, webhook_settings):
    body, header = signed(_event("evt_unknown", "customer.created"))
    response = client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 200
    event = StripeEvent.objects.get(pk="evt_unknown")
    assert event.status == StripeEvent.Status.IGNORED
    assert event.payload["data"]["object"]["id"] == "cus_123"
    assert event.attempts == 1


# --- through the simulator --------------------------------------------------------------------------
@pytest.fixture
def tenant_client(stripe_world):  # type: ignore[no-untyped-def]
    tenant = TenantFactory()
    client = Client()
    login(client, tenant)
    return tenant, client


def test_stale_signature_from_stripe_is_refused(stripe_world, tenant_client):
    stripe_world.sim.configure(webhook_delay_s=400)
    stripe_world.sim.send_event("customer.created", {"id": "cus_x", "object": "customer"})
    stripe_world.flush()
    (delivery,) = stripe_world.sim.deliveries()
    assert delivery["status_code"] == 400
    assert StripeEvent.objects.count() == 0


def test_unknown_event_type_from_stripe(stripe_world, tenant_client):
    event = stripe_world.sim.send_event("charge.refunded", {"id": "ch_1", "object": "charge"})
    stripe_world.flush()
    (delivery,) = stripe_world.sim.deliveries()
    assert delivery["status_code"] == 200
    assert StripeEvent.objects.get(pk=event["id"]).status == StripeEvent.Status.IGNORED


def test_duplicate_events_are_processed_once(stripe_world, tenant_client):
    tenant, client = tenant_client
    stripe_world.sim.configure(webhook_duplicate=True)
    subscribe(client, stripe_world, tenant)

    deliveries = stripe_world.sim.deliveries()
    assert len(deliveries) == 6  # three events, each delivered twice
    assert all(d["status_code"] == 200 for d in deliveries)
    duplicates = [json.loads(d["response_body"]) for d in deliveries if d["duplicate"]]
    assert [d["duplicate"] for d in duplicates] == [True, True, True]
    events = StripeEvent.objects.all()
    assert len(events) == 3
    assert {e.attempts for e in events} == {1}
    # Only the three first deliveries re-read the subscription.
    assert len(stripe_world.requests("GET", "/v1/subscriptions/<object_id>")) == 3


def test_events_out_of_order_after_checkout(stripe_world, tenant_client):
    """invoice.paid and customer.subscription.created before checkout.session.completed."""
    tenant, client = tenant_client
    stripe_world.sim.configure(webhook_order="reverse")
    subscribe(client, stripe_world, tenant)
    assert [d["type"] for d in stripe_world.sim.deliveries()] == [
        "invoice.paid",
        "customer.subscription.created",
        "checkout.session.completed",
    ]
    assert tenant_can_invoice(tenant).allowed


def test_deleted_before_a_late_updated_stays_canceled(stripe_world, tenant_client):
    tenant, client = tenant_client
    row = subscribe(client, stripe_world, tenant)
    sub_id = row.stripe_subscription_id

    # customer.subscription.updated (cancel at period end) cannot be delivered for now...
    stripe_world.sim.configure(webhook_url="http://127.0.0.1:9/unreachable")
    stripe_world.sim.cancel(sub_id, at_period_end=True)
    stripe_world.flush()
    stripe_world.sim.configure(webhook_url=None)
    # ...then the period ends: customer.subscription.deleted arrives first...
    stripe_world.sim.end_period(sub_id)
    stripe_world.flush()
    row.refresh_from_db()
    assert row.status == "canceled"
    # ...and Stripe's retry of the older "updated" (status active in its payload) arrives last.
    (late,) = stripe_world.sim.retry_failed_deliveries()
    stripe_world.flush()
    assert stripe_world.sim.get(late)["type"] == "customer.subscription.updated"
    assert stripe_world.sim.get(late)["data"]["object"]["status"] == "active"
    assert StripeEvent.objects.get(pk=late).status == StripeEvent.Status.PROCESSED
    row.refresh_from_db()
    assert row.status == "canceled"
    decision = tenant_can_invoice(tenant)
    assert not decision.allowed
    assert decision.status == "canceled"


def test_failed_event_is_recorded_answered_500_and_replayed_by_command(stripe_world, tenant_client):
    tenant, client = tenant_client
    row = subscribe(client, stripe_world, tenant)
    # Stripe's API is down (503 on every attempt, retries included) when "deleted" arrives.
    stripe_world.sandbox.faults.add(
        FaultRule(
            provider="stripe", kind="status", status=503, method="GET", path=r"^/v1/subscriptions/", count=3
        )
    )
    stripe_world.sim.cancel(row.stripe_subscription_id, at_period_end=False)
    stripe_world.flush()

    (delivery,) = stripe_world.deliveries(type="customer.subscription.deleted")
    assert delivery["status_code"] == 500
    event = StripeEvent.objects.get(pk=delivery["event_id"])
    assert event.status == StripeEvent.Status.FAILED
    assert "BillingRetryableError" in event.error
    assert "503" in event.error
    assert event.processed_at is None
    assert tenant_can_invoice(tenant).allowed  # not applied yet

    call_command("stripe_replay_events", "--failed")
    event.refresh_from_db()
    assert event.status == StripeEvent.Status.PROCESSED
    assert event.error == ""
    assert event.attempts == 2
    assert Subscription.objects.get(tenant=tenant).status == "canceled"
    assert not tenant_can_invoice(tenant).allowed

    # Replaying by id works on any event and is harmless.
    call_command("stripe_replay_events", "--ids", event.id)
    event.refresh_from_db()
    assert event.attempts == 3
    assert event.status == StripeEvent.Status.PROCESSED
    with pytest.raises(CommandError):
        call_command("stripe_replay_events")
    with pytest.raises(CommandError):
        call_command("stripe_replay_events", "--ids", "evt_does_not_exist")


def test_failed_event_replayed_from_the_admin(stripe_world, tenant_client, admin_client):
    tenant, client = tenant_client
    row = subscribe(client, stripe_world, tenant)
    stripe_world.sandbox.faults.add(
        FaultRule(provider="stripe", kind="status", status=400, method="GET", path=r"^/v1/subscriptions/")
    )
    stripe_world.sim.set_status(row.stripe_subscription_id, "unpaid")
    stripe_world.flush()
    event = StripeEvent.objects.get(type="customer.subscription.updated")
    assert event.status == StripeEvent.Status.FAILED
    assert "BillingPermanentError" in event.error

    changelist = reverse("admin:billing_stripeevent_changelist")
    page = admin_client.get(changelist + "?status__exact=failed")
    assert page.status_code == 200
    assert event.id in page.content.decode()
    assert admin_client.get(reverse("admin:billing_stripeevent_add")).status_code == 403
    response = admin_client.post(changelist, {"action": "replay_events", "_selected_action": [event.id]})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == StripeEvent.Status.PROCESSED
    decision = tenant_can_invoice(tenant)
    assert not decision.allowed
    assert decision.status == "suspended"
