"""What we send Qonto and what we check in its answers: draft only, one status per listing, UTC.

Provider facts (shared/spec/qonto.md §4): we always POST ``"status": "draft"``; the list's
``filter[status]`` takes one of draft/unpaid/paid/canceled — how several are combined is not
documented, so we send one value per listing; datetimes as Qonto's examples show them
(``2022-02-01T12:01:02Z``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connector.doctor import tenant_diagnose
from connector.models import Invoice
from connector.qonto_client import QontoClient, utc_param
from tests.connector.test_invoice_flow import QONTO_CREATE, click
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

PARIS = ZoneInfo("Europe/Paris")


def _listings(world: InvoiceWorld) -> list[Any]:
    return [
        e
        for e in world.sb.sandbox.log.entries("qonto")
        if e.method == "GET" and e.path == "/v2/client_invoices"
    ]


@pytest.mark.django_db
def test_an_answer_that_is_not_a_draft_is_recorded_loudly_and_never_retried(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks, caplog
) -> None:  # type: ignore[no-untyped-def]
    finalized = {
        "client_invoice": {
            "id": "4d5418bb-bd0d-4df4-865c-c07afab8bb48",
            "status": "unpaid",
            "number": "F-2026-0042",
            "currency": "EUR",
            "total_amount": {"value": "14400.00", "currency": "EUR"},
            "vat_amount": {"value": "2400.00", "currency": "EUR"},
            "issue_date": "2026-07-01",
            "due_date": "2026-07-31",
            "invoice_url": "https://pay.qonto.com/invoices/4d5418bb",
        }
    }
    invoice_world.fault(provider="qonto", method="POST", path=QONTO_CREATE, status=201, body=finalized)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        result = click(invoice_world)

    [post] = [
        e
        for e in invoice_world.sb.sandbox.log.entries("qonto")
        if e.method == "POST" and e.path == "/v2/client_invoices"
    ]
    assert post.body["status"] == "draft"  # we asked for a draft, as always
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == "unpaid"  # what Qonto says is kept: the invoice exists, numbered
    assert inv.number == "F-2026-0042"
    assert inv.error_code == "not_draft"
    assert inv.error_retryable is False
    messages = inv.payload["error_messages"]
    assert "« unpaid »" in messages["fr"]
    assert "brouillon" in messages["fr"]
    assert messages["en"] == (
        'Qonto created the invoice with status "unpaid" instead of a draft: check it in Qonto.'
    )
    assert any("not as a draft" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    [finding] = [f for f in tenant_diagnose(invoice_world.tenant) if f.code == "invoice_not_draft"]
    assert finding.severity == "error"
    assert inv.reference in finding.message
    assert inv.attempts == 1  # not retried


@pytest.mark.django_db
def test_status_filter_is_one_value_per_listing(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        click(invoice_world)
    [draft] = invoice_world.qonto_invoices()
    qonto = QontoClient.for_connection(invoice_world.tenant.qonto_connection)
    before = len(_listings(invoice_world))

    page = qonto.list_invoices_page(status="draft")
    assert [i["id"] for i in page.items] == [draft["id"]]
    items = [i["id"] for p in qonto.iter_invoice_pages(statuses=("draft", "paid")) for i in p.items]
    assert items == [draft["id"]]

    sent = [e.query["filter[status]"] for e in _listings(invoice_world)[before:]]
    assert sent == [["draft"], ["draft"], ["paid"]]  # never "draft,paid", never repeated
    with pytest.raises(ValueError, match="unknown Qonto invoice status"):
        qonto.list_invoices_page(status="draft,paid")


@pytest.mark.django_db
def test_filter_datetimes_are_sent_as_aware_utc(invoice_world: InvoiceWorld) -> None:
    qonto = QontoClient.for_connection(invoice_world.tenant.qonto_connection)
    paris = datetime(2026, 7, 1, 9, 30, 15, 500_000, tzinfo=PARIS)
    qonto.list_invoices_page(updated_from=paris, updated_to=paris, created_from=paris)
    [entry] = _listings(invoice_world)[-1:]
    assert entry.query["filter[updated_at_from]"] == ["2026-07-01T07:30:15Z"]  # rounded down
    assert entry.query["filter[updated_at_to]"] == ["2026-07-01T07:30:16Z"]  # rounded up
    assert entry.query["filter[created_at_from]"] == ["2026-07-01T07:30:15Z"]
    with pytest.raises(ValueError, match="aware"):
        qonto.list_invoices_page(updated_from=datetime(2026, 7, 1, 9, 30))


def test_utc_param() -> None:
    assert utc_param(datetime(2026, 1, 1, 0, 0, tzinfo=UTC)) == "2026-01-01T00:00:00Z"
    assert utc_param(datetime(2026, 1, 1, 0, 0, tzinfo=PARIS)) == "2025-12-31T23:00:00Z"
    assert utc_param(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=1), round_up=True) == (
        "2026-01-01T00:00:01Z"
    )
    assert utc_param(datetime(2026, 1, 1, tzinfo=UTC), round_up=True) == "2026-01-01T00:00:00Z"
