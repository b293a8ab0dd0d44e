"""Issues 12 and 13 end to end: a real Celery worker (through Redis) runs the status sync against the
sandbox and brings back a draft deleted in Qonto, a cancellation and a credit note."""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from connector import jobs
from connector.invoices.request import invoice_request_create
from connector.models import CreditNote, Invoice, SyncRun, Tenant
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import make_operational_tenant
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


def worker_env(sandbox: Any, settings: Any) -> dict[str, str]:
    return {
        **sandbox.env,
        "HUBSPOT_CLIENT_ID": settings.HUBSPOT_CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": settings.HUBSPOT_CLIENT_SECRET,
    }


def created_by_worker(tenant: Tenant, deal_id: str, key: str) -> Invoice:
    result = invoice_request_create(
        tenant=tenant, deal_id=deal_id, kind="full", percentage=None, idempotency_key=key
    )
    invoice: Invoice = wait_for(
        lambda: Invoice.objects.filter(pk=result.invoice.pk, hubspot_written_at__isnull=False).first(),
        timeout=45,
    )
    assert invoice.status == Invoice.Status.DRAFT
    return invoice


def synced_by_worker(tenant: Tenant) -> SyncRun:
    before = SyncRun.objects.filter(tenant=tenant).count()
    jobs.tenant_sync(tenant.pk)  # what the beat's fan-out queues

    def finished() -> SyncRun | None:
        runs = SyncRun.objects.filter(tenant=tenant, finished_at__isnull=False)
        return runs.order_by("-started_at").first() if runs.count() > before else None

    run: SyncRun = wait_for(finished, timeout=45)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return run


@pytest.mark.django_db(transaction=True)
def test_deleted_draft_cancellation_and_credit_note_through_a_real_worker(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    qonto = sandbox.provider("qonto")
    hubspot = sandbox.provider("hubspot")

    def props(deal_id: str) -> dict[str, Any]:
        return dict(hubspot.get_object(demo.PORTAL_ID, "deals", deal_id)["properties"])

    with celery_worker(extra_env=worker_env(sandbox, settings)), tasks_sent_to_broker():
        credited = created_by_worker(tenant, demo.DEAL_COMPLETE_ID, "e2e-sync-credit")
        deleted = created_by_worker(tenant, demo.DEAL_AMOUNT_ONLY_ID, "e2e-sync-deleted")
        synced_by_worker(tenant)

        # A Qonto user finalizes one invoice and credits 1 000 € HT of it, and deletes the other draft.
        qonto.finalize(credited.qonto_invoice_id)
        note = qonto.create_credit_note(credited.qonto_invoice_id, amount="1000", vat_rate="0.2")
        qonto.delete_draft(deleted.qonto_invoice_id)
        Tenant.objects.filter(pk=tenant.pk).update(drafts_checked_at=timezone.now() - timedelta(hours=1))
        run = synced_by_worker(tenant)
        assert run.full is False
        assert run.drafts_deleted == 1
        assert run.credit_notes_new == 1

        credited.refresh_from_db()
        deleted.refresh_from_db()
        assert credited.status == Invoice.Status.UNPAID
        assert credited.credited_subtotal == Decimal("1000.00")
        assert CreditNote.objects.get().qonto_credit_note_id == note["id"]
        assert deleted.status == Invoice.Status.DELETED
        p = props(demo.DEAL_COMPLETE_ID)
        assert p["qonto_invoiced_amount"] == "11000.00"
        assert p["qonto_left_to_invoice"] == "1000.00"
        assert "Avoir" in p["qonto_invoices_summary"]
        q = props(demo.DEAL_AMOUNT_ONLY_ID)
        assert q["qonto_last_invoice_status"] == "canceled"
        assert q["qonto_invoiced_amount"] == "0.00"

        # *Generate* works again on the deal whose draft was deleted; that invoice is then credited
        # in full in Qonto, which cancels it: the next sync says so and frees its amount.
        again = created_by_worker(tenant, demo.DEAL_AMOUNT_ONLY_ID, "e2e-sync-again")
        assert again.pk != deleted.pk
        qonto.finalize(again.qonto_invoice_id)
        qonto.create_credit_note(again.qonto_invoice_id)
        assert qonto.get_invoice(again.qonto_invoice_id)["status"] == "canceled"
        synced_by_worker(tenant)
        again.refresh_from_db()
        assert again.status == Invoice.Status.CANCELED
        assert again.credited_total == again.total_amount
        q = props(demo.DEAL_AMOUNT_ONLY_ID)
        assert q["qonto_last_invoice_status"] == "canceled"
        assert q["qonto_invoiced_amount"] == "0.00"
        assert Decimal(q["qonto_left_to_invoice"]) > 0


@pytest.mark.django_db(transaction=True)
def test_a_canceled_invoice_and_a_credit_note_on_a_paid_one_through_a_real_worker(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    """Issue 13, credit notes and cancellations: an invoice finalized then canceled in Qonto, and a
    paid deposit partly credited, reach the deal's invoiced / paid / left totals through the sync a
    real worker runs; the balance made afterwards invoices exactly what is left."""
    tenant = make_operational_tenant(sandbox)
    qonto = sandbox.provider("qonto")
    hubspot = sandbox.provider("hubspot")

    def props(deal_id: str) -> dict[str, Any]:
        return dict(hubspot.get_object(demo.PORTAL_ID, "deals", deal_id)["properties"])

    with celery_worker(extra_env=worker_env(sandbox, settings)), tasks_sent_to_broker():
        canceled = created_by_worker(tenant, demo.DEAL_AMOUNT_ONLY_ID, "e2e-cancel-full")
        result = invoice_request_create(
            tenant=tenant, deal_id=demo.DEAL_COMPLETE_ID, kind="deposit", percentage=Decimal("50"),
            idempotency_key="e2e-paid-deposit",
        )  # fmt: skip
        deposit: Invoice = wait_for(
            lambda: Invoice.objects.filter(pk=result.invoice.pk, hubspot_written_at__isnull=False).first(),
            timeout=45,
        )
        synced_by_worker(tenant)
        assert (
            props(demo.DEAL_AMOUNT_ONLY_ID)["qonto_invoiced_amount"]
            == canceled.subtotal_amount.to_eng_string()
        )

        # In Qonto: the first invoice is finalized, then canceled; the deposit is finalized, paid,
        # then 500 € HT of it is credited back (an avoir on a paid invoice).
        qonto.finalize(canceled.qonto_invoice_id)
        qonto.cancel(canceled.qonto_invoice_id)
        qonto.finalize(deposit.qonto_invoice_id)
        qonto.mark_paid(deposit.qonto_invoice_id)
        rate = qonto.get_invoice(deposit.qonto_invoice_id)["items"][0]["vat_rate"]
        note = qonto.create_credit_note(deposit.qonto_invoice_id, amount="500", vat_rate=rate)
        run = synced_by_worker(tenant)
        assert run.credit_notes_new == 1

        canceled.refresh_from_db()
        deposit.refresh_from_db()
        assert canceled.status == Invoice.Status.CANCELED
        assert deposit.status == Invoice.Status.PAID
        assert deposit.credited_subtotal == Decimal("500.00")
        assert CreditNote.objects.get().qonto_credit_note_id == note["id"]
        q = props(demo.DEAL_AMOUNT_ONLY_ID)
        assert q["qonto_last_invoice_status"] == "canceled"
        assert q["qonto_invoiced_amount"] == "0.00"
        assert q["qonto_paid_amount"] == "0.00"
        assert Decimal(q["qonto_left_to_invoice"]) == canceled.subtotal_amount  # all of it, again
        p = props(demo.DEAL_COMPLETE_ID)
        assert p["qonto_invoiced_amount"] == "5500.00"  # 6 000 deposit minus the 500 avoir
        assert p["qonto_paid_amount"] == "5500.00"  # the avoir is owed back to the client
        assert p["qonto_left_to_invoice"] == "6500.00"
        assert "Avoir" in p["qonto_invoices_summary"]

        # The balance, made by the worker, invoices exactly what is left; Σ = the deal.
        result = invoice_request_create(
            tenant=tenant, deal_id=demo.DEAL_COMPLETE_ID, kind="balance", percentage=None,
            idempotency_key="e2e-balance-after-avoir",
        )  # fmt: skip
        balance: Invoice = wait_for(
            lambda: Invoice.objects.filter(pk=result.invoice.pk, hubspot_written_at__isnull=False).first(),
            timeout=45,
        )
        assert balance.status == Invoice.Status.DRAFT
        assert balance.subtotal_amount == Decimal("6500.00")
        in_qonto = qonto.get_invoice(balance.qonto_invoice_id)
        assert in_qonto["total_amount_cents"] - in_qonto["vat_amount_cents"] == 650000
        synced_by_worker(tenant)
        assert props(demo.DEAL_COMPLETE_ID)["qonto_left_to_invoice"] == "0.00"


@pytest.mark.django_db(transaction=True)
def test_cancellation_and_credit_notes_on_a_paid_invoice_through_a_real_worker(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    qonto = sandbox.provider("qonto")
    hubspot = sandbox.provider("hubspot")

    def props(deal_id: str) -> dict[str, Any]:
        return dict(hubspot.get_object(demo.PORTAL_ID, "deals", deal_id)["properties"])

    def totals(deal_id: str) -> tuple[str, str, str]:
        p = props(deal_id)
        return p["qonto_invoiced_amount"], p["qonto_paid_amount"], p["qonto_left_to_invoice"]

    with celery_worker(extra_env=worker_env(sandbox, settings)), tasks_sent_to_broker():
        # A finalized, unpaid invoice (12 000 € HT) is canceled in Qonto (*Annuler*, mark_as_canceled).
        canceled = created_by_worker(tenant, demo.DEAL_COMPLETE_ID, "e2e-cancel-1")
        qonto.finalize(canceled.qonto_invoice_id)
        synced_by_worker(tenant)
        canceled.refresh_from_db()
        assert canceled.status == Invoice.Status.UNPAID
        assert totals(demo.DEAL_COMPLETE_ID) == ("12000.00", "0.00", "0.00")

        assert qonto.cancel(canceled.qonto_invoice_id)["status"] == "canceled"
        run = synced_by_worker(tenant)
        assert run.credit_notes_new == 0  # a plain cancellation, no avoir
        canceled.refresh_from_db()
        assert canceled.status == Invoice.Status.CANCELED
        assert canceled.credited_total == Decimal("0")
        assert props(demo.DEAL_COMPLETE_ID)["qonto_last_invoice_status"] == "canceled"
        assert totals(demo.DEAL_COMPLETE_ID) == ("0.00", "0.00", "12000.00")
        # ... and the deal can be invoiced again in full.
        again = created_by_worker(tenant, demo.DEAL_COMPLETE_ID, "e2e-cancel-2")
        assert again.pk != canceled.pk
        assert again.subtotal_amount == Decimal("12000.00")

        # A paid invoice (2 400 € HT at 20 %) gets a partial avoir of 400 € HT: it stays paid, and
        # the avoir comes off invoiced *and* paid (owed back to the client) and back into left.
        paid = created_by_worker(tenant, demo.DEAL_AMOUNT_ONLY_ID, "e2e-paid-1")
        qonto.finalize(paid.qonto_invoice_id)
        qonto.mark_paid(paid.qonto_invoice_id)
        synced_by_worker(tenant)
        assert totals(demo.DEAL_AMOUNT_ONLY_ID) == ("2400.00", "2400.00", "0.00")

        note = qonto.create_credit_note(paid.qonto_invoice_id, amount="400", vat_rate="0.2")
        run = synced_by_worker(tenant)
        assert run.credit_notes_new == 1
        paid.refresh_from_db()
        assert paid.status == Invoice.Status.PAID
        assert paid.credited_subtotal == Decimal("400.00")
        assert paid.credited_total == Decimal("480.00")
        assert CreditNote.objects.get(qonto_credit_note_id=note["id"]).invoice_id == paid.pk
        assert totals(demo.DEAL_AMOUNT_ONLY_ID) == ("2000.00", "2000.00", "400.00")
        assert "Avoir" in props(demo.DEAL_AMOUNT_ONLY_ID)["qonto_invoices_summary"]

        # A second avoir for the rest reaches the total: Qonto cancels the paid invoice, and the
        # next sync takes all of it out of invoiced and paid, without deducting the avoirs twice.
        qonto.create_credit_note(paid.qonto_invoice_id, amount="2000", vat_rate="0.2")
        assert qonto.get_invoice(paid.qonto_invoice_id)["status"] == "canceled"
        run = synced_by_worker(tenant)
        assert run.credit_notes_new == 1
        paid.refresh_from_db()
        assert paid.status == Invoice.Status.CANCELED
        assert paid.credited_total == paid.total_amount
        assert props(demo.DEAL_AMOUNT_ONLY_ID)["qonto_last_invoice_status"] == "canceled"
        assert totals(demo.DEAL_AMOUNT_ONLY_ID) == ("0.00", "0.00", "2400.00")
        # The other deal is untouched by all this: its new draft counts as invoiced, nothing paid.
        assert totals(demo.DEAL_COMPLETE_ID) == ("12000.00", "0.00", "0.00")
