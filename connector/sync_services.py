"""Status sync: Qonto → our invoice rows → HubSpot deals, incremental, cheap and within budgets.

Per tenant (``tenant_sync``), under a lock held across processes so a tenant is never synced
twice at once:

1. List the tenant's Qonto invoices updated since the last cursor (minus an overlap), page by page
   (``per_page=100``), sorted by creation so updates during the listing never shift a page. Each
   page is applied to our rows (only invoices we created or adopted are tracked) and committed
   before the next is fetched: memory stays flat whatever the tenant's size.
2. The deals of every invoice seen are candidates for the write-back; a deal is written (with
   ``batch/update``, 100 per call, in chunks so memory stays flat) only when the fingerprint of
   its properties differs from the one last pushed. A 207 retries just the failed deals once; a
   deal deleted in HubSpot stops being synced.
3. The cursor moves to the highest ``updated_at`` seen only once every page is committed and the
   write-back is done; a run that dies half-way leaves it where it was and the next run re-lists
   and re-applies (idempotently) what it had already applied, and writes the deals whose
   fingerprint is still behind (even those whose rows the failed run had already updated).

The full reconciliation (daily, ``full=True``) lists everything and also notices drafts deleted
in Qonto (they vanish from the list).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from connector.exceptions import ApplicationError, HubSpotRetryableError
from connector.invoices.apply import apply_qonto_invoice
from connector.invoices.snapshots import deal_snapshot_forget
from connector.invoices.state import tenant_state
from connector.invoices.write_back import deal_properties
from connector.logging import bind_tenant
from connector.models import Deal, Invoice, SyncRun, Tenant
from connector.qonto_client import QontoClient, QontoNotFoundError, QontoRateLimitedError, parse_datetime
from connector.ratelimit import LockNotAcquired, distributed_lock, hubspot_limiter, qonto_limiter

logger = logging.getLogger(__name__)

CURSOR_OVERLAP = timedelta(minutes=5)
RATE_LIMIT_RETRIES = 8
SYNC_LOCK_TIMEOUT = 3600  # seconds; longer than any run
VOLATILE_PROPERTIES = ("qonto_last_sync_at",)


def operational_tenant_ids() -> list[int]:
    """Tenants whose invoices are synced now (installed, Qonto connected, plan allowing work)."""
    candidates = Tenant.objects.filter(
        status=Tenant.Status.INSTALLED, qonto_connection__verified_at__isnull=False
    ).only("id", "status", "portal_id")
    return [t.pk for t in candidates if tenant_state(t).operational]


@dataclasses.dataclass
class _Stats:
    seen: int = 0
    changed: int = 0
    deals_written: int = 0
    hubspot_calls: int = 0
    dirty_deals: set[str] = dataclasses.field(default_factory=set)
    max_updated: datetime | None = None


def tenant_sync(*, tenant_id: int, full: bool = False) -> SyncRun | None:
    """One sync run for one tenant. Returns None when another run holds the tenant's lock."""
    try:
        with distributed_lock(f"sync:{tenant_id}", timeout=SYNC_LOCK_TIMEOUT, blocking_timeout=0):
            return _run(tenant_id=tenant_id, full=full)
    except LockNotAcquired:
        logger.info("sync of tenant %s skipped: another run is in progress", tenant_id)
        return None


def _run(*, tenant_id: int, full: bool) -> SyncRun:
    tenant = Tenant.objects.select_related("qonto_connection").get(pk=tenant_id)
    bind_tenant(tenant.portal_id)
    cursor_from = None if full or tenant.sync_cursor is None else tenant.sync_cursor - CURSOR_OVERLAP
    run = SyncRun.objects.create(tenant=tenant, full=full, started_at=timezone.now(), cursor_from=cursor_from)
    qonto = QontoClient.for_connection(tenant.qonto_connection, before_request=qonto_limiter().acquire)
    stats = _Stats()
    try:
        seen_ids = _apply_pages(tenant, qonto, cursor_from, stats)
        if full:
            _detect_deleted_drafts(tenant, qonto, seen_ids, stats)
        del seen_ids
        stats.dirty_deals |= _deals_turning_overdue(tenant)
        _write_back(tenant, stats, force=full)
        # Every page is committed and written back: only now may the cursor move.
        if stats.max_updated is not None:
            Tenant.objects.filter(pk=tenant.pk).update(sync_cursor=stats.max_updated)
        run.status = SyncRun.Status.SUCCEEDED
    except ApplicationError as exc:
        run.status = SyncRun.Status.FAILED
        run.error = f"{exc.code}: {exc.detail or exc.user_message}"[:2000]
        logger.warning("sync of tenant %s failed: %s", tenant.portal_id, run.error)
    except Exception as exc:  # recorded, then raised for the task's own handling
        run.status = SyncRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        logger.exception("sync of tenant %s crashed", tenant.portal_id)
        raise
    finally:
        run.finished_at = timezone.now()
        run.cursor_to = stats.max_updated if run.status == SyncRun.Status.SUCCEEDED else None
        run.invoices_seen = stats.seen
        run.invoices_changed = stats.changed
        run.deals_written = stats.deals_written
        run.qonto_calls = qonto.calls
        run.hubspot_calls = stats.hubspot_calls
        run.save()
        Tenant.objects.filter(pk=tenant.pk).update(last_synced_at=run.finished_at)
    return run


def _list_page(qonto: QontoClient, page: int, updated_from: datetime | None) -> Any:
    """One page, waiting out Qonto 429s (the page is fetched again, never skipped)."""
    for attempt in range(RATE_LIMIT_RETRIES):
        try:
            return qonto.list_invoices_page(
                page=page, per_page=100, updated_from=updated_from, sort_by="created_at:asc"
            )
        except QontoRateLimitedError as exc:
            wait = exc.retry_after or min(30.0, 2.0**attempt)
            qonto_limiter().penalize(wait)  # every worker backs off, not only this one
            time.sleep(wait)
    raise QontoRateLimitedError("Qonto kept answering 429 while listing invoices")


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
    "updated_at",
)
WRITE_BACK_CHUNK = 100  # deals per batch/update call (HubSpot's batch limit)


def _apply_pages(
    tenant: Tenant, qonto: QontoClient, updated_from: datetime | None, stats: _Stats
) -> set[str]:
    seen_ids: set[str] = set()
    page_number = 1
    while True:
        page = _list_page(qonto, page_number, updated_from)
        stats.seen += len(page.items)
        ids = [str(item.get("id")) for item in page.items]
        seen_ids.update(ids)
        with transaction.atomic():
            rows = {
                r.qonto_invoice_id: r
                for r in Invoice.objects.select_for_update()
                .defer("payload", "deducted")
                .filter(tenant=tenant, qonto_invoice_id__in=ids)
            }
            changed: list[Invoice] = []
            now = timezone.now()
            for item in page.items:
                updated = parse_datetime(item.get("updated_at"))
                if updated is not None and (stats.max_updated is None or updated > stats.max_updated):
                    stats.max_updated = updated
                row = rows.get(str(item.get("id")))
                if row is None:
                    continue  # not one of ours
                # Every deal seen is a write-back candidate: its fingerprint decides. A run that
                # failed after committing a page left those deals behind; this catches them up.
                stats.dirty_deals.add(row.hubspot_deal_id)
                if apply_qonto_invoice(row, item):
                    row.updated_at = now
                    changed.append(row)
            if changed:
                Invoice.objects.bulk_update(changed, APPLIED_FIELDS)
                stats.changed += len(changed)
        if not page.next_page or not page.items:
            return seen_ids
        page_number = page.next_page


def _detect_deleted_drafts(tenant: Tenant, qonto: QontoClient, seen_ids: set[str], stats: _Stats) -> None:
    """Drafts we know that a full listing no longer shows: confirm with a GET, then mark deleted."""
    known = Invoice.objects.filter(
        tenant=tenant, status=Invoice.Status.DRAFT, qonto_invoice_id__isnull=False
    ).values_list("pk", "qonto_invoice_id")
    missing = [pk for pk, qonto_id in known.iterator(chunk_size=2000) if qonto_id not in seen_ids]
    for inv in Invoice.objects.filter(tenant=tenant, pk__in=missing):
        try:
            changed = apply_qonto_invoice(inv, qonto.get_invoice(str(inv.qonto_invoice_id)))
        except QontoNotFoundError:
            inv.status = Invoice.Status.DELETED
            changed = True
        if changed:
            inv.save()
            stats.changed += 1
            stats.dirty_deals.add(inv.hubspot_deal_id)


def _deals_turning_overdue(tenant: Tenant) -> set[str]:
    """Deals with an unpaid invoice past due: their overdue flag may have to change today."""
    today = timezone.localdate()
    return set(
        Invoice.objects.filter(
            tenant=tenant,
            status=Invoice.Status.UNPAID,
            due_date__lt=today,
            due_date__gte=today - timedelta(days=2),
        ).values_list("hubspot_deal_id", flat=True)
    )


def _fingerprint(props: dict[str, str]) -> str:
    stable = {k: v for k, v in props.items() if k not in VOLATILE_PROPERTIES}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()


def _write_back(tenant: Tenant, stats: _Stats, *, force: bool) -> int:
    """Batch-update the deals whose properties changed, 100 at a time. Returns the HubSpot calls made.

    Deals are handled in chunks of ``WRITE_BACK_CHUNK`` (read, compare fingerprints, send, record)
    so a tenant with 50,000 deals never holds them all in memory.
    """
    from hubspot_app.client import HubSpotClient
    from hubspot_app.crm import batch_update_deals

    deal_ids = set(stats.dirty_deals)
    if force:
        deal_ids.update(
            Invoice.objects.filter(tenant=tenant)
            .values_list("hubspot_deal_id", flat=True)
            .distinct()
            .iterator(chunk_size=5000)
        )
    if not deal_ids:
        return 0
    ordered = sorted(deal_ids)
    del deal_ids
    now = timezone.now()
    client: Any = None
    pending: list[tuple[str, dict[str, str]]] = []
    fingerprints: dict[str, str] = {}

    def flush() -> None:
        nonlocal client
        if not pending:
            return
        if client is None:
            client = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
        try:
            _send_updates(tenant, client, batch_update_deals, pending, fingerprints, now, stats)
        finally:
            stats.hubspot_calls = int(client.calls)
            deal_snapshot_forget(tenant_id=tenant.pk, deal_ids=[deal_id for deal_id, _ in pending])
        pending.clear()
        fingerprints.clear()

    for start in range(0, len(ordered), WRITE_BACK_CHUNK):
        chunk = ordered[start : start + WRITE_BACK_CHUNK]
        deals = Deal.objects.filter(tenant=tenant, hubspot_deal_id__in=chunk).only(
            "id", "hubspot_deal_id", "amount", "pushed_fingerprint", "hubspot_deleted_at"
        )
        invoices_by_deal: dict[str, list[Invoice]] = {}
        for inv in Invoice.objects.filter(tenant=tenant, hubspot_deal_id__in=chunk).defer(
            "payload", "deducted", "error_message"
        ):
            invoices_by_deal.setdefault(inv.hubspot_deal_id, []).append(inv)
        for deal in deals:
            if deal.hubspot_deleted_at is not None:
                continue  # gone from HubSpot: shown in the admin, never retried
            invoices = invoices_by_deal.get(deal.hubspot_deal_id, [])
            props = deal_properties(invoices=invoices, deal_amount=deal.amount, now=now)
            fp = _fingerprint(props)
            if fp == deal.pushed_fingerprint:
                continue
            pending.append((deal.hubspot_deal_id, props))
            fingerprints[deal.hubspot_deal_id] = fp
        if len(pending) >= WRITE_BACK_CHUNK:
            flush()
    flush()
    return stats.hubspot_calls


def _send_updates(
    tenant: Tenant,
    client: Any,
    batch_update: Any,
    updates: list[tuple[str, dict[str, str]]],
    fingerprints: dict[str, str],
    now: datetime,
    stats: _Stats,
) -> None:
    written, failed = _batch_with_retry(client, batch_update, updates)
    if written:
        rows = list(
            Deal.objects.filter(tenant=tenant, hubspot_deal_id__in=written).only("id", "hubspot_deal_id")
        )
        for row in rows:
            row.pushed_fingerprint = fingerprints[row.hubspot_deal_id]
            row.pushed_at = now
            row.updated_at = now
        Deal.objects.bulk_update(rows, ["pushed_fingerprint", "pushed_at", "updated_at"])
    gone = [d for d, category in failed.items() if category in ("OBJECT_NOT_FOUND", "NOT_FOUND")]
    if gone:
        Deal.objects.filter(tenant=tenant, hubspot_deal_id__in=gone).update(
            hubspot_deleted_at=now, updated_at=now
        )
        logger.warning(
            "tenant %s: %d deal(s) deleted in HubSpot, no longer synced", tenant.portal_id, len(gone)
        )
    stats.deals_written += len(written)


def _batch_with_retry(
    client: Any, batch_update: Any, updates: list[tuple[str, dict[str, str]]]
) -> tuple[set[str], dict[str, str]]:
    """Send the batch; retry the inputs that failed for another reason than "not found", once."""
    written: set[str] = set()
    failed: dict[str, str] = {}
    pending = updates
    for attempt in range(2):
        try:
            ok, bad = batch_update(client, pending)
        except HubSpotRetryableError as exc:
            if attempt == 1:
                raise
            time.sleep(min(exc.retry_after or 2.0, 15.0))
            continue
        written |= ok
        failed = {k: v for k, v in bad.items() if k not in written}
        retry_ids = {d for d, cat in failed.items() if cat not in ("OBJECT_NOT_FOUND", "NOT_FOUND")}
        pending = [(d, p) for d, p in updates if d in retry_ids]
        if not pending:
            break
    return written, failed


def deal_sync(*, tenant_id: int, deal_id: str) -> int:
    """Refresh one deal's invoices from Qonto by id (the card asks when they look stale)."""
    tenant = Tenant.objects.select_related("qonto_connection").get(pk=tenant_id)
    qonto = QontoClient.for_connection(tenant.qonto_connection, before_request=qonto_limiter().acquire)
    changed = 0
    for inv in Invoice.objects.filter(
        tenant=tenant, hubspot_deal_id=deal_id, qonto_invoice_id__isnull=False
    ).exclude(status=Invoice.Status.DELETED):
        try:
            data = qonto.get_invoice(str(inv.qonto_invoice_id))
        except QontoNotFoundError:
            if inv.status == Invoice.Status.DRAFT:
                inv.status = Invoice.Status.DELETED
                inv.save()
                changed += 1
            continue
        if apply_qonto_invoice(inv, data):
            inv.save()
            changed += 1
    if changed:
        stats = _Stats(dirty_deals={deal_id})
        _write_back(tenant, stats, force=False)
    return changed
