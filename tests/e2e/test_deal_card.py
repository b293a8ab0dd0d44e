"""The card on the sandbox's HubSpot deal page, in Chromium: a complete deal gets its invoice; the
company without SIRET shows the problem and no invoice is made.

The sandbox deal page calls our card API through a proxy that signs each call (v3) exactly as
``hubspot.fetch`` does; our site runs on ``live_server`` (Celery eager in its thread).
Screenshots are saved under ``test-artifacts/card/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.models import Invoice
from sandbox import demo
from sandbox.testing import RunningSandbox
from tests.browser import BROWSER_TEST, sandbox_for_live_server
from tests.invoice_world import make_operational_tenant

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "card"

pytestmark = BROWSER_TEST


@pytest.fixture
def card_sandbox(live_server: Any, settings: Any) -> Iterator[RunningSandbox]:
    with sandbox_for_live_server(live_server, settings) as running:
        yield running


def deal_url(sb: RunningSandbox, deal_id: str) -> str:
    return f"{sb.url}/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/{deal_id}"


def test_complete_deal_gets_its_invoice_and_no_siret_deal_is_refused(
    card_sandbox: RunningSandbox, page: Any
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    make_operational_tenant(card_sandbox)

    page.goto(deal_url(card_sandbox, demo.DEAL_COMPLETE_ID))
    page.wait_for_selector("#card-body:not([hidden])")
    page.wait_for_selector("#btn-full:not([disabled])")
    assert "12" in page.inner_text("#card-totals")
    page.screenshot(path=str(ARTIFACTS / "01-deal-ready.png"))
    page.click("#btn-full")
    page.wait_for_selector("#card-alerts .alert-success")
    assert "brouillon" in page.inner_text("#card-alerts").lower()
    page.wait_for_selector("#card-invoices >> text=Brouillon")
    page.screenshot(path=str(ARTIFACTS / "02-invoice-created.png"))
    invoice = Invoice.objects.get()
    assert invoice.status == Invoice.Status.DRAFT
    assert [q["id"] for q in card_sandbox.provider("qonto").list_invoices(demo.QONTO_LOGIN)] == [
        invoice.qonto_invoice_id
    ]
    # The deal's Qonto properties were written and the page shows them after the refresh.
    page.wait_for_selector("#deal-properties >> text=Statut de la dernière facture")
    assert "Brouillon" in page.inner_text("#deal-properties")  # the option's label, not "draft"

    page.goto(deal_url(card_sandbox, demo.DEAL_NO_SIRET_ID))
    page.wait_for_selector("#card-body:not([hidden])")
    readiness = page.inner_text("#card-readiness")
    assert "SIRET" in readiness
    page.screenshot(path=str(ARTIFACTS / "03-no-siret.png"))
    if page.is_enabled("#btn-full"):
        page.click("#btn-full")
        page.wait_for_selector("#card-alerts .alert-error")
        assert "SIRET" in page.inner_text("#card-alerts")
        page.screenshot(path=str(ARTIFACTS / "04-no-siret-refused.png"))
    assert Invoice.objects.count() == 1
    assert len(card_sandbox.provider("qonto").list_invoices(demo.QONTO_LOGIN)) == 1
