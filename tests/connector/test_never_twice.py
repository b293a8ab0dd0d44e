"""Issue 16, "never twice, for real": each window where a retry, an expired lock or a requeue could
create a second Qonto invoice, reproduced against the sandbox (eager tasks, simulator faults, time
travel). The same scenarios with real worker processes are in tests/reliability/test_never_twice.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from connector.invoices.request import invoice_request_create, invoice_retry
from connector.models import Invoice
from connector.qonto_client import QontoClient
from connector.tasks import invoice_create_task
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

QONTO_CREATE = r"^/v2/client_invoices$"
QONTO_LIST = r"^/v2/client_invoices$"


def click(world: InvoiceWorld, key: str, kind: str = "full", percentage: str | None = None) -> Invoice:
    return invoice_request_create(
        tenant=world.tenant,
        deal_id=demo.DEAL_COMPLETE_ID,
        kind=kind,
        percentage=Decimal(percentage) if percentage else None,
        idempotency_key=key,
    ).invoice


def created_in_qonto_but_answer_lost(world: InvoiceWorld, inv: Invoice) -> dict[str, Any]:
    """What a worker leaves behind when it dies right after Qonto created the invoice."""
    qonto = QontoClient.for_connection(world.tenant.qonto_connection)
    client = qonto.create_client(inv.payload["client"])
    created = qonto.create_invoice({**inv.payload["invoice"], "client_id": client["id"], "status": "draft"})
    Invoice.objects.filter(pk=inv.pk).update(
        status=Invoice.Status.CREATING, attempts=1, submitted_at=timezone.now(), qonto_client_id=client["id"]
    )
    return created


def qonto_posts(world: InvoiceWorld) -> list[int]:
    return [
        e.status
        for e in world.sb.sandbox.log.entries("qonto")
        if e.method == "POST" and e.path == "/v2/client_invoices"
    ]


@pytest.mark.django_db
def test_the_reference_on_the_invoice_is_the_deal_name_and_our_key(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        inv = click(invoice_world, "reference-1")
    inv.refresh_from_db()
    [qinv] = invoice_world.qonto_invoices()
    assert inv.reconcile_key
    assert inv.reconcile_key.startswith("QC-")
    assert qinv["purchase_order"] == f"Refonte site – Agence & Co — réf. {inv.reconcile_key}"
    assert "HubSpot" not in qinv["purchase_order"]


@pytest.mark.django_db
def test_a_retry_hours_later_adopts_the_invoice_qonto_created_then(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # The POST reaches Qonto but the answer is lost, and every search fails while the task
    # retries: the row ends FAILED (retryable) with the invoice in Qonto.
    invoice_world.fault(provider="qonto", method="POST", path=QONTO_CREATE, kind="commit_then_fail", status=0)
    invoice_world.fault(provider="qonto", method="GET", path=QONTO_LIST, status=500, count=None)
    with django_capture_on_commit_callbacks(execute=True):
        inv = click(invoice_world, "hours-later-1")
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.FAILED
    assert inv.error_retryable
    assert inv.submitted_at is not None
    assert len(invoice_world.qonto_invoices()) == 1
    invoice_world.sb.sandbox.faults.clear()
    # Three hours later, the user clicks Retry on the card.
    later = time_machine.travel(timezone.now() + timedelta(hours=3), tick=True)
    with later, django_capture_on_commit_callbacks(execute=True):
        invoice_retry(invoice=inv)
    inv.refresh_from_db()
    [qinv] = invoice_world.qonto_invoices()  # one invoice: adopted, not POSTed again
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id == qinv["id"]
    assert qonto_posts(invoice_world) == [0]  # the one POST whose answer was lost


@pytest.mark.django_db
def test_a_row_made_before_the_key_column_still_reconciles_by_its_old_reference(
    invoice_world: InvoiceWorld,
) -> None:
    inv = click(invoice_world, "legacy-reference-1")  # its task never ran
    legacy = f"HubSpot deal {demo.DEAL_COMPLETE_ID} / QC-{inv.id.hex[:12]}"
    payload = {**inv.payload, "invoice": {**inv.payload["invoice"], "purchase_order": legacy}}
    Invoice.objects.filter(pk=inv.pk).update(reference=legacy, reconcile_key=None, payload=payload)
    inv.refresh_from_db()
    created = created_in_qonto_but_answer_lost(invoice_world, inv)
    invoice_create_task.delay(str(inv.pk))
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id == created["id"]
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_our_invoice_is_found_pages_later_among_newer_ones(invoice_world: InvoiceWorld) -> None:
    inv = click(invoice_world, "paged-1")
    # 150 other invoices made in Qonto since the click, before ours: ours is on the second page.
    invoice_world.qonto.bulk_seed_invoices(demo.QONTO_LOGIN, 150, purchase_order="Autre facture {i}")
    created = created_in_qonto_but_answer_lost(invoice_world, inv)
    invoice_create_task.delay(str(inv.pk))
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id == created["id"]
    lists = [e for e in invoice_world.sb.sandbox.log.entries("qonto") if e.method == "GET"
             and e.path == "/v2/client_invoices"]  # fmt: skip
    assert len(lists) == 2
    assert len(invoice_world.qonto_invoices()) == 151


@pytest.mark.django_db
def test_a_permanent_error_from_the_search_ends_failed_with_the_reason_not_creating_forever(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    inv = click(invoice_world, "search-403-1")
    created = created_in_qonto_but_answer_lost(invoice_world, inv)
    invoice_world.fault(
        provider="qonto", method="GET", path=QONTO_LIST, status=403, count=1,
        body={"errors": [{"code": "forbidden", "detail": "missing required oauth scope"}], "trace_id": "t4"},
    )  # fmt: skip
    invoice_create_task.delay(str(inv.pk))
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.FAILED
    assert inv.error_code == "qonto_reconcile_failed"
    assert "missing required oauth scope" in inv.error_message
    assert inv.payload["error_messages"]["en"] != inv.payload["error_messages"]["fr"]
    assert inv.error_retryable is True
    assert inv.submitted_at is not None  # still known to have been sent: a retry searches first
    assert qonto_posts(invoice_world) == [200]  # nothing POSTed blind
    with django_capture_on_commit_callbacks(execute=True):
        invoice_retry(invoice=inv)
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id == created["id"]
    assert len(invoice_world.qonto_invoices()) == 1
