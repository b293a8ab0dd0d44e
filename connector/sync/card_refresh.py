"""The card's *Actualiser*: read this deal's invoices from Qonto now, not only our rows.

One list call, inside the shared Qonto budget: ``GET /v2/client_invoices`` filtered on the creation
window of the deal's invoices (``filter[created_at_from|to]`` [doc]; Qonto documents no filter by
id or by ``purchase_order``), then a ``GET /v2/client_invoices/{id}`` only for an invoice that window
did not show (a page of 100 filled by the organization's other invoices, or a deleted draft: a 404
marks it deleted, as the full sync does). What Qonto says is applied with the sync's
``apply_qonto_invoice``; the credit notes (avoirs) those invoices list that we do not know yet are
fetched by id (``GET /v2/credit_notes/{id}`` [doc], at most ``MAX_CREDIT_NOTES`` a click: the sync
brings any others) so the totals account for them at once. When something changed, the deal's
HubSpot properties are written back by the worker. The HubSpot snapshot of the deal is dropped so
the card reads HubSpot again too.

Repeated clicks within ``MIN_INTERVAL`` read nothing new: they answer what the last click read.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from connector import jobs
from connector.invoices.apply import apply_qonto_invoice
from connector.invoices.snapshots import deal_snapshot_forget
from connector.logging import bind_tenant
from connector.models import CreditNote, Deal, Invoice, QontoConnection, Tenant
from connector.qonto_client import QontoClient, QontoNotFoundError, QontoRateLimitedError
from connector.ratelimit import RateLimitTimeout, qonto_limiter
from connector.sync.credit_notes import credit_notes_apply
from connector.sync.stats import SyncStats

logger = logging.getLogger(__name__)

MIN_INTERVAL = timedelta(seconds=5)
WINDOW_MARGIN = timedelta(minutes=10)  # Qonto's created_at vs our submitted_at (clock skew, slow POST)
BUDGET_WAIT_S = 3.0  # the card waits at most this long for a slot in the shared Qonto budget
MAX_CREDIT_NOTES = 5  # new credit notes fetched by id per click


@dataclasses.dataclass(frozen=True)
class RefreshResult:
    read_at: datetime | None  # when Qonto was read for this deal (None: nothing to read)
    changed: int  # invoices whose status, number, amounts… changed
    qonto_calls: int


def _limited_acquire() -> None:
    try:
        qonto_limiter().acquire(timeout=BUDGET_WAIT_S)
    except RateLimitTimeout as exc:
        raise QontoRateLimitedError(str(exc), retry_after=BUDGET_WAIT_S) from exc


def deal_invoices_refresh(*, tenant: Tenant, deal_id: str) -> RefreshResult:
    """Read the deal's invoices from Qonto now and apply what changed. Raises Qonto's typed errors."""
    bind_tenant(tenant.portal_id)
    deal_snapshot_forget(tenant_id=tenant.pk, deal_ids=[deal_id])
    deal = Deal.objects.filter(tenant=tenant, hubspot_deal_id=deal_id).first()
    connection = QontoConnection.objects.filter(tenant=tenant).first()
    invoices = list(
        Invoice.objects.filter(tenant=tenant, hubspot_deal_id=deal_id, qonto_invoice_id__isnull=False)
        .exclude(status=Invoice.Status.DELETED)
        .order_by("created_at")
    )
    if deal is None or connection is None or not invoices:
        return RefreshResult(read_at=None, changed=0, qonto_calls=0)
    if not cache.add(f"card:refresh:{tenant.pk}:{deal.pk}", 1, int(MIN_INTERVAL.total_seconds())):
        return RefreshResult(read_at=deal.qonto_read_at, changed=0, qonto_calls=0)  # clicked a moment ago

    qonto = QontoClient.for_connection(connection, before_request=_limited_acquire)
    seen = _list_window(qonto, invoices)
    changed: list[Invoice] = []
    listed_notes: set[str] = set()
    for inv in invoices:
        data = seen.get(str(inv.qonto_invoice_id))
        if data is None:
            try:
                data = qonto.get_invoice(str(inv.qonto_invoice_id))
            except QontoNotFoundError:
                if inv.status == Invoice.Status.DRAFT:  # deleted in Qonto: its amount is free again
                    inv.status = Invoice.Status.DELETED
                    changed.append(inv)
                continue
        listed_notes.update(str(i) for i in data.get("credit_notes_ids") or [] if i)
        if apply_qonto_invoice(inv, data):
            changed.append(inv)
    notes = _new_credit_notes(qonto, tenant, listed_notes)
    read_at = timezone.now()
    stats = SyncStats()
    with transaction.atomic():
        for inv in changed:
            inv.save()
        credit_notes_apply(tenant, notes, stats)  # after the invoices: a full avoir cancels one
        Deal.objects.filter(pk=deal.pk).update(qonto_read_at=read_at)
        if changed or stats.credit_notes_new:
            jobs.invoice_write_back(str(invoices[-1].pk))
    logger.info(
        "deal %s refreshed from Qonto: %d invoice(s), %d changed, %d call(s)",
        deal_id,
        len(invoices),
        len(changed),
        qonto.calls,
    )
    return RefreshResult(
        read_at=read_at, changed=len(changed) + stats.credit_notes_new, qonto_calls=int(qonto.calls)
    )


def _new_credit_notes(qonto: QontoClient, tenant: Tenant, listed: set[str]) -> list[dict[str, Any]]:
    """The credit notes our invoices list that we do not know yet, read by id (a few per click)."""
    known = set(
        CreditNote.objects.filter(tenant=tenant, qonto_credit_note_id__in=listed).values_list(
            "qonto_credit_note_id", flat=True
        )
    )
    fetched = []
    for credit_note_id in sorted(listed - known)[:MAX_CREDIT_NOTES]:
        try:
            fetched.append(qonto.get_credit_note(credit_note_id))
        except QontoNotFoundError:
            logger.warning("credit note %s listed by an invoice but not found", credit_note_id)
    return fetched


def _list_window(qonto: QontoClient, invoices: list[Invoice]) -> dict[str, dict[str, Any]]:
    """One page of the invoices Qonto created while ours were submitted, by id."""
    moments = [i.submitted_at for i in invoices if i.submitted_at is not None]
    if not moments:
        return {}  # adopted or imported rows: no creation window known, the GETs will do
    page = qonto.list_invoices_page(
        per_page=100,
        created_from=min(moments) - WINDOW_MARGIN,
        created_to=max(moments) + WINDOW_MARGIN,
        sort_by="created_at:asc",
    )
    wanted = {str(i.qonto_invoice_id) for i in invoices}
    return {str(item.get("id")): item for item in page.items if str(item.get("id")) in wanted}
