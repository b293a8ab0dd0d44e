"""From a click to a draft in the sandbox Qonto and back onto the HubSpot deal — never twice."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from connector.invoices.request import InvoiceRequestRefused, invoice_request_create, invoice_retry
from connector.models import Invoice
from connector.tasks import invoice_create_task
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

QONTO_CREATE = r"^/v2/client_invoices$"


def click(
    world: InvoiceWorld, kind: str = "full", percentage: str | None = None, key: str = "key-0001", **kw: Any
):  # type: ignore[no-untyped-def]
    return invoice_request_create(
        tenant=world.tenant,
        deal_id=kw.pop("deal_id", demo.DEAL_COMPLETE_ID),
        kind=kind,
        percentage=Decimal(percentage) if percentage else None,
        idempotency_key=key,
        **kw,
    )


@pytest.mark.django_db
def test_full_invoice_lands_as_draft_with_lines_vat_and_write_back(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        result = click(invoice_world)
    assert result.created
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id

    [qinv] = invoice_world.qonto_invoices()
    assert qinv["status"] == "draft"
    assert qinv["purchase_order"] == inv.reference
    assert qinv["number"] is None
    rates = sorted({item["vat_rate"] for item in qinv["items"]})
    assert rates == ["0.055", "0.1", "0.2"]
    assert len(qinv["items"]) == 4
    assert all(len(item["title"]) <= 40 for item in qinv["items"])
    # Our row holds Qonto's amounts, and they equal what the builder computed.
    assert str(inv.total_amount) == qinv["total_amount"]["value"] or inv.total_amount == Decimal(
        qinv["total_amount"]["value"]
    )
    assert inv.subtotal_amount == Decimal("12000.00")

    deal = invoice_world.deal(demo.DEAL_COMPLETE_ID)
    props = deal["properties"]
    assert props["qonto_last_invoice_status"] == "draft"
    assert props["qonto_last_invoice_id"] == inv.qonto_invoice_id
    assert props["qonto_invoiced_amount"] == "12000.00"
    assert props["qonto_left_to_invoice"] == "0.00"
    assert props["qonto_overdue"] == "false"
    notes = invoice_world.hubspot.notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID)
    assert len(notes) == 1
    assert "Brouillon" in notes[0]["properties"]["hs_note_body"]


@pytest.mark.django_db
def test_same_key_answers_the_same_invoice(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        first = click(invoice_world, key="same-key-123")
        second = click(invoice_world, key="same-key-123")
    assert first.created
    assert not second.created
    assert second.invoice.pk == first.invoice.pk
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_second_full_invoice_is_refused(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        click(invoice_world, key="full-one-0001")
    with pytest.raises(InvoiceRequestRefused) as refused:
        click(invoice_world, key="full-two-0002")
    # The deal is fully invoiced: one message, never "invoice the balance" (which would say "nothing left").
    assert refused.value.problems[0].code == "nothing_left"
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_deposit_then_balance_add_up_to_the_deal(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        deposit = click(invoice_world, "deposit", "30", key="deposit-30-01").invoice
        balance = click(invoice_world, "balance", key="balance-0001").invoice
    deposit.refresh_from_db()
    balance.refresh_from_db()
    assert deposit.subtotal_amount == Decimal("3600.00")
    assert balance.subtotal_amount == Decimal("8400.00")
    assert [d["id"] for d in balance.deducted] == [str(deposit.id)]
    qinvoices = invoice_world.qonto_invoices()
    assert len(qinvoices) == 2
    assert all(q["status"] == "draft" for q in qinvoices)
    # One deposit line per VAT rate.
    deposit_q = next(q for q in qinvoices if q["id"] == deposit.qonto_invoice_id)
    assert len(deposit_q["items"]) == 3
    assert all(item["title"].startswith("Acompte de 30") for item in deposit_q["items"])
    with pytest.raises(InvoiceRequestRefused) as refused:
        click(invoice_world, "balance", key="balance-0002")
    assert refused.value.problems[0].code == "nothing_left"


@pytest.mark.django_db
def test_deposits_never_exceed_the_deal(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        click(invoice_world, "deposit", "60", key="deposit-60-01")
    with pytest.raises(InvoiceRequestRefused) as refused:
        click(invoice_world, "deposit", "50", key="deposit-50-02")
    assert refused.value.problems[0].code == "deposit_exceeds_deal"
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_company_without_siret_is_refused_before_anything_is_sent(invoice_world: InvoiceWorld) -> None:
    with pytest.raises(InvoiceRequestRefused) as refused:
        click(invoice_world, deal_id=demo.DEAL_NO_SIRET_ID)
    codes = [p.code for p in refused.value.problems]
    assert "missing_siret" in codes
    assert refused.value.problems[codes.index("missing_siret")].field == "company.siret"
    assert Invoice.objects.count() == 0
    assert invoice_world.qonto_invoices() == []


@pytest.mark.django_db
def test_qonto_500_twice_then_ok_makes_one_invoice(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.fault(provider="qonto", method="POST", path=QONTO_CREATE, status=500, count=2)
    with django_capture_on_commit_callbacks(execute=True):
        result = click(invoice_world)
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.DRAFT
    assert inv.attempts == 3
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_answer_lost_after_qonto_created_it_is_adopted_not_duplicated(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # Qonto creates the invoice, then the connection drops: we never see the answer.
    invoice_world.fault(provider="qonto", method="POST", path=QONTO_CREATE, kind="commit_then_fail", status=0)
    with django_capture_on_commit_callbacks(execute=True):
        result = click(invoice_world)
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.DRAFT
    [qinv] = invoice_world.qonto_invoices()
    assert inv.qonto_invoice_id == qinv["id"]


@pytest.mark.django_db
def test_worker_killed_after_the_qonto_call_retry_adopts(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # Accept the click but do not run the task (the worker "dies" before it even starts) …
    result = click(invoice_world)
    inv = Invoice.objects.get(pk=result.invoice.pk)
    # … then simulate a worker that committed CREATING, sent the POST and died before storing.
    from connector.qonto_client import QontoClient

    qonto = QontoClient.for_connection(invoice_world.tenant.qonto_connection)
    client = qonto.create_client(inv.payload["client"])
    qonto.create_invoice({**inv.payload["invoice"], "client_id": client["id"], "status": "draft"})
    Invoice.objects.filter(pk=inv.pk).update(status=Invoice.Status.CREATING, attempts=1)
    invoice_create_task.delay(str(inv.pk))  # the redelivered task
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    [qinv] = invoice_world.qonto_invoices()
    assert inv.qonto_invoice_id == qinv["id"]


@pytest.mark.django_db
def test_hubspot_429_on_write_back_is_retried_and_lands(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.fault(
        provider="hubspot",
        method="PATCH",
        path=rf"/deals/{demo.DEAL_COMPLETE_ID}$",
        status=429,
        count=1,
        headers={"Retry-After": "0"},
        body={"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
              "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"},
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        click(invoice_world)
    props = invoice_world.deal(demo.DEAL_COMPLETE_ID)["properties"]
    assert props["qonto_last_invoice_status"] == "draft"
    patches = [
        e for e in invoice_world.sb.sandbox.log.entries("hubspot")
        if e.method == "PATCH" and e.path.endswith(demo.DEAL_COMPLETE_ID)
    ]  # fmt: skip
    assert [e.status for e in patches] == [429, 200]


@pytest.mark.django_db
def test_qonto_refusal_fails_with_the_reason_and_retry_after_fix(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.fault(
        provider="qonto", method="POST", path=QONTO_CREATE, status=422, count=1,
        body={"errors": [{"code": "invalid_iban", "detail": "IBAN is empty",
                          "source": {"pointer": "/data/attributes/payment_methods/iban"}}], "trace_id": "t1"},
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        result = click(invoice_world)
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.FAILED
    assert "IBAN is empty" in inv.error_message
    assert inv.error_retryable is True
    assert invoice_world.qonto_invoices() == []
    with django_capture_on_commit_callbacks(execute=True):
        invoice_retry(invoice=inv)
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_clicks_with_one_key_make_one_invoice(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.invoice_world import make_operational_tenant

    tenant = make_operational_tenant(sandbox)
    world = InvoiceWorld(sb=sandbox, tenant=tenant, settings=settings)
    results: list[Any] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(10)

    def worker() -> None:
        try:
            barrier.wait()
            results.append(click(world, key="concurrent-key-1"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len({r.invoice.pk for r in results}) == 1
    assert sum(1 for r in results if r.created) == 1
    assert Invoice.objects.filter(tenant=tenant).count() == 1
    assert len(world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_an_invoice_whose_task_was_lost_is_requeued_and_created_once(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from connector.invoices.submit import invoices_requeue_stuck

    # The click is accepted but its task never runs (e.g. Redis restarted and lost the queue).
    result = click(invoice_world, key="lost-task-key-1")
    assert invoices_requeue_stuck() == []  # too recent to be called stuck
    Invoice.objects.filter(pk=result.invoice.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        requeued = invoices_requeue_stuck()
    assert requeued == [str(result.invoice.pk)]
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.DRAFT
    assert len(invoice_world.qonto_invoices()) == 1
    assert invoices_requeue_stuck() == []  # settled: nothing left to do


@pytest.mark.django_db
def test_an_existing_qonto_client_found_by_exact_name_is_reused_and_completed(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # Created by hand in Qonto: no tax id, another case and accents, no address yet.
    existing = invoice_world.qonto.seed_client(demo.QONTO_LOGIN, kind="company", name="acme industrie sàs")
    invoice_world.qonto.seed_client(demo.QONTO_LOGIN, kind="company", name="ACME Industrie SAS Bis")
    with django_capture_on_commit_callbacks(execute=True):
        result = click(invoice_world, key="exact-name-key-1")
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_client_id == existing["id"]
    clients = invoice_world.qonto.list_clients(demo.QONTO_LOGIN)
    assert len(clients) == 2  # reused, not created
    reused = next(c for c in clients if c["id"] == existing["id"])
    assert reused["billing_address"]["city"] == "Paris"  # completed before invoicing
