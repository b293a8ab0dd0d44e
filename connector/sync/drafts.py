"""Drafts deleted in Qonto: they vanish from every listing (no ``updated_at`` event), so the sync
has to notice their absence.

- A **full** run lists everything: a draft of ours it did not see is a candidate.
- An **incremental** run lists only what changed, so once every ``SYNC_DRAFT_CHECK_MINUTES``
  (30 by default) it lists Qonto's drafts (``filter[status]=draft``, 100 per page: one call for
  most tenants) and compares them with the drafts we believe exist. Nothing is listed when the
  tenant has no draft of ours, and the check is not repeated in between: the incremental budget
  stays one Qonto call per run plus pages.

A candidate is never marked on its absence alone: it is confirmed with ``GET
/v2/client_invoices/{id}``. A 404 marks it DELETED (its amount no longer counts, and the card's
*Generate* works again); any answer is applied instead (a draft finalized or canceled in
between). Listings can skip an invoice when another one changes status during the listing
(pages shift): the GET makes that harmless. At most ``MAX_CONFIRMATIONS`` GETs per run; the rest
waits for the next run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.utils import timezone

from connector.invoices.apply import apply_qonto_invoice
from connector.models import Invoice, Tenant
from connector.qonto_client import QontoClient, QontoNotFoundError
from connector.sync.budget import patiently
from connector.sync.stats import SyncStats

logger = logging.getLogger(__name__)

MAX_CONFIRMATIONS = 500


def check_interval() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "SYNC_DRAFT_CHECK_MINUTES", 30)))


def _missing_drafts(tenant: Tenant, present: set[str], *, before: datetime) -> list[UUID]:
    """Our drafts (recorded before ``before``) whose Qonto id is not in ``present``, streamed so a
    tenant with 50,000 drafts never holds its rows in memory (only ``present``, which it has)."""
    rows = (
        Invoice.objects.filter(
            tenant=tenant,
            status=Invoice.Status.DRAFT,
            qonto_invoice_id__isnull=False,
            # A draft recorded after the listing started cannot be in it: not a candidate.
            updated_at__lt=before,
        )
        .values_list("qonto_invoice_id", "pk")
        .iterator(chunk_size=2000)
    )
    return [pk for qonto_id, pk in rows if qonto_id not in present]


def drafts_after_full_listing(
    tenant: Tenant, qonto: QontoClient, seen_ids: set[str], stats: SyncStats, *, started: datetime
) -> bool:
    """Drafts of ours a full listing no longer shows: confirm each, mark the deleted ones."""
    return _confirm(tenant, qonto, _missing_drafts(tenant, seen_ids, before=started), stats)


def drafts_check_if_due(
    tenant: Tenant, qonto: QontoClient, seen_ids: set[str], stats: SyncStats, *, now: datetime
) -> bool | None:
    """The incremental check, when due. Returns None when not done, else whether it finished."""
    last = tenant.drafts_checked_at
    if last is not None and now - last < check_interval():
        return None
    if not Invoice.objects.filter(
        tenant=tenant, status=Invoice.Status.DRAFT, qonto_invoice_id__isnull=False
    ).exists():
        return None  # nothing to compare (and the first draft is checked at the next run)
    listing_started = timezone.now()
    listed: set[str] = set(seen_ids)  # seen by this run's own listing: already applied
    page_number = 1
    while True:
        page = patiently(
            partial(
                qonto.list_invoices_page,
                page=page_number,
                per_page=100,
                status="draft",
                sort_by="created_at:asc",
            ),
            "listing drafts",
        )
        listed.update(str(item.get("id")) for item in page.items)
        if not page.next_page or not page.items:
            break
        page_number = page.next_page
    return _confirm(tenant, qonto, _missing_drafts(tenant, listed, before=listing_started), stats)


def _confirm(tenant: Tenant, qonto: QontoClient, pks: list[UUID], stats: SyncStats) -> bool:
    """GET each candidate: 404 → DELETED, else apply Qonto's answer. False if some had to wait."""
    finished = len(pks) <= MAX_CONFIRMATIONS
    for inv in Invoice.objects.filter(tenant=tenant, pk__in=pks[:MAX_CONFIRMATIONS]).defer("payload"):
        qonto_id = str(inv.qonto_invoice_id)
        try:
            data = patiently(partial(qonto.get_invoice, qonto_id), "checking a draft")
        except QontoNotFoundError:
            inv.status = Invoice.Status.DELETED
            inv.save(update_fields=["status", "updated_at"])
            stats.changed += 1
            stats.drafts_deleted += 1
            stats.dirty_deals.add(inv.hubspot_deal_id)
            logger.info("invoice %s: draft %s deleted in Qonto", inv.pk, qonto_id)
            continue
        stats.unknown_credit_notes.update(str(i) for i in data.get("credit_notes_ids") or [] if i)
        if apply_qonto_invoice(inv, data):
            inv.save()
            stats.changed += 1
            stats.dirty_deals.add(inv.hubspot_deal_id)
    return finished


def mark_drafts_checked(tenant: Tenant, at: datetime) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(drafts_checked_at=at)
    tenant.drafts_checked_at = at
