"""Last step of a run: the deals whose Qonto properties changed, written to HubSpot in batches.

A deal is written (``batch/update``, 100 per call, in chunks so memory stays flat) only when the
fingerprint of its properties differs from the one last pushed. A 207 retries just the failed
deals once; a deal deleted in HubSpot stops being synced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from connector.exceptions import HubSpotRetryableError
from connector.invoices.snapshots import deal_snapshot_forget
from connector.invoices.write_back import deal_properties
from connector.models import Deal, Invoice, Tenant
from connector.ratelimit import hubspot_limiter
from connector.sync.stats import SyncStats

logger = logging.getLogger(__name__)

VOLATILE_PROPERTIES = ("qonto_last_sync_at",)
WRITE_BACK_CHUNK = 100  # deals per batch/update call (HubSpot's batch limit)


def deals_turning_overdue(tenant: Tenant) -> set[str]:
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


def write_back(tenant: Tenant, stats: SyncStats, *, force: bool) -> int:
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
    stats: SyncStats,
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
