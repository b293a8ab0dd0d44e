"""Qonto credit notes (avoirs) on our invoices, brought back by every run.

What Qonto exposes [doc]: ``GET /v2/credit_notes`` (paginated like every list, filter
``filter[created_at_from]``) and ``GET /v2/credit_notes/{id}``; each credit note names its
``invoice_id``; an invoice lists its credit notes in ``credit_notes_ids``. A credit note has no
status and is final once created [seen], so a run needs only the ones *created* since the cursor:

1. list the credit notes created since the run's lower bound (the invoice cursor minus the
   overlap; everything on a full run) — one call for most runs;
2. fetch by id the ones our invoices name in ``credit_notes_ids`` that we still do not know
   (an invoice attached by the history import, a listing that missed one).

Credit notes on invoices that are not ours are ignored. Each new or changed one updates its
invoice's ``credited_subtotal`` / ``credited_total`` and makes its deal a write-back candidate.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Sum

from connector.invoices.apply import apply_qonto_credit_note
from connector.models import CreditNote, Invoice, Tenant
from connector.qonto_client import QontoClient, QontoNotFoundError
from connector.sync.budget import patiently
from connector.sync.stats import SyncStats

logger = logging.getLogger(__name__)

MAX_FETCHES = 500  # credit notes fetched by id per run; the rest waits for the next run


def credit_notes_sync(
    tenant: Tenant, qonto: QontoClient, created_from: datetime | None, stats: SyncStats
) -> None:
    """Steps 1 and 2 above."""
    page_number = 1
    while True:
        page = patiently(
            partial(qonto.list_credit_notes_page, page=page_number, per_page=100, created_from=created_from),
            "listing credit notes",
        )
        credit_notes_apply(tenant, page.items, stats)
        if not page.next_page or not page.items:
            break
        page_number = page.next_page
    credit_notes_fetch(tenant, qonto, stats.unknown_credit_notes, stats)


def credit_notes_fetch(tenant: Tenant, qonto: QontoClient, ids: Iterable[str], stats: SyncStats) -> None:
    """Fetch the credit notes ``ids`` we do not know yet (by id), and apply them."""
    wanted = set(ids)
    if not wanted:
        return
    wanted -= set(
        CreditNote.objects.filter(tenant=tenant, qonto_credit_note_id__in=wanted).values_list(
            "qonto_credit_note_id", flat=True
        )
    )
    fetched: list[dict[str, Any]] = []
    for credit_note_id in sorted(wanted)[:MAX_FETCHES]:
        try:
            fetched.append(patiently(partial(qonto.get_credit_note, credit_note_id), "reading a credit note"))
        except QontoNotFoundError:
            logger.warning("tenant %s: credit note %s listed but not found", tenant.portal_id, credit_note_id)
    credit_notes_apply(tenant, fetched, stats)
    stats.unknown_credit_notes -= wanted


def credit_notes_apply(tenant: Tenant, items: list[dict[str, Any]], stats: SyncStats) -> set[str]:
    """Upsert the credit notes of ``items`` that credit one of our invoices. Returns their deals."""
    if not items:
        return set()
    stats.credit_notes_seen += len(items)
    invoice_ids = {str(item.get("invoice_id")) for item in items if item.get("invoice_id")}
    deals: set[str] = set()
    with transaction.atomic():
        invoices = {
            inv.qonto_invoice_id: inv
            for inv in Invoice.objects.filter(tenant=tenant, qonto_invoice_id__in=invoice_ids).only(
                "id", "qonto_invoice_id", "hubspot_deal_id"
            )
        }
        ours = [item for item in items if str(item.get("invoice_id")) in invoices and item.get("id")]
        existing = {
            n.qonto_credit_note_id: n
            for n in CreditNote.objects.select_for_update().filter(
                tenant=tenant, qonto_credit_note_id__in=[str(item["id"]) for item in ours]
            )
        }
        touched: set[Any] = set()
        for item in ours:
            inv = invoices[str(item["invoice_id"])]
            note = existing.get(str(item["id"]))
            created = note is None
            if note is None:
                note = CreditNote(tenant=tenant, invoice=inv, hubspot_deal_id=inv.hubspot_deal_id)
            if apply_qonto_credit_note(note, item) or created:
                note.save()
                existing[note.qonto_credit_note_id] = note
                touched.add(inv.pk)
                deals.add(inv.hubspot_deal_id)
                stats.credit_notes_new += int(created)
        invoice_credits_refresh(touched)
    stats.dirty_deals |= deals
    return deals


def invoice_credits_refresh(invoice_pks: Iterable[Any]) -> None:
    """Recompute ``credited_subtotal`` / ``credited_total`` of these invoices from their credit notes."""
    pks = list(invoice_pks)
    if not pks:
        return
    sums: dict[Any, tuple[Decimal, Decimal]] = {}
    for row in (
        CreditNote.objects.filter(invoice_id__in=pks)
        .values("invoice_id")
        .annotate(subtotal=Sum("subtotal_amount"), total=Sum("total_amount"))
    ):
        sums[row["invoice_id"]] = (row["subtotal"] or Decimal("0"), row["total"] or Decimal("0"))
    for inv in Invoice.objects.filter(pk__in=pks).only("id", "credited_subtotal", "credited_total"):
        inv.credited_subtotal, inv.credited_total = sums.get(inv.pk, (Decimal("0"), Decimal("0")))
        inv.save(update_fields=["credited_subtotal", "credited_total", "updated_at"])
