"""The Stripe simulator, driven through the real stripe 16.1.0 SDK, the hosted pages and a local
webhook receiver that verifies every signature with ``stripe.Webhook.construct_event``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import pytest
import requests
import stripe
from werkzeug.serving import make_server

from sandbox.core import Sandbox, SandboxConfig
from sandbox.demo import (
    STRIPE_PRICE_ANNUAL,
    STRIPE_PRICE_MONTHLY,
    STRIPE_PRODUCT_ID,
)
from sandbox.server import SandboxApp
from sandbox.stripe_sim import API_VERSION, StripeSim, add_interval, parse_stripe_params
from sandbox.testing import RunningSandbox, start_sandbox

SECRET = "whsec_sandbox_secret"


class WebhookReceiver:
    """A tiny HTTP server standing in for our product's webhook view."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    status = receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/billing/stripe/webhook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.status = 200

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.received)

    def events(self, tolerance: int | None = 300) -> list[stripe.Event]:
        """Every received event, signature-verified like our webhook view does."""
        return [
            stripe.Webhook.construct_event(
                r["body"], r["headers"]["Stripe-Signature"], SECRET, tolerance=cast(int, tolerance)
            )
            for r in self.bodies()
        ]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _start(config: SandboxConfig) -> RunningSandbox:
    try:
        return start_sandbox(config)
    except ModuleNotFoundError as exc:  # a sibling simulator not written yet: Stripe alone
        if exc.name not in ("sandbox.hubspot", "sandbox.qonto"):
            raise
    sandbox = Sandbox(config)
    sandbox.register(StripeSim(sandbox))
    sandbox.seed_demo()
    server = make_server(config.host, config.port, SandboxApp(sandbox), threaded=True)
    config.port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return RunningSandbox(sandbox=sandbox, server=server, thread=thread)


@pytest.fixture(scope="module")
def receiver() -> Iterator[WebhookReceiver]:
    rec = WebhookReceiver()
    yield rec
    rec.stop()


@pytest.fixture(scope="module")
def running(receiver: WebhookReceiver) -> Iterator[RunningSandbox]:
    run = _start(SandboxConfig(port=0, stripe_webhook_url=receiver.url))
    yield run
    run.stop()


@pytest.fixture
def sim(running: RunningSandbox, receiver: WebhookReceiver) -> StripeSim:
    running.sandbox.reset()
    receiver.clear()
    return running.provider("stripe")


@pytest.fixture
def client(running: RunningSandbox, sim: StripeSim) -> stripe.StripeClient:
    return stripe.StripeClient(
        running.sandbox.config.stripe_secret_key,
        base_addresses={"api": f"{running.url}/stripe"},
        max_network_retries=0,
    )


def _customer(client: stripe.StripeClient, portal_id: str = "12345678") -> stripe.Customer:
    return client.v1.customers.create(
        {"email": "admin@agence-demo.fr", "name": "Agence Démo SAS", "metadata": {"portal_id": portal_id}}
    )


def _checkout(
    client: stripe.StripeClient,
    customer_id: str,
    price: str = STRIPE_PRICE_MONTHLY,
    portal_id: str = "12345678",
) -> stripe.checkout.Session:
    """The exact §2 parameters of the product."""
    base = "http://127.0.0.1:8000"
    return client.v1.checkout.sessions.create(
        {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": 1}],
            "customer": customer_id,
            "customer_update": {"name": "auto", "address": "auto"},
            "client_reference_id": f"hubspot-portal-{portal_id}",
            "subscription_data": {"metadata": {"portal_id": portal_id}},
            "success_url": f"{base}/billing/return?session_id={{CHECKOUT_SESSION_ID}}",
            "cancel_url": f"{base}/billing/plans",
            "automatic_tax": {"enabled": True},
            "tax_id_collection": {"enabled": True, "required": "if_supported"},
            "locale": "fr",
        },
        {"idempotency_key": f"checkout:{portal_id}:{price}:{customer_id}"},
    )


def _paid_subscription(
    client: stripe.StripeClient, sim: StripeSim, price: str = STRIPE_PRICE_MONTHLY
) -> stripe.Subscription:
    customer = _customer(client)
    session = _checkout(client, customer.id, price)
    sim.complete_checkout(session.id, name="Agence Démo SAS")
    assert sim.flush()
    sub_id = client.v1.checkout.sessions.retrieve(session.id).subscription
    assert isinstance(sub_id, str)
    return client.v1.subscriptions.retrieve(sub_id)


def _prev(event: stripe.Event) -> dict[str, Any]:
    previous = event.data.previous_attributes
    assert previous is not None
    return previous.to_dict()


def _types(receiver: WebhookReceiver) -> list[str]:
    return [e.type for e in receiver.events()]


# --- SDK plumbing ---------------------------------------------------------------------------------


def test_base_address_with_path_reaches_the_stripe_prefix(
    running: RunningSandbox, client: stripe.StripeClient
) -> None:
    customer = _customer(client)
    paths = [(e.method, e.path) for e in running.sandbox.log.entries("stripe")]
    assert ("POST", "/v1/customers") in paths  # i.e. /stripe/v1/customers on the wire
    assert customer.id.startswith("cus_")
    assert customer.object == "customer"
    assert customer.livemode is False
    assert customer.to_dict()["metadata"] == {"portal_id": "12345678"}
    assert customer.name == "Agence Démo SAS"

    again = client.v1.customers.retrieve(customer.id)
    assert again.email == "admin@agence-demo.fr"
    updated = client.v1.customers.update(customer.id, {"metadata": {"plan": "monthly"}, "name": "ACME SAS"})
    assert updated.to_dict()["metadata"] == {"portal_id": "12345678", "plan": "monthly"}
    assert updated.name == "ACME SAS"
    found = client.v1.customers.list({"email": "admin@agence-demo.fr"})
    assert [c.id for c in found.data] == [customer.id]
    assert client.v1.customers.list({"email": "nobody@example.com"}).data == []
    hits = client.v1.customers.search({"query": "metadata['portal_id']:'12345678'"})
    assert [c.id for c in hits.data] == [customer.id]


def test_auth_failure_and_basic_auth(running: RunningSandbox) -> None:
    bad = stripe.StripeClient("sk_test_wrong_key_0000", base_addresses={"api": f"{running.url}/stripe"})
    with pytest.raises(stripe.AuthenticationError) as info:
        bad.v1.customers.list()
    assert info.value.http_status == 401
    error = cast(dict[str, Any], info.value.json_body)["error"]
    assert error["type"] == "invalid_request_error"
    assert "Invalid API Key" in error["message"]
    anonymous = requests.get(f"{running.url}/stripe/v1/customers", timeout=5)
    assert anonymous.status_code == 401
    basic = requests.get(f"{running.url}/stripe/v1/customers", auth=("sk_test_sandbox", ""), timeout=5)
    assert basic.status_code == 200
    assert basic.json()["object"] == "list"


def test_prices_and_product(client: stripe.StripeClient) -> None:
    annual = client.v1.prices.list({"lookup_keys": ["connector_annual"]})
    assert [p.id for p in annual.data] == [STRIPE_PRICE_ANNUAL]
    price = annual.data[0]
    assert price.unit_amount == 39000
    assert price.currency == "eur"
    assert price.recurring is not None
    assert price.recurring.interval == "year"
    assert price.tax_behavior == "exclusive"
    both = client.v1.prices.list({"product": STRIPE_PRODUCT_ID, "active": True})
    assert {p.lookup_key for p in both.data} == {"connector_monthly", "connector_annual"}
    monthly = client.v1.prices.retrieve(STRIPE_PRICE_MONTHLY)
    assert (monthly.unit_amount, monthly.lookup_key) == (3900, "connector_monthly")
    assert client.v1.products.retrieve(STRIPE_PRODUCT_ID).name == "Qonto Connector"


def test_unknown_ids_are_404_invalid_request(client: stripe.StripeClient) -> None:
    for call in (
        lambda: client.v1.customers.retrieve("cus_missing"),
        lambda: client.v1.subscriptions.retrieve("sub_missing"),
        lambda: client.v1.checkout.sessions.retrieve("cs_test_missing"),
        lambda: client.v1.invoices.retrieve("in_missing"),
        lambda: client.v1.events.retrieve("evt_missing"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as info:
            call()
        assert info.value.http_status == 404
        assert info.value.code == "resource_missing"


def test_checkout_session_with_the_product_parameters(
    running: RunningSandbox, client: stripe.StripeClient
) -> None:
    customer = _customer(client)
    session = _checkout(client, customer.id)
    assert session.id.startswith("cs_test_")
    assert session.url == f"{running.url}/stripe/checkout/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "subscription")
    assert session.customer == customer.id
    assert session.client_reference_id == "hubspot-portal-12345678"
    assert session.subscription is None
    assert session.automatic_tax.enabled is True
    assert session.tax_id_collection is not None
    assert session.tax_id_collection.enabled is True
    assert session.success_url == "http://127.0.0.1:8000/billing/return?session_id={CHECKOUT_SESSION_ID}"
    # The SDK sent bracket notation; the sim parsed it into the nested structure.
    logged = [e for e in running.sandbox.log.entries("stripe") if e.path == "/v1/checkout/sessions"][-1]
    assert logged.body["subscription_data[metadata][portal_id]"] == "12345678"
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [(i.price.id if i.price else None, i.quantity, i.amount_subtotal) for i in items.data] == [
        (STRIPE_PRICE_MONTHLY, 1, 3900)
    ]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"customer": None}, "customer_update"),  # customer_update without customer
        ({"client_reference_id": "x" * 201}, "client_reference_id"),
        ({"line_items": [{"price": "price_missing", "quantity": 1}]}, "line_items[0][price]"),
        ({"success_url": None}, "success_url"),
        ({"mode": "payment"}, "mode"),
        ({"customer_update": {"address": "auto"}}, "tax_id_collection[enabled]"),  # needs name=auto
        ({"payment_method_types": ["card"]}, "payment_method_types"),
    ],
)
def test_checkout_validation(client: stripe.StripeClient, change: dict[str, Any], param: str) -> None:
    customer = _customer(client)
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": STRIPE_PRICE_MONTHLY, "quantity": 1}],
        "customer": customer.id,
        "customer_update": {"name": "auto", "address": "auto"},
        "success_url": "http://127.0.0.1:8000/billing/return?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://127.0.0.1:8000/billing/plans",
        "automatic_tax": {"enabled": True},
        "tax_id_collection": {"enabled": True},
    }
    params.update(change)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params)  # type: ignore[arg-type]
    assert info.value.http_status == 400
    assert info.value.param == param


def test_idempotency_replay_and_mismatch(running: RunningSandbox, client: stripe.StripeClient) -> None:
    first = client.v1.customers.create({"email": "a@example.fr"}, {"idempotency_key": "key-1"})
    second = client.v1.customers.create({"email": "a@example.fr"}, {"idempotency_key": "key-1"})
    assert first.id == second.id
    assert len(client.v1.customers.list().data) == 1
    raw = requests.post(
        f"{running.url}/stripe/v1/customers",
        data={"email": "a@example.fr"},
        headers={"Authorization": "Bearer sk_test_sandbox", "Idempotency-Key": "key-1"},
        timeout=5,
    )
    assert raw.headers["Idempotent-Replayed"] == "true"
    assert raw.json()["id"] == first.id
    with pytest.raises(stripe.IdempotencyError) as info:
        client.v1.customers.create({"email": "b@example.fr"}, {"idempotency_key": "key-1"})
    assert info.value.http_status == 400
    # A failed validation is not saved: the same key may be used again with valid parameters.
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.create({"tax_exempt": "maybe"}, {"idempotency_key": "key-2"})
    assert (
        client.v1.customers.create({"email": "c@example.fr"}, {"idempotency_key": "key-2"}).email
        == "c@example.fr"
    )


# --- hosted checkout and webhooks -----------------------------------------------------------------


def test_pay_through_the_hosted_page(
    running: RunningSandbox, client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    customer = _customer(client)
    session = _checkout(client, customer.id)
    assert session.url is not None
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200
    for fragment in (
        'id="pay-button"',
        'id="decline-button"',
        "39,00 €",  # price excl. VAT
        "7,80 €",  # 20 % TVA
        "46,80 €",  # total
        'value="admin@agence-demo.fr"',
        'name="vat_number"',
        'href="http://127.0.0.1:8000/billing/plans"',
    ):
        assert fragment in page.text
    started = sim.clock.epoch()
    answer = requests.post(
        session.url,
        data={
            "action": "pay",
            "email": "admin@agence-demo.fr",
            "name": "Agence Démo SAS",
            "vat_number": "FR40303265045",
        },
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"http://127.0.0.1:8000/billing/return?session_id={session.id}"
    assert sim.flush()

    events = receiver.events()
    assert [e.type for e in events] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    assert all(
        e.api_version == API_VERSION and e.livemode is False and e.id.startswith("evt_") for e in events
    )
    headers = receiver.bodies()[0]["headers"]
    assert headers["Content-Type"].startswith("application/json")
    assert receiver.bodies()[0]["path"] == "/billing/stripe/webhook"

    completed = events[0].data.object
    sub_id = completed["subscription"]
    assert sub_id.startswith("sub_")
    assert completed["status"] == "complete"
    assert completed["payment_status"] == "paid"
    assert completed["customer"] == customer.id
    assert completed["client_reference_id"] == "hubspot-portal-12345678"
    assert completed["amount_total"] == 4680
    assert completed["total_details"]["amount_tax"] == 780
    assert completed["customer_details"]["tax_ids"][0]["value"] == "FR40303265045"

    sub = events[1].data.object
    assert sub["id"] == sub_id
    assert sub["status"] == "active"
    assert sub["cancel_at_period_end"] is False
    assert sub["metadata"]["portal_id"] == "12345678"
    item = sub["items"].data[0]
    assert item["id"].startswith("si_")
    assert item["price"]["id"] == STRIPE_PRICE_MONTHLY
    assert item["price"]["lookup_key"] == "connector_monthly"
    assert item["price"]["recurring"]["interval"] == "month"
    assert item["current_period_start"] >= started
    assert item["current_period_end"] == add_interval(item["current_period_start"], "month")
    assert "current_period_end" not in sub  # gone from Subscription since basil

    invoice = events[2].data.object
    assert invoice["id"] == sub["latest_invoice"]
    assert invoice["id"].startswith("in_")
    assert invoice["parent"]["subscription_details"]["subscription"] == sub_id
    assert invoice["parent"]["subscription_details"]["metadata"]["portal_id"] == "12345678"
    assert (invoice["status"], invoice["amount_due"], invoice["amount_paid"]) == ("paid", 4680, 4680)
    assert invoice["attempt_count"] == 1
    assert invoice["next_payment_attempt"] is None
    assert invoice["hosted_invoice_url"].startswith(f"{running.url}/stripe/invoice/")

    # The API agrees with the webhooks; the customer took the name entered in Checkout.
    again = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["subscription"]})
    assert again.status == "complete"
    assert isinstance(again.subscription, stripe.Subscription)
    assert again.subscription.id == sub_id
    assert again.subscription["items"].data[0].current_period_end == item["current_period_end"]
    assert client.v1.customers.retrieve(customer.id).address is not None
    assert [s.id for s in client.v1.subscriptions.list({"customer": customer.id}).data] == [sub_id]
    fetched = client.v1.invoices.retrieve(invoice["id"])
    assert fetched.parent is not None
    assert fetched.parent.subscription_details is not None
    assert fetched.parent.subscription_details.subscription == sub_id
    listed = client.v1.events.list({"limit": 2})
    assert [e.type for e in listed.data] == ["invoice.paid", "customer.subscription.created"]
    assert [e.type for e in listed.auto_paging_iter()] == [e.type for e in reversed(events)]
    assert all(d["ok"] and d["status_code"] == 200 for d in sim.deliveries())
    # The page of a completed session no longer offers to pay.
    assert 'id="pay-button"' not in requests.get(session.url, timeout=5).text


def test_reverse_order_switch(client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver) -> None:
    sim.configure(webhook_order="reverse")
    _paid_subscription(client, sim)
    assert _types(receiver) == ["invoice.paid", "customer.subscription.created", "checkout.session.completed"]


def test_declined_card_creates_nothing(
    client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    customer = _customer(client)
    session = _checkout(client, customer.id)
    assert session.url is not None
    answer = requests.post(session.url, data={"action": "decline"}, allow_redirects=False, timeout=5)
    assert answer.status_code == 200
    assert "Votre carte a été refusée." in answer.text
    assert 'id="pay-button"' in answer.text
    assert sim.flush()
    time.sleep(0.05)
    assert receiver.bodies() == []
    again = client.v1.checkout.sessions.retrieve(session.id)
    assert (again.status, again.payment_status, again.subscription) == ("open", "unpaid", None)
    assert client.v1.subscriptions.list({"customer": customer.id}).data == []
    assert client.v1.events.list().data == []


# --- subscription changes -------------------------------------------------------------------------


def test_plan_switch_through_the_api(
    client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    sub = _paid_subscription(client, sim)
    receiver.clear()
    item = sub["items"].data[0]
    updated = client.v1.subscriptions.update(
        sub.id,
        {"items": [{"id": item.id, "price": STRIPE_PRICE_ANNUAL}], "proration_behavior": "always_invoice"},
    )
    new_item = updated["items"].data[0]
    assert new_item.price.id == STRIPE_PRICE_ANNUAL
    assert new_item.price.recurring is not None
    assert new_item.price.recurring.interval == "year"
    assert new_item.current_period_end == add_interval(new_item.current_period_start, "year")
    assert updated.latest_invoice != sub.latest_invoice
    assert sim.flush()
    events = receiver.events()
    assert [e.type for e in events] == ["customer.subscription.updated", "invoice.paid"]
    previous = events[0].data.previous_attributes
    assert previous is not None
    assert previous["items"]["data"][0]["price"]["id"] == STRIPE_PRICE_MONTHLY
    invoice = events[1].data.object
    assert invoice["billing_reason"] == "subscription_update"
    # 390 € for the year minus (almost) a whole unused month of 39 €, plus 20 % VAT.
    assert invoice["subtotal"] == 39000 - 3900
    assert invoice["amount_paid"] == round((39000 - 3900) * 1.2)

    meta = client.v1.subscriptions.update(sub.id, {"metadata": {"note": "vip"}})
    assert meta.metadata.to_dict() == {"portal_id": "12345678", "note": "vip"}


def test_billing_portal(
    running: RunningSandbox, client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    sub = _paid_subscription(client, sim, STRIPE_PRICE_ANNUAL)
    receiver.clear()
    portal = client.v1.billing_portal.sessions.create(
        {"customer": cast(str, sub.customer), "return_url": "http://127.0.0.1:8000/billing"}
    )
    assert portal.id.startswith("bps_")
    assert portal.url == f"{running.url}/stripe/portal/{portal.id}"
    page = requests.get(portal.url, timeout=5).text
    assert 'id="plan">Annuel' in page
    assert 'id="switch-to-connector_monthly"' in page
    assert 'id="return-link" href="http://127.0.0.1:8000/billing"' in page

    # Annual → monthly waits for the end of the paid year (a schedule).
    done = requests.post(portal.url, data={"action": "switch", "price": STRIPE_PRICE_MONTHLY}, timeout=5)
    assert "Passage à la formule Mensuel" in done.text
    assert sim.flush()
    switched = receiver.events()[-1]
    assert switched.type == "customer.subscription.updated"
    assert switched.data.object["schedule"].startswith("sub_sched_")
    assert switched.data.object["items"]["data"][0]["price"]["id"] == STRIPE_PRICE_ANNUAL

    # Cancel at period end, then the year ends: canceled, not renewed on the monthly price.
    requests.post(portal.url, data={"action": "cancel"}, timeout=5)
    assert sim.flush()
    canceled = receiver.events()[-1]
    assert canceled.type == "customer.subscription.updated"
    assert canceled.data.object["cancel_at_period_end"] is True
    assert canceled.data.object["cancel_at"] == sub["items"].data[0].current_period_end
    assert _prev(canceled)["cancel_at_period_end"] is False
    assert 'id="renew-button"' in requests.get(portal.url, timeout=5).text


def test_dunning_sequence(client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver) -> None:
    sub = _paid_subscription(client, sim)
    first_end = sub["items"].data[0].current_period_end
    receiver.clear()

    failed = sim.fail_payment(sub.id)
    assert sim.flush()
    assert _types(receiver) == ["customer.subscription.updated", "invoice.payment_failed"]
    updated, payment_failed = receiver.events()
    assert updated.data.object["status"] == "past_due"
    assert _prev(updated)["status"] == "active"
    assert updated.data.object["items"]["data"][0]["current_period_start"] == first_end
    invoice = payment_failed.data.object
    assert invoice["id"] == failed["id"]
    assert (invoice["status"], invoice["attempt_count"], invoice["amount_paid"]) == ("open", 1, 0)
    assert invoice["next_payment_attempt"] is not None
    assert invoice["billing_reason"] == "subscription_cycle"
    assert invoice["parent"]["subscription_details"]["subscription"] == sub.id
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"

    receiver.clear()
    sim.fail_payment(sub.id)  # Stripe retries: same invoice, one more attempt, status unchanged
    assert sim.flush()
    events = receiver.events()
    assert [e.type for e in events] == ["invoice.payment_failed"]
    assert events[0].data.object["attempt_count"] == 2

    receiver.clear()
    sim.renew(sub.id)  # a retry succeeds
    assert sim.flush()
    assert _types(receiver) == ["customer.subscription.updated", "invoice.paid"]
    updated, paid = receiver.events()
    assert updated.data.object["status"] == "active"
    assert _prev(updated)["status"] == "past_due"
    assert (paid.data.object["id"], paid.data.object["status"]) == (failed["id"], "paid")
    assert paid.data.object["attempt_count"] == 3

    receiver.clear()
    sim.mark_unpaid(sub.id)  # the next renewal fails and retries run out
    assert sim.flush()
    assert _types(receiver) == [
        "customer.subscription.updated",
        "invoice.payment_failed",
        "customer.subscription.updated",
    ]
    assert receiver.events()[-1].data.object["status"] == "unpaid"
    assert client.v1.subscriptions.retrieve(sub.id).status == "unpaid"


def test_cancel_and_end_period(
    client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    sub = _paid_subscription(client, sim)
    period_end = sub["items"].data[0].current_period_end
    receiver.clear()

    sim.end_period(sub.id)  # no cancellation: renews
    assert sim.flush()
    assert _types(receiver) == ["customer.subscription.updated", "invoice.paid"]
    renewed = client.v1.subscriptions.retrieve(sub.id)
    assert renewed["items"].data[0].current_period_start == period_end
    assert renewed["items"].data[0].current_period_end == add_interval(period_end, "month")
    new_end = renewed["items"].data[0].current_period_end

    receiver.clear()
    sim.cancel(sub.id, at_period_end=True)
    sim.end_period(sub.id)
    assert sim.flush()
    assert _types(receiver) == ["customer.subscription.updated", "customer.subscription.deleted"]
    deleted = receiver.events()[-1].data.object
    assert (deleted["status"], deleted["ended_at"], deleted["cancel_at_period_end"]) == (
        "canceled",
        new_end,
        True,
    )
    assert deleted["canceled_at"] is not None
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    assert client.v1.subscriptions.list({"customer": cast(str, sub.customer)}).data == []

    other = _paid_subscription(client, sim)
    receiver.clear()
    sim.cancel(other.id, at_period_end=False)
    assert sim.flush()
    assert _types(receiver) == ["customer.subscription.deleted"]
    assert receiver.events()[0].data.object["status"] == "canceled"

    third = _paid_subscription(client, sim)
    receiver.clear()
    canceled = client.v1.subscriptions.cancel(third.id)
    assert canceled.status == "canceled"
    assert sim.flush()
    assert _types(receiver) == ["customer.subscription.deleted"]


# --- delivery switches ----------------------------------------------------------------------------


def test_delayed_webhooks_fail_the_signature_tolerance(
    client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    sim.configure(webhook_delay_s=600)
    _paid_subscription(client, sim)
    first = receiver.bodies()[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(first["body"], first["headers"]["Stripe-Signature"], SECRET)
    # The signature itself is right: only its age fails.
    assert len(receiver.events(tolerance=None)) == 3
    stamp = int(first["headers"]["Stripe-Signature"].split(",")[0][2:])
    assert time.time() - stamp >= 599
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(first["body"], first["headers"]["Stripe-Signature"], "whsec_wrong")


def test_duplicate_mode_sends_each_event_twice(
    client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    sim.configure(webhook_duplicate=True)
    _paid_subscription(client, sim)
    ids = [e.id for e in receiver.events()]
    assert len(ids) == 6
    assert ids[0] == ids[1]
    assert ids[2] == ids[3]
    assert ids[4] == ids[5]
    assert len(set(ids)) == 3
    assert [d["duplicate"] for d in sim.deliveries()] == [False, True] * 3


def test_failed_deliveries_are_recorded_and_retried(
    running: RunningSandbox, client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    receiver.status = 500
    _paid_subscription(client, sim)
    deliveries = sim.deliveries()
    assert [(d["status_code"], d["ok"]) for d in deliveries] == [(500, False)] * 3
    assert deliveries[0]["url"] == receiver.url
    missed = client.v1.events.list({"delivery_success": False})
    assert len(missed.data) == 3

    receiver.clear()
    answer = requests.post(f"{running.url}/_sim/stripe/webhooks/retry", timeout=5)
    assert len(answer.json()["retried"]) == 3
    assert sim.flush()
    assert len(receiver.events()) == 3
    assert [d["attempt"] for d in sim.deliveries()[3:]] == [2, 2, 2]
    assert client.v1.events.list({"delivery_success": False}).data == []
    listed = requests.get(f"{running.url}/_sim/stripe/deliveries", timeout=5).json()["deliveries"]
    assert len(listed) == 6

    # Our product being down: a connection error, recorded, nothing blocks.
    sim.configure(webhook_url="http://127.0.0.1:9/unreachable")
    event = sim.send_event("customer.subscription.trial_will_end", {"id": "sub_x", "object": "subscription"})
    assert sim.flush()
    last = sim.deliveries(event["id"])[-1]
    assert last["ok"] is False
    assert last["status_code"] is None
    assert "ConnectionError" in last["error"]


def test_resend_and_raw_events(sim: StripeSim, receiver: WebhookReceiver) -> None:
    event = sim.send_event("invoice.payment_action_required", {"id": "in_x", "object": "invoice"})
    sim.resend(event["id"])
    assert sim.flush()
    events = receiver.events()
    assert [e.id for e in events] == [event["id"], event["id"]]
    assert events[0].type == "invoice.payment_action_required"
    raw = json.loads(receiver.bodies()[0]["body"])
    assert raw["request"] == {"id": None, "idempotency_key": None}
    assert raw["pending_webhooks"] == 1


def test_paused_webhooks_wait_for_release(
    client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    sim.configure(webhooks_paused=True)
    customer = _customer(client)
    session = _checkout(client, customer.id)
    sim.complete_checkout(session.id)
    assert sim.flush(timeout=0.2) is False
    assert receiver.bodies() == []
    assert client.v1.checkout.sessions.retrieve(session.id).status == "complete"  # the return view can sync
    sim.configure(webhooks_paused=False)
    assert sim.flush()
    assert len(receiver.bodies()) == 3


# --- control API over HTTP ------------------------------------------------------------------------


def test_control_routes(
    running: RunningSandbox, client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    base = f"{running.url}/_sim/stripe"
    customer = _customer(client)
    session = _checkout(client, customer.id)
    declined = requests.post(f"{base}/checkout/{session.id}/decline", timeout=5)
    assert declined.json()["status"] == "open"
    paid = requests.post(f"{base}/checkout/{session.id}/pay", json={"vat_number": "BE0123456789"}, timeout=5)
    assert paid.status_code == 200
    body = paid.json()
    assert body["status"] == "complete"
    assert body["total_details"]["amount_tax"] == 0  # EU reverse charge
    assert requests.post(f"{base}/checkout/{session.id}/pay", timeout=5).status_code == 409
    sub_id = body["subscription"]
    assert requests.post(f"{base}/subscriptions/{sub_id}/fail_payment", timeout=5).json()["status"] == "open"
    assert requests.post(f"{base}/subscriptions/{sub_id}/renew", timeout=5).json()["status"] == "active"
    status = requests.post(f"{base}/subscriptions/{sub_id}/status", json={"status": "paused"}, timeout=5)
    assert status.json()["status"] == "paused"
    assert (
        requests.post(f"{base}/subscriptions/{sub_id}/status", json={"status": "nope"}, timeout=5).status_code
        == 400
    )
    cancel = requests.post(f"{base}/subscriptions/{sub_id}/cancel", json={"at_period_end": False}, timeout=5)
    assert cancel.json()["status"] == "canceled"
    assert requests.post(f"{base}/subscriptions/sub_missing/renew", timeout=5).status_code == 404
    settings = requests.post(f"{base}/settings", json={"webhook_order": "reverse"}, timeout=5).json()
    assert settings["webhook_order"] == "reverse"
    assert requests.post(f"{base}/webhooks/flush", timeout=5).json() == {"flushed": True}
    assert len(requests.get(f"{base}/events", timeout=5).json()["events"]) == len(receiver.bodies())


def test_state_round_trip_and_reset(
    running: RunningSandbox, client: stripe.StripeClient, sim: StripeSim
) -> None:
    sub = _paid_subscription(client, sim)
    state = json.loads(json.dumps(sim.dump_state()))
    sim.reset()
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.retrieve(sub.id)
    sim.load_state(state)
    assert client.v1.subscriptions.retrieve(sub.id).status == "active"
    assert client.v1.prices.retrieve(STRIPE_PRICE_ANNUAL).unit_amount == 39000


def test_expired_session_and_clock(
    client: stripe.StripeClient, sim: StripeSim, receiver: WebhookReceiver
) -> None:
    customer = _customer(client)
    session = _checkout(client, customer.id)
    sim.clock.advance(86400 + 1)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert sim.flush()
    assert _types(receiver) == ["checkout.session.expired"]
    assert session.url is not None
    assert "a expiré" in requests.get(session.url, timeout=5).text


def test_parse_stripe_params_and_intervals() -> None:
    parsed = parse_stripe_params(
        [
            ("line_items[0][price]", "p1"),
            ("line_items[0][quantity]", "1"),
            ("subscription_data[metadata][portal_id]", "42"),
            ("metadata[0]", "zero"),
            ("expand[]", "a"),
            ("expand[]", "b"),
        ]
    )
    assert parsed == {
        "line_items": [{"price": "p1", "quantity": "1"}],
        "subscription_data": {"metadata": {"portal_id": "42"}},
        "metadata": {"0": "zero"},
        "expand": ["a", "b"],
    }
    jan31 = int(datetime(2027, 1, 31, 12, tzinfo=UTC).timestamp())
    feb = add_interval(jan31, "month")
    assert datetime.fromtimestamp(feb, UTC).date().isoformat() == "2027-02-28"
    assert datetime.fromtimestamp(add_interval(feb, "month", anchor_day=31), UTC).day == 31
    assert datetime.fromtimestamp(add_interval(jan31, "year"), UTC).year == 2028
