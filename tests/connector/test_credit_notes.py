"""Issue 13, credit notes and cancellations: avoirs made in Qonto flow back on the next sync and the
deal's invoiced / paid / left-to-invoice totals account for them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.invoices.request import invoice_request_create
from connector.invoicing.amounts import format_eur_fr
from connector.models import CreditNote, Invoice, SyncRun
from connector.sync import deal_sync, tenant_sync
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401


def click(
    world: InvoiceWorld, capture: Any, key: str, *, kind: str = "full", pct: str | None = None
) -> Invoice:
    with capture(execute=True):
        result = invoice_request_create(
            tenant=world.tenant,
            deal_id=demo.DEAL_COMPLETE_ID,
            kind=kind,
            percentage=Decimal(pct) if pct else None,
            idempotency_key=key,
        )
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.DRAFT, inv.error_message
    return inv


def sync(world: InvoiceWorld, *, full: bool = False) -> SyncRun:
    run = tenant_sync(tenant_id=world.tenant.pk, full=full)
    assert run is not None
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


def props(world: InvoiceWorld) -> dict[str, Any]:
    return dict(world.deal(demo.DEAL_COMPLETE_ID)["properties"])


def qonto_routes(world: InvoiceWorld, start: int) -> list[str]:
    return [e.route for e in list(world.sb.sandbox.log.entries("qonto"))[start:]]


def log_size(world: InvoiceWorld) -> int:
    return len(list(world.sb.sandbox.log.entries("qonto")))


@pytest.mark.django_db
def test_a_partial_credit_note_reduces_invoiced_and_left_to_invoice_on_the_next_sync(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    inv = click(world, django_capture_on_commit_callbacks, "credit-partial-1")
    world.qonto.finalize(inv.qonto_invoice_id)
    sync(world)
    assert props(world)["qonto_invoiced_amount"] == "12000.00"

    note = world.qonto.create_credit_note(inv.qonto_invoice_id, amount="1000", vat_rate="0.2")
    # A partial avoir does not change the invoice's updated_at: only the credit-note listing sees it.
    start = log_size(world)
    run = sync(world)
    assert run.credit_notes_new == 1
    assert "/v2/credit_notes" in qonto_routes(world, start)
    row = CreditNote.objects.get()
    assert row.tenant_id == world.tenant.pk
    assert row.invoice_id == inv.pk
    assert row.qonto_credit_note_id == note["id"]
    assert row.number == note["number"]
    assert row.subtotal_amount == Decimal("1000.00")
    assert row.total_amount == Decimal("1200.00")
    assert row.vat_breakdown == {"0.2": "1000.00"}
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.UNPAID  # partially credited, still to be paid
    assert inv.credited_subtotal == Decimal("1000.00")
    assert inv.credited_total == Decimal("1200.00")
    p = props(world)
    assert p["qonto_invoiced_amount"] == "11000.00"
    assert p["qonto_left_to_invoice"] == "1000.00"
    assert p["qonto_paid_amount"] == "0.00"
    assert f"Avoir {format_eur_fr(Decimal('1200'))} TTC" in p["qonto_invoices_summary"]

    # Idempotent: the next runs (the overlap lists it again, a full run lists everything) add nothing.
    again = sync(world)
    assert again.credit_notes_new == 0
    assert again.deals_written == 0
    sync(world, full=True)
    assert CreditNote.objects.count() == 1
    inv.refresh_from_db()
    assert inv.credited_subtotal == Decimal("1000.00")


@pytest.mark.django_db
def test_a_credit_note_for_the_whole_invoice_cancels_it_and_nothing_is_deducted_twice(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    inv = click(world, django_capture_on_commit_callbacks, "credit-full-1")
    world.qonto.finalize(inv.qonto_invoice_id)
    world.qonto.mark_paid(inv.qonto_invoice_id)
    sync(world)
    assert props(world)["qonto_paid_amount"] == "12000.00"

    world.qonto.create_credit_note(inv.qonto_invoice_id)  # the whole invoice: Qonto cancels it
    run = sync(world)
    assert run.credit_notes_new == 1
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.CANCELED
    assert inv.credited_total == inv.total_amount
    p = props(world)
    assert p["qonto_last_invoice_status"] == "canceled"
    assert p["qonto_invoiced_amount"] == "0.00"
    assert p["qonto_paid_amount"] == "0.00"
    assert p["qonto_left_to_invoice"] == "12000.00"
    # The deal can be invoiced again in full.
    again = click(world, django_capture_on_commit_callbacks, "credit-full-2")
    assert again.subtotal_amount == Decimal("12000.00")


@pytest.mark.django_db
def test_a_credit_note_on_a_paid_invoice_comes_off_paid_and_the_balance_invoices_it_again(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    deposit = click(world, django_capture_on_commit_callbacks, "credit-dep-1", kind="deposit", pct="50")
    world.qonto.finalize(deposit.qonto_invoice_id)
    world.qonto.mark_paid(deposit.qonto_invoice_id)
    sync(world)
    rate = world.qonto.get_invoice(deposit.qonto_invoice_id)["items"][0]["vat_rate"]
    world.qonto.create_credit_note(deposit.qonto_invoice_id, amount="500", vat_rate=rate)
    sync(world)
    p = props(world)
    assert p["qonto_invoiced_amount"] == "5500.00"
    assert p["qonto_paid_amount"] == "5500.00"  # the avoir is owed back to the client
    assert p["qonto_left_to_invoice"] == "6500.00"

    balance = click(world, django_capture_on_commit_callbacks, "credit-bal-1", kind="balance")
    assert balance.subtotal_amount == Decimal("6500.00")  # the deal minus what is still invoiced
    assert balance.deducted[0]["subtotal"] == "5500.00"
    sync(world)
    assert props(world)["qonto_left_to_invoice"] == "0.00"


@pytest.mark.django_db
def test_the_card_refresh_finds_a_credit_note_by_the_ids_the_invoice_lists(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    inv = click(world, django_capture_on_commit_callbacks, "credit-refresh-1")
    world.qonto.finalize(inv.qonto_invoice_id)
    note = world.qonto.create_credit_note(inv.qonto_invoice_id, amount="100")
    start = log_size(world)
    assert deal_sync(tenant_id=world.tenant.pk, deal_id=demo.DEAL_COMPLETE_ID) >= 1
    assert f"/v2/credit_notes/{note['id']}" in [
        e.path.removeprefix("/qonto") for e in list(world.sb.sandbox.log.entries("qonto"))[start:]
    ]
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.UNPAID
    assert inv.credited_subtotal == Decimal("100.00")
    assert props(world)["qonto_invoiced_amount"] == "11900.00"


@pytest.mark.django_db
def test_negative_amounts_and_credit_notes_of_invoices_not_ours(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    inv = click(world, django_capture_on_commit_callbacks, "credit-neg-1")
    world.qonto.finalize(inv.qonto_invoice_id)
    [foreign] = world.qonto.bulk_seed_invoices(demo.QONTO_LOGIN, 1, purchase_order="not ours")
    world.qonto.finalize(foreign)
    world.qonto.set_switches(credit_note_negative_amounts=True)  # a public source says Qonto negates
    world.qonto.create_credit_note(inv.qonto_invoice_id, amount="250")
    world.qonto.create_credit_note(foreign, amount="10")
    run = sync(world)
    assert run.credit_notes_seen == 2
    assert run.credit_notes_new == 1
    [row] = CreditNote.objects.all()
    assert row.invoice_id == inv.pk
    assert row.subtotal_amount == Decimal("250.00")  # a credit note always reduces its invoice
    assert all(Decimal(v) > 0 for v in row.vat_breakdown.values())
    assert props(world)["qonto_invoiced_amount"] == "11750.00"
