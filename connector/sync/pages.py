"""Step 1 of a run: the tenant's Qonto invoices updated since the cursor, applied page by page.

Pages are sorted by creation so updates during the listing never shift a page; each page is
applied to our rows (only invoices we created or attached are tracked) and committed before the
next is fetched, so memory stays flat whatever the tenant's size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from connector.invoices.apply import apply_qonto_invoice
from connector.models import CreditNote, Invoice, Tenant
from connector.qonto_client import Page, QontoClient, parse_datetime
from connector.sync.budget import patiently
from connector.sync.stats import SyncStats

# Fields ``apply_qonto_invoice`` may change: a page is saved with one bulk UPDATE of just these.
APPLIED_FIELDS = (
    "qonto_invoice_id",
    "status",
    "number",
    "issue_date",
    "due_date",
    "total_amount",
    "vat_amount",
    "subtotal_amount",
    "qonto_subtotal_by_vat",
    "paid_at",
    "finalized_at",
    "qonto_url",
    "qonto_updated_at",
    "einvoicing_status",
    "attachment_id",
    "updated_at",
)


def list_page(qonto: QontoClient, page: int, updated_from: datetime | None) -> Page:
    """One page of invoices updated since ``updated_from`` (everything when ``None``)."""
    return patiently(
        lambda: qonto.list_invoices_page(
            page=page, per_page=100, updated_from=updated_from, sort_by="created_at:asc"
        ),
        "listing invoices",
    )


def apply_invoice_pages(
    tenant: Tenant, qonto: QontoClient, updated_from: datetime | None, stats: SyncStats
) -> set[str]:
    """List and apply every page; returns the ids of every invoice listed (ours or not)."""
    seen_ids: set[str] = set()
    page_number = 1
    while True:
        page = list_page(qonto, page_number, updated_from)
        stats.seen += len(page.items)
        ids = [str(item.get("id")) for item in page.items]
        seen_ids.update(ids)
        _apply_page(tenant, page.items, ids, stats)
        if not page.next_page or not page.items:
            return seen_ids
        page_number = page.next_page


def _apply_page(tenant: Tenant, items: list[dict[str, Any]], ids: list[str], stats: SyncStats) -> None:
    with transaction.atomic():
        rows = {
            r.qonto_invoice_id: r
            for r in Invoice.objects.select_for_update()
            .defer("payload", "deducted")
            .filter(tenant=tenant, qonto_invoice_id__in=ids)
        }
        changed: list[Invoice] = []
        referenced: set[str] = set()
        now = timezone.now()
        for item in items:
            updated = parse_datetime(item.get("updated_at"))
            if updated is not None and (stats.max_updated is None or updated > stats.max_updated):
                stats.max_updated = updated
            row = rows.get(str(item.get("id")))
            if row is None:
                continue  # not one of ours
            # Every deal seen is a write-back candidate: its fingerprint decides. A run that
            # failed after committing a page left those deals behind; this catches them up.
            stats.dirty_deals.add(row.hubspot_deal_id)
            referenced.update(str(i) for i in item.get("credit_notes_ids") or [] if i)
            if apply_qonto_invoice(row, item):
                row.updated_at = now
                changed.append(row)
        if changed:
            Invoice.objects.bulk_update(changed, APPLIED_FIELDS)
            stats.changed += len(changed)
    if referenced:
        known = set(
            CreditNote.objects.filter(tenant=tenant, qonto_credit_note_id__in=referenced).values_list(
                "qonto_credit_note_id", flat=True
            )
        )
        stats.unknown_credit_notes |= referenced - known
