"""Plan page → Checkout → webhooks → tenant active, against the Stripe simulator."""

from __future__ import annotations

import pytest
from django.test import Client

from billing.models import StripeEvent, Subscription
from billing.selectors import tenant_can_invoice
from sandbox.demo import STRIPE_PRICE_ANNUAL, STRIPE_PRICE_MONTHLY
from tests.billing.stripe_world import login, start_checkout, subscribe
from tests.factories import TenantFactory


@pytest.fixture
def tenant_client(stripe_world):  # type: ignore[no-untyped-def]
    tenant = TenantFactory(name="Agence Démo")
    client = Client()
    login(client, tenant)
    return tenant, client


def test_plan_page_shows_stripe_prices_saving_and_vat_and_caches_prices(stripe_world, tenant_client):
    _tenant, client = tenant_client
    page = client.get("/billing/plans")
    html = page.content.decode()
    assert page.status_code == 200
    assert "39 € HT / mois" in html
    assert "390 € HT / an" in html
    assert "32,50 € HT / mois" in html
    assert "2 mois offerts" in html
    assert "78 € d'économie par an" in html
    assert "HT, TVA 20 % en sus" in html
    assert 'id="choose-monthly"' in html
    assert 'id="choose-annual"' in html
    client.get("/billing/plans")
    # Two prices read once, then served from the cache.
    assert len(stripe_world.requests("GET", "/v1/prices/<object_id>")) == 2


def test_plan_page_in_english(stripe_world, tenant_client):
    _tenant, client = tenant_client
    client.cookies["django_language"] = "en"
    html = client.get("/billing/plans").content.decode()
    assert "€39 excl. VAT / month" in html
    assert "2 months free" in html
    assert "€78 saved per year" in html
    assert "excl. VAT, 20% VAT added" in html


def test_full_subscribe_path(stripe_world, tenant_client):
    tenant, client = tenant_client
    assert tenant_can_invoice(tenant).status == "needs_plan"

    session_id = start_checkout(client, stripe_world, "monthly")

    # One customer, created with the portal id...
    customers = stripe_world.requests("POST", "/v1/customers")
    assert len(customers) == 1
    assert customers[0].body["metadata[portal_id]"] == str(tenant.portal_id)
    assert customers[0].headers["Idempotency-Key"].startswith("customer-create:")
    # ...and the Checkout Session with exactly the parameters of spec/stripe.md §2.
    (created,) = stripe_world.requests("POST", "/v1/checkout/sessions")
    base = stripe_world.running.sandbox.config.connector_base_url
    customer_id = Subscription.objects.get(tenant=tenant).stripe_customer_id
    assert created.body == {
        "mode": "subscription",
        "line_items[0][price]": STRIPE_PRICE_MONTHLY,
        "line_items[0][quantity]": "1",
        "customer": customer_id,
        "customer_update[name]": "auto",
        "customer_update[address]": "auto",
        "client_reference_id": f"hubspot-portal-{tenant.portal_id}",
        "subscription_data[metadata][portal_id]": str(tenant.portal_id),
        "tax_id_collection[enabled]": "true",
        "tax_id_collection[required]": "if_supported",
        "automatic_tax[enabled]": "true",
        "success_url": f"{base}/billing/return?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/billing/plans?checkout=canceled",
        "locale": "fr",
        "metadata[portal_id]": str(tenant.portal_id),
        "metadata[plan]": "monthly",
    }
    assert created.headers["Idempotency-Key"].startswith(f"checkout:{tenant.portal_id}:monthly:fr:")
    assert created.status == 200

    # Pay in the simulator: it sends checkout.session.completed, customer.subscription.created and
    # invoice.paid to our live webhook view.
    stripe_world.sim.complete_checkout(session_id, email="compta@agence.fr", name="Agence Démo SAS")
    stripe_world.flush()
    deliveries = stripe_world.sim.deliveries()
    assert [d["type"] for d in deliveries] == [
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.paid",
    ]
    assert all(d["status_code"] == 200 for d in deliveries), deliveries
    assert StripeEvent.objects.filter(status=StripeEvent.Status.PROCESSED, tenant=tenant).count() == 3

    row = Subscription.objects.get(tenant=tenant)
    assert row.status == "active"
    assert row.plan == "monthly"
    assert row.price_id == STRIPE_PRICE_MONTHLY
    assert row.stripe_subscription_id.startswith("sub_")
    assert row.current_period_end is not None
    decision = tenant_can_invoice(tenant)
    assert decision.allowed
    assert decision.status == "active"
    assert decision.plan == "monthly"
    assert decision.message == "Abonnement mensuel actif."

    # The return page is green at once, with where to find the card.
    page = client.get(f"/billing/return?session_id={session_id}")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="billing-activated">' in html  # not hidden
    assert 'id="billing-pending" hidden' in html
    assert "barre latérale de droite" in html
    assert "Applications connectées → Qonto Connector → Cartes d'application" in html
    assert "Ajouter des cartes → Applications" in html
    assert client.get("/billing/status").json() == {
        "allowed": True,
        "status": "active",
        "plan": "monthly",
        "until": None,
        "message": "Abonnement mensuel actif.",
    }
    overview = client.get("/billing/").content.decode()
    assert "Mensuelle" in overview
    assert 'id="portal-button"' in overview


def test_return_page_syncs_when_the_webhook_is_late(stripe_world, tenant_client):
    tenant, client = tenant_client
    session_id = start_checkout(client, stripe_world, "annual")
    stripe_world.sim.configure(webhooks_paused=True)
    stripe_world.sim.complete_checkout(session_id)
    assert StripeEvent.objects.count() == 0

    page = client.get(f"/billing/return?session_id={session_id}")
    assert page.status_code == 200
    assert tenant_can_invoice(tenant).allowed
    assert Subscription.objects.get(tenant=tenant).plan == "annual"
    assert 'id="billing-activated">' in page.content.decode()

    # The webhooks arriving later change nothing.
    stripe_world.sim.configure(webhooks_paused=False)
    stripe_world.flush()
    assert StripeEvent.objects.filter(status=StripeEvent.Status.PROCESSED).count() == 3
    assert Subscription.objects.get(tenant=tenant).status == "active"


def test_return_page_polls_until_the_webhook_activates(stripe_world, tenant_client):
    _tenant, client = tenant_client
    session_id = start_checkout(client, stripe_world)
    stripe_world.sim.configure(webhooks_paused=True)
    stripe_world.sim.complete_checkout(session_id)
    # Stripe cannot be read right now: the return page stays "activating" and polls.
    from sandbox.core import FaultRule

    stripe_world.sandbox.faults.add(
        FaultRule(provider="stripe", kind="status", status=400, method="GET", path=r"^/v1/subscriptions/")
    )
    html = client.get(f"/billing/return?session_id={session_id}").content.decode()
    assert "Paiement reçu, activation en cours…" in html
    assert 'id="billing-activated" hidden' in html
    assert "/billing/status" in html
    assert client.get("/billing/status").json()["allowed"] is False

    stripe_world.sim.configure(webhooks_paused=False)
    stripe_world.flush()
    assert client.get("/billing/status").json()["allowed"] is True


def test_declined_card_stays_inactive_and_says_so(stripe_world, tenant_client):
    tenant, client = tenant_client
    session_id = start_checkout(client, stripe_world)
    stripe_world.sim.decline_checkout(session_id)
    stripe_world.flush()

    assert stripe_world.sim.deliveries() == []
    assert StripeEvent.objects.count() == 0
    decision = tenant_can_invoice(tenant)
    assert not decision.allowed
    assert decision.status == "needs_plan"

    # Back on the return page (or the plans page via Checkout's cancel link): a clear message.
    page = client.get(f"/billing/return?session_id={session_id}")
    assert page.status_code == 200
    assert "Le paiement n'a pas abouti (carte refusée ou paiement interrompu)" in page.content.decode()
    assert "Paiement reçu" not in page.content.decode()
    plans = client.get("/billing/plans?checkout=canceled").content.decode()
    assert "aucun montant n'a été prélevé et le connecteur n'est pas activé" in plans
    assert 'id="choose-monthly"' in plans

    # The same session can still be paid with another card.
    stripe_world.sim.complete_checkout(session_id)
    stripe_world.flush()
    assert tenant_can_invoice(tenant).allowed


def test_second_checkout_for_an_active_tenant_is_refused(stripe_world, tenant_client):
    tenant, client = tenant_client
    subscribe(client, stripe_world, tenant)
    sessions_before = len(stripe_world.requests("POST", "/v1/checkout/sessions"))

    page = client.get("/billing/plans")
    html = page.content.decode()
    assert 'id="already-subscribed"' in html
    assert 'id="choose-monthly"' not in html

    response = client.post("/billing/plans", {"plan": "annual", "attempt": page.context["attempt"]})
    html = response.content.decode()
    assert response.status_code == 409
    assert "Votre abonnement est déjà en place" in html
    assert 'action="/billing/portal"' in html
    assert len(stripe_world.requests("POST", "/v1/checkout/sessions")) == sessions_before
    assert Subscription.objects.filter(tenant=tenant).count() == 1


def test_double_submit_reuses_the_same_checkout_session(stripe_world, tenant_client):
    _tenant, client = tenant_client
    page = client.get("/billing/plans")
    form = {"plan": "monthly", "attempt": page.context["attempt"]}
    first = client.post("/billing/plans", form)
    second = client.post("/billing/plans", form)
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert len(stripe_world.requests("POST", "/v1/customers")) == 1


def test_return_page_refuses_another_tenants_session(stripe_world, tenant_client):
    _tenant, client = tenant_client
    session_id = start_checkout(client, stripe_world)
    stripe_world.sim.complete_checkout(session_id)
    stripe_world.flush()

    intruder = TenantFactory()
    other = Client()
    login(other, intruder)
    page = other.get(f"/billing/return?session_id={session_id}")
    assert page.status_code == 403
    assert "ne correspond pas à votre compte HubSpot" in page.content.decode()
    assert not tenant_can_invoice(intruder).allowed
    assert Subscription.objects.filter(tenant=intruder).count() == 0
    assert other.get("/billing/return?session_id=../../v1/customers").status_code == 403


def test_customer_portal_button(stripe_world, tenant_client):
    tenant, client = tenant_client
    row = subscribe(client, stripe_world, tenant)
    response = client.post("/billing/portal")
    assert response.status_code == 303
    assert "/stripe/portal/bps_" in response["Location"]
    (created,) = stripe_world.requests("POST", "/v1/billing_portal/sessions")
    base = stripe_world.running.sandbox.config.connector_base_url
    assert created.body == {
        "customer": row.stripe_customer_id,
        "return_url": f"{base}/billing/",
        "locale": "fr",
    }


def test_plan_switch_monthly_to_annual(stripe_world, tenant_client):
    tenant, client = tenant_client
    row = subscribe(client, stripe_world, tenant, "monthly")
    stripe_world.sim.switch_plan(row.stripe_subscription_id, STRIPE_PRICE_ANNUAL)
    stripe_world.flush()
    row.refresh_from_db()
    assert row.plan == "annual"
    assert row.price_id == STRIPE_PRICE_ANNUAL
    decision = tenant_can_invoice(tenant)
    assert decision.allowed
    assert decision.plan == "annual"
    assert "Annuelle" in client.get("/billing/").content.decode()
