"""The whole customer journey in Chromium, from the landing page to a paid invoice on the deal.

Landing page → HubSpot consent (simulator) → connect Qonto → monthly plan → pay on the simulator's
hosted Checkout → activation turns green → the deal page's card makes a 50 % deposit draft →
the "Qonto web app" (simulator) finalizes it and marks it paid → the status sync → the deal
shows it paid.

Our site runs on pytest-django's ``live_server`` (a thread of this process, Celery eager), the
three providers are the sandbox simulators. The screenshots are the README's walkthrough:
``docs/screenshots/NN-step.png`` (viewport 1100×800, kept small on purpose).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from billing.selectors import tenant_can_invoice
from connector.models import Invoice, QontoConnection, Tenant
from connector.sync_services import tenant_sync
from sandbox import demo
from sandbox.testing import RunningSandbox
from tests.browser import BROWSER_TEST, chromium_page, sandbox_for_live_server

# The README's screenshots are refreshed on demand (UPDATE_DOCS_SCREENSHOTS=1 make test-python);
# ordinary runs write to test-artifacts/ so a test run never changes committed files.
_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = (
    _ROOT / "docs" / "screenshots"
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS")
    else _ROOT / "test-artifacts" / "journey"
)

pytestmark = BROWSER_TEST


@pytest.fixture
def journey_sandbox(live_server: Any, settings: Any) -> Iterator[RunningSandbox]:
    """HubSpot, Qonto and Stripe simulators pointed at ``live_server`` (OAuth redirect, webhooks)."""
    with sandbox_for_live_server(live_server, settings) as running:
        yield running


@pytest.fixture
def page(monkeypatch: Any) -> Iterator[Any]:
    with chromium_page(monkeypatch, height=800, timeout_ms=20000) as page:
        yield page


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))  # the viewport only: small files


def test_customer_journey_from_landing_page_to_paid_invoice(
    live_server: Any, journey_sandbox: RunningSandbox, page: Any
) -> None:
    sb = journey_sandbox
    deal_page = f"{sb.url}/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/{demo.DEAL_COMPLETE_ID}"

    # 1. The landing page says what the product does and what it costs; "Installer" starts.
    page.goto(f"{live_server.url}/")
    assert page.get_by_role(
        "heading", name="Vos transactions HubSpot deviennent des factures Qonto."
    ).is_visible()
    assert "39 € HT / mois" in page.inner_text("#price-monthly")
    assert "390 € HT / an" in page.inner_text("#price-annual")
    assert page.is_visible("#signin")
    shot(page, "01-landing")

    # 2. HubSpot's consent page (simulator) names our app; the admin installs it.
    page.click("#install")
    page.wait_for_selector("#install-button")
    assert "Qonto Connector" in page.content()
    shot(page, "02-hubspot-consent")
    page.click("#install-button")

    # 3. Connect Qonto: the demo credentials, and the company property that holds the SIRET.
    page.wait_for_url(f"{live_server.url}/onboarding/qonto")
    page.get_by_role("heading", name="Connectez votre compte Qonto").wait_for()
    page.get_by_label("Identifiant de l'organisation (login)").fill(demo.QONTO_LOGIN)
    page.get_by_label("Clé secrète").fill(demo.QONTO_SECRET_KEY)
    # Preselected: the demo portal's companies keep their SIRETs in its own "siret" property.
    assert page.locator("#id_siret_property").input_value() == "siret"
    page.locator("#id_siret_property").scroll_into_view_if_needed()
    shot(page, "03-connect-qonto")
    page.get_by_role("button", name="Connecter Qonto").click()
    confirmation = page.locator(".alert.success").first
    confirmation.wait_for()
    assert demo.QONTO_LEGAL_NAME in confirmation.inner_text()
    assert demo.QONTO_SECRET_KEY not in page.content()
    shot(page, "04-qonto-connected")
    page.get_by_role("button", name="Continuer").click()

    # 4. Choose the monthly plan → the hosted Checkout (simulator) → pay.
    page.wait_for_url(f"{live_server.url}/billing/plans")
    assert "39 € HT / mois" in page.inner_text("#plan-monthly")
    shot(page, "05-plans")
    page.click("#choose-monthly")
    page.wait_for_selector("#pay-button")
    assert "Mensuel" in page.inner_text("#plan")
    shot(page, "06-checkout")
    page.click("#pay-button")

    # 5. Back on our site: the page turns green once Stripe's webhook has activated the tenant.
    page.wait_for_url(f"{live_server.url}/billing/return?session_id=*")
    page.wait_for_selector("#billing-activated", state="visible")
    assert "C'est prêt : le connecteur est activé." in page.inner_text("#billing-activated")
    assert page.locator("#open-hubspot").is_visible()  # the main button: on to the deals in HubSpot
    shot(page, "07-activated")
    tenant = Tenant.objects.get(portal_id=demo.PORTAL_ID)
    assert tenant.siret_property == "siret"
    assert QontoConnection.objects.get(tenant=tenant).verified_at is not None
    assert tenant_can_invoice(tenant).allowed

    # 6. On the HubSpot deal page, the card makes a 50 % deposit, created as a draft in Qonto.
    page.goto(deal_page)
    page.wait_for_selector("#card-body:not([hidden])")
    page.wait_for_selector("#btn-deposit:not([disabled])")
    page.fill("#deposit-percentage", "50")
    page.click("#btn-deposit")
    page.wait_for_selector("#card-alerts .alert-success")
    assert "brouillon" in page.inner_text("#card-alerts").lower()
    page.wait_for_selector("#card-invoices >> text=Brouillon")
    assert "Acompte" in page.inner_text("#card-invoices")
    shot(page, "08-deposit-draft")
    invoice = Invoice.objects.get(tenant=tenant)
    assert (invoice.kind, invoice.status) == (Invoice.Kind.DEPOSIT, Invoice.Status.DRAFT)
    assert invoice.percentage == 50

    # 7. In Qonto (simulator's web app): finalize the draft, then mark it paid.
    page.goto(f"{sb.url}/qonto/app/{demo.QONTO_LOGIN}")
    page.get_by_role("button", name="Finaliser").click()
    page.get_by_role("button", name="Marquer payée").wait_for()
    page.get_by_role("button", name="Marquer payée").click()
    page.get_by_role("cell", name="Payée", exact=True).wait_for()
    shot(page, "09-qonto-paid")

    # 8. The status sync (what Celery beat runs) brings it back; the deal shows it paid.
    run = tenant_sync(tenant_id=tenant.pk)
    assert run is not None
    assert run.status == "succeeded", run.error
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.number
    page.goto(deal_page)
    page.wait_for_selector("#card-invoices >> text=Payée")
    assert invoice.number in page.inner_text("#card-invoices")
    assert "Payée" in page.inner_text("#deal-properties")  # the option's French label, as HubSpot shows it
    shot(page, "10-deal-paid")

    # 9. Support sees the tenant in the admin: plan, Qonto verified, last sync, no secret.
    from django.contrib.auth.models import User

    User.objects.create_superuser("support", "support@example.fr", "support-pass-0123456789")
    page.goto(f"{live_server.url}/admin/connector/tenant/")
    page.fill("#id_username", "support")
    page.fill("#id_password", "support-pass-0123456789")
    page.click("input[type=submit]")
    page.wait_for_selector("#result_list")
    page.click("#toggle-nav-sidebar")  # more room for the columns (remembered by the admin)
    row = page.inner_text("#result_list")
    assert str(demo.PORTAL_ID) in row
    assert "active · mensuel" in row
    assert "vérifié" in row
    assert "Réussie" in row
    shot(page, "11-support-admin")
    page.click(f"#result_list a[href$='/{tenant.pk}/change/']")
    page.wait_for_selector("[data-action=suspend]")
    shot(page, "12-support-tenant")
    assert demo.QONTO_SECRET_KEY not in page.content()
    assert "Tout est en ordre." in page.inner_text("#content")
