"""One sync run for one tenant (``tenant_sync``), under a lock held across processes so a tenant
is never synced twice at once. The steps are described in ``connector.sync``."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.utils import timezone

from connector.invoices.state import tenant_state
from connector.logging import bind_tenant
from connector.models import SyncRun, Tenant
from connector.qonto_client import QontoClient
from connector.ratelimit import LockNotAcquired, distributed_lock, qonto_limiter
from connector.run_outcome import failure_recorded
from connector.sync.credit_notes import credit_notes_sync
from connector.sync.deals import deals_turning_overdue, write_back
from connector.sync.drafts import drafts_after_full_listing, drafts_check_if_due, mark_drafts_checked
from connector.sync.pages import apply_invoice_pages
from connector.sync.pdfs import pdf_notes_due
from connector.sync.stats import SyncStats

logger = logging.getLogger(__name__)

CURSOR_OVERLAP = timedelta(minutes=5)
SYNC_LOCK_TIMEOUT = 3600  # seconds; longer than any run


def operational_tenant_ids() -> list[int]:
    """Tenants whose invoices are synced now (installed, Qonto connected, plan allowing work)."""
    candidates = Tenant.objects.filter(
        status=Tenant.Status.INSTALLED, qonto_connection__verified_at__isnull=False
    ).only("id", "status", "portal_id")
    return [t.pk for t in candidates if tenant_state(t).operational]


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
    started = timezone.now()
    run = SyncRun.objects.create(tenant=tenant, full=full, started_at=started, cursor_from=cursor_from)
    qonto = QontoClient.for_connection(tenant.qonto_connection, before_request=qonto_limiter().acquire)
    stats = SyncStats()
    try:
        with failure_recorded(run, what="sync", portal_id=tenant.portal_id):
            seen_ids = apply_invoice_pages(tenant, qonto, cursor_from, stats)
            if full:
                drafts_done: bool | None = drafts_after_full_listing(
                    tenant, qonto, seen_ids, stats, started=started
                )
            else:
                drafts_done = drafts_check_if_due(tenant, qonto, seen_ids, stats, now=started)
            del seen_ids
            credit_notes_sync(tenant, qonto, cursor_from, stats)
            stats.dirty_deals |= deals_turning_overdue(tenant)
            write_back(tenant, stats, force=full)
            pdf_notes_due(tenant, now=started)
            # Every page is committed and written back: only now may the cursor move.
            if stats.max_updated is not None:
                Tenant.objects.filter(pk=tenant.pk).update(sync_cursor=stats.max_updated)
            if drafts_done:
                mark_drafts_checked(tenant, started)
            run.status = SyncRun.Status.SUCCEEDED
    finally:
        run.finished_at = timezone.now()
        run.cursor_to = stats.max_updated if run.status == SyncRun.Status.SUCCEEDED else None
        run.invoices_seen = stats.seen
        run.invoices_changed = stats.changed
        run.credit_notes_seen = stats.credit_notes_seen
        run.credit_notes_new = stats.credit_notes_new
        run.drafts_deleted = stats.drafts_deleted
        run.deals_written = stats.deals_written
        run.qonto_calls = qonto.calls
        run.hubspot_calls = stats.hubspot_calls
        run.save()
        Tenant.objects.filter(pk=tenant.pk).update(last_synced_at=run.finished_at)
    return run
