"""A real browser: plan choice → the simulator's hosted Checkout → return page turning green.

Screenshots land in test-artifacts/billing/. Debian's Chromium only (never downloaded).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from billing.models import Subscription
from billing.selectors import tenant_can_invoice
from sandbox.core import FaultRule
from tests.billing.stripe_world import login
from tests.browser import chromium_page, requires_chromium
from tests.factories import TenantFactory

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "billing"

pytestmark = [
    pytest.mark.browser,
    requires_chromium,
]


@pytest.fixture
def browser_page(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page(monkeypatch, height=1400, timeout_ms=15000) as page:
        yield page


def _sign_in(page: Any, live_server: Any, tenant: Any) -> None:
    key = login(Client(), tenant)
    page.context.add_cookies([{"name": "sessionid", "value": key, "url": live_server.url}])


def test_plan_choice_checkout_and_return_page_turning_green(stripe_world, live_server, browser_page):
    page = browser_page
    tenant = TenantFactory(name="Agence Démo")
    _sign_in(page, live_server, tenant)

    page.goto(f"{live_server.url}/billing/plans")
    assert page.locator("#plan-annual").inner_text().count("2 mois offerts") == 1
    page.screenshot(path=str(ARTIFACTS / "01-plans.png"), full_page=True)

    # Make the activation visibly asynchronous: webhooks held back, and Stripe not readable at the
    # moment the return page loads, so the page must poll /billing/status until the webhook lands.
    stripe_world.sim.configure(webhooks_paused=True)
    stripe_world.sandbox.faults.add(
        FaultRule(provider="stripe", kind="status", status=400, method="GET", path=r"^/v1/subscriptions/")
    )

    page.click("#choose-monthly")
    page.wait_for_selector("#pay-button")
    assert "/stripe/checkout/cs_" in page.url
    assert "Mensuel" in page.locator("#plan").inner_text()
    page.screenshot(path=str(ARTIFACTS / "02-checkout.png"), full_page=True)

    page.click("#pay-button")
    page.wait_for_url(f"{live_server.url}/billing/return?session_id=*")
    pending = page.locator("#billing-pending")
    assert pending.is_visible()
    assert pending.inner_text().strip() == "Paiement reçu, activation en cours…"
    assert not page.locator("#billing-activated").is_visible()
    page.screenshot(path=str(ARTIFACTS / "03-return-pending.png"), full_page=True)

    stripe_world.sim.configure(webhooks_paused=False)
    page.wait_for_selector("#billing-activated", state="visible")
    assert not pending.is_visible()
    assert "C'est prêt : le connecteur est activé." in page.locator("#billing-activated").inner_text()
    assert "barre latérale de droite" in page.locator("#card-help").inner_text()
    page.screenshot(path=str(ARTIFACTS / "04-return-active.png"), full_page=True)

    page.click("#billing-activated a[href='/billing/']")
    assert page.locator("#billing-status").inner_text() == "Actif"
    assert page.locator("#billing-plan").inner_text() == "Mensuelle"
    assert page.locator("#portal-button").is_visible()
    page.screenshot(path=str(ARTIFACTS / "05-overview.png"), full_page=True)

    stripe_world.flush()
    assert Subscription.objects.get(tenant=tenant).status == "active"
    assert tenant_can_invoice(tenant).allowed


def test_declined_card_in_the_browser(stripe_world, live_server, browser_page):
    page = browser_page
    tenant = TenantFactory()
    _sign_in(page, live_server, tenant)

    page.goto(f"{live_server.url}/billing/plans")
    page.click("#choose-annual")
    page.click("#decline-button")
    assert page.locator("#error").inner_text() == "Votre carte a été refusée."
    page.click("#cancel-link")
    page.wait_for_url(f"{live_server.url}/billing/plans?checkout=canceled")
    assert "carte refusée" in page.locator("#checkout-canceled").inner_text()
    page.screenshot(path=str(ARTIFACTS / "06-declined.png"), full_page=True)
    assert not tenant_can_invoice(tenant).allowed
