"""Issue 12, the card, walked in Chromium on the sandbox deal page as a new user would.

Each step is a point of the issue: Actualiser reads Qonto and says when (in Paris time, with the
browser in UTC), Ouvrir dans Qonto opens the seller's draft and the payment link waits for finalize,
a fully invoiced deal has its buttons off with one message, missing data reads as plain French with
a link to the company, a Belgian client gets reverse charge, an existing Qonto client is not
overwritten, one SIRET with two names needs a confirmation, and the deal's properties read as
French labels. Screenshots: ``test-artifacts/card-truth/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from connector.models import Deal, Invoice
from sandbox import demo
from sandbox.testing import RunningSandbox
from tests.browser import BROWSER_TEST, chromium_page, sandbox_for_live_server
from tests.invoice_world import make_operational_tenant

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "card-truth"

pytestmark = BROWSER_TEST


@pytest.fixture
def truth_sandbox(live_server: Any, settings: Any) -> Iterator[RunningSandbox]:
    with sandbox_for_live_server(live_server, settings) as running:
        yield running


@pytest.fixture
def page(monkeypatch: Any) -> Iterator[Any]:
    # The browser runs in UTC: every time the card shows must still be Paris time.
    with chromium_page(monkeypatch, height=1000, timeout_ms=20000, timezone_id="UTC") as page:
        yield page


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_deal(page: Any, sb: RunningSandbox, deal_id: str) -> None:
    page.goto(f"{sb.url}/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/{deal_id}")
    page.wait_for_selector("#card-body:not([hidden])")


def test_the_card_tells_the_truth_in_french_with_the_next_step_one_click_away(
    truth_sandbox: RunningSandbox, page: Any
) -> None:
    sb = truth_sandbox
    tenant = make_operational_tenant(sb)
    qonto = sb.provider("qonto")
    hub = sb.provider("hubspot")
    # Qonto already knows ACME under another name and address (a Qonto user created it).
    address = {"street_address": "1 avenue Foch", "city": "Paris", "zip_code": "75016", "country_code": "FR"}
    qonto.seed_client(
        demo.QONTO_LOGIN, kind="company", name="ACME INDUSTRIE SA", currency="EUR", locale="FR",
        tax_identification_number=demo.COMPLETE_SIRET, billing_address=address,
    )  # fmt: skip

    # 1. A complete deal: the draft is made; "Ouvrir dans Qonto" is the seller's page, no payment link.
    open_deal(page, sb, demo.DEAL_COMPLETE_ID)
    page.wait_for_selector("#btn-full:not([disabled])")
    assert page.locator("#card-last-read").count() == 0  # no invoice yet: nothing read from Qonto
    page.click("#btn-full")
    page.wait_for_selector("#card-alerts .alert-success")
    page.wait_for_selector("#card-invoices >> text=Brouillon")
    invoice = Invoice.objects.get()
    open_link = page.locator("#card-invoices a", has_text="Ouvrir dans Qonto")
    href = open_link.get_attribute("href")
    seller = f"{sb.url}/qonto/app/organizations/{demo.QONTO_LOGIN}/receivable-invoices/"
    assert href == seller + str(invoice.qonto_invoice_id)
    assert page.locator("#card-invoices a", has_text="Lien de paiement client").count() == 0
    # The existing Qonto client was completed, not overwritten: the card says it differs.
    [qonto_client] = qonto.list_clients(demo.QONTO_LOGIN)
    assert (qonto_client["name"], qonto_client["billing_address"]["street_address"]) == (
        "ACME INDUSTRIE SA",
        "1 avenue Foch",
    )
    page.wait_for_selector("#card-invoices .notice")
    assert "diffère de HubSpot (nom, adresse)" in page.inner_text("#card-invoices")
    shot(page, "01-draft-created-qonto-client-kept")

    # 2. A fully invoiced deal: every button off, one message, never "prête" nor "facturez le solde".
    page.wait_for_selector("#fully-invoiced")
    reasons = page.locator("#card-action-reasons .action-reason")
    assert reasons.count() == 1
    assert "Il ne reste rien à facturer" in reasons.inner_text()
    assert page.is_disabled("#btn-full")
    assert page.is_disabled("#btn-deposit")
    assert page.is_disabled("#btn-balance")
    assert "prête" not in page.inner_text("#card-readiness")
    assert "facturez le solde" not in page.inner_text("#qonto-card")
    # The deal's properties read as HubSpot shows them: French labels, "—" while there is no number.
    props = page.inner_text("#deal-properties")
    assert "Brouillon" in props
    assert "draft" not in props
    assert page.inner_text("[data-name=qonto_last_invoice_number] dd") == "—"
    shot(page, "02-fully-invoiced-one-message")

    # 3. The seller's draft in the Qonto app (not the customer's payment page).
    page.goto(href)
    page.wait_for_selector("#invoice-title")
    assert "Vue vendeur" in page.content()
    shot(page, "03-qonto-seller-draft")

    # 4. Finalized in Qonto; Actualiser reads it now (one list call) and says when, in Paris time.
    qonto.finalize(invoice.qonto_invoice_id)
    open_deal(page, sb, demo.DEAL_COMPLETE_ID)
    assert "Brouillon" in page.inner_text("#card-invoices")
    sb.sandbox.log.clear()
    page.click("#card-refresh")
    page.wait_for_selector("#card-invoices >> text=À payer")
    page.wait_for_selector("#card-invoices a >> text=Lien de paiement client")
    lists = [e for e in sb.sandbox.log.entries("qonto") if e.path.startswith("/v2/client_invoices")]
    assert [(e.method, e.path) for e in lists] == [("GET", "/v2/client_invoices")]
    read_at = Deal.objects.get(hubspot_deal_id=demo.DEAL_COMPLETE_ID).qonto_read_at
    assert read_at is not None
    paris = read_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M")
    assert page.inner_text("#card-last-read") == f"Lu dans Qonto le {paris} (heure de Paris)"
    assert paris != read_at.astimezone(ZoneInfo("UTC")).strftime("%d/%m/%Y %H:%M")  # the browser is in UTC
    page.wait_for_selector("#deal-properties >> text=À payer")
    synced = hub.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID)["properties"][
        "qonto_last_sync_at"
    ]
    synced_paris = datetime.fromisoformat(synced.replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Paris"))
    assert synced_paris.strftime("%d/%m/%Y %H:%M") in page.inner_text("[data-name=qonto_last_sync_at] dd")
    shot(page, "04-refreshed-paris-time-payment-link")

    # 5. Missing data: plain French (no "company.siret"), and the company opens in HubSpot.
    open_deal(page, sb, demo.DEAL_NO_SIRET_ID)
    readiness = page.inner_text("#card-readiness")
    assert "SIRET" in readiness
    assert "company.siret" not in readiness
    assert "(company" not in readiness
    assert "Champ à corriger : Entreprise › SIRET" in readiness
    assert page.is_disabled("#btn-full")
    shot(page, "05-missing-siret-plain-french")
    company_link = page.locator("#card-readiness a", has_text="Ouvrir l'entreprise dans HubSpot")
    assert company_link.get_attribute("target") == "_blank"  # a new tab: the card stays open
    page.goto(company_link.get_attribute("href"))
    page.wait_for_selector("#company-title")
    assert "Boulangerie Élise" in page.inner_text("#company-title")
    shot(page, "06-company-in-hubspot")

    # 6. A Belgian client: warned before invoicing at French VAT; reverse charge by default.
    open_deal(page, sb, demo.DEAL_FOREIGN_ID)
    warnings = page.inner_text("#readiness-warnings")
    assert "établie en Belgique" in warnings
    assert demo.FOREIGN_VAT_NUMBER in warnings
    assert page.input_value("#vat-mode") == "reverse_charge"
    assert "Autoliquidation" in page.inner_text("#vat-mode-help")
    shot(page, "07-belgian-client-reverse-charge")
    page.click("#btn-full")
    page.wait_for_selector("#card-alerts .alert-success")
    foreign = Invoice.objects.get(hubspot_deal_id=demo.DEAL_FOREIGN_ID)
    qinv = qonto.get_invoice(foreign.qonto_invoice_id)
    assert {item["vat_rate"] for item in qinv["items"]} == {"0"}
    assert "Autoliquidation" in qinv["footer"]
    assert demo.FOREIGN_VAT_NUMBER in qinv["footer"]
    page.goto(
        f"{sb.url}/qonto/app/organizations/{demo.QONTO_LOGIN}/receivable-invoices/{foreign.qonto_invoice_id}"
    )
    assert "Autoliquidation" in page.inner_text("#invoice-footer")
    shot(page, "08-reverse-charge-invoice-in-qonto")

    # 7. Another HubSpot company with ACME's SIRET and another name: confirm before invoicing it.
    twin = hub.create_company(
        demo.PORTAL_ID, name="Bureau d'études Martin", address="5 rue Neuve", city="Lille", zip="59000",
        country="France", siret=demo.COMPLETE_SIRET,
    )  # fmt: skip
    deal = hub.create_deal(
        demo.PORTAL_ID, dealname="Étude Martin", amount="1000", company_id=twin["id"], dealstage="closedwon"
    )
    open_deal(page, sb, deal["id"])
    assert "déjà celui du client Qonto « ACME INDUSTRIE SA »" in page.inner_text("#readiness-warnings")
    assert page.is_disabled("#btn-full")
    shot(page, "09-same-siret-two-names")
    page.check("#confirm-shared-client")
    page.wait_for_selector("#btn-full:not([disabled])")
    page.click("#btn-full")
    page.wait_for_selector("#card-alerts .alert-success")
    acme = [
        c
        for c in qonto.list_clients(demo.QONTO_LOGIN)
        if c["tax_identification_number"] == demo.COMPLETE_SIRET
    ]
    assert [c["name"] for c in acme] == ["ACME INDUSTRIE SA"]  # one client, never renamed
    twin_invoice = Invoice.objects.get(hubspot_deal_id=deal["id"])
    assert twin_invoice.qonto_client_id == acme[0]["id"]
    shot(page, "10-same-siret-confirmed")
    assert tenant.pk


def test_a_draft_deleted_in_qonto_frees_the_deal_and_the_reference_reads_as_french(
    truth_sandbox: RunningSandbox, page: Any
) -> None:
    """Issue 12, the two points the first walk leaves to this one: the reference printed on the
    invoice is the deal's name (our exact key after it), and a draft a Qonto user deletes stops
    being "Brouillon" on the next sync, its amount freed, so the deal can be invoiced again."""
    sb = truth_sandbox
    make_operational_tenant(sb)
    qonto = sb.provider("qonto")
    hub = sb.provider("hubspot")
    deal_name = hub.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID)["properties"]["dealname"]

    open_deal(page, sb, demo.DEAL_COMPLETE_ID)
    page.wait_for_selector("#btn-full:not([disabled])")
    page.click("#btn-full")
    page.wait_for_selector("#card-alerts .alert-success")
    first = Invoice.objects.get()
    assert first.reconcile_key
    # 1. What the customer reads on the invoice: the deal's name, then our key (no "HubSpot deal …").
    page.goto(f"{sb.url}/qonto/app/{demo.QONTO_LOGIN}")
    row = page.locator("tr.draft")
    assert row.count() == 1
    printed = row.locator("td").nth(2).inner_text()
    assert printed == f"{deal_name} — réf. {first.reconcile_key}"
    assert "HubSpot" not in printed
    shot(page, "11-reference-in-french-in-qonto")

    # 2. A Qonto user deletes the draft in Qonto's app.
    row.get_by_role("button", name="Supprimer le brouillon").click()
    page.wait_for_selector("tr.draft", state="detached")
    open_deal(page, sb, demo.DEAL_COMPLETE_ID)
    assert "Brouillon" in page.inner_text("#card-invoices")  # not known to us yet
    assert page.is_disabled("#btn-full")

    # 3. The next sync (the command support runs; beat runs the same service) notices it.
    call_command("sync_qonto_statuses", "--tenant", str(demo.PORTAL_ID))
    first.refresh_from_db()
    assert first.status == Invoice.Status.DELETED
    open_deal(page, sb, demo.DEAL_COMPLETE_ID)
    page.wait_for_selector("#btn-full:not([disabled])")
    invoices = page.inner_text("#card-invoices")
    assert "Annulée" in invoices
    assert "Brouillon" not in invoices
    assert page.locator("#fully-invoiced").count() == 0
    assert page.inner_text("#total-invoiced").replace("\u202f", " ").replace("\xa0", " ") == "0,00 €"
    assert page.inner_text("#total-left") == page.inner_text("#total-deal")  # all of it is left
    page.wait_for_selector("[data-name=qonto_invoiced_amount] dd >> text=0.00")
    shot(page, "12-deleted-draft-freed")

    # 4. Générer works again: one new draft in Qonto, the deleted one stays deleted.
    page.click("#btn-full")
    page.wait_for_selector("#card-alerts .alert-success")
    second = Invoice.objects.exclude(pk=first.pk).get()
    assert second.status == Invoice.Status.DRAFT
    live = [i for i in qonto.list_invoices(demo.QONTO_LOGIN) if i["status"] == "draft"]
    assert [i["id"] for i in live] == [second.qonto_invoice_id]
    page.wait_for_selector("#card-invoices >> text=Brouillon")
    shot(page, "13-invoiced-again")
