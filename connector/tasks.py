"""Celery tasks of the connector. Tasks are thin: they take ids and call one service."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

HEARTBEAT_CACHE_KEY = "connector:heartbeat"


@shared_task(acks_late=True, ignore_result=True)
def heartbeat_task() -> str:
    """Beat → worker liveness mark (idempotent: it only records the time it ran)."""
    now = timezone.now().isoformat()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=None)
    logger.debug("heartbeat at %s", now)
    return now


def _retry(task: Any, exc: Exception) -> None:
    """Schedule the next try (run at once by Celery's ``apply`` when the task runs eagerly)."""
    from connector.retry import backoff

    countdown = backoff(task.request.retries, getattr(exc, "retry_after", None))
    raise task.retry(exc=exc, countdown=countdown) from exc


# acks_late + reject_on_worker_lost: a worker killed mid-task gives the task back to the queue;
# running it again is safe because the service locks, reconciles with Qonto and never skips state.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=6, ignore_result=True)
def invoice_create_task(self: Any, invoice_id: str) -> None:
    from connector import jobs
    from connector.exceptions import RetryableError
    from connector.invoices.submit import invoice_fail_after_retries, invoice_submit_to_qonto
    from connector.ratelimit import LockNotAcquired, RateLimitTimeout

    retrying = False
    try:
        invoice_submit_to_qonto(invoice_id=invoice_id)
    except (RetryableError, LockNotAcquired, RateLimitTimeout) as exc:
        if self.request.retries >= self.max_retries:
            if isinstance(exc, RetryableError):
                invoice_fail_after_retries(invoice_id=invoice_id, exc=exc)
            return
        logger.info("invoice %s: retrying after %s", invoice_id, type(exc).__name__)
        retrying = True
        jobs.invoice_create_mark_queued(invoice_id)  # the retry waits in the queue: still queued
        _retry(self, exc)
    finally:
        if not retrying:  # the sweeper may queue it again if it is still unsettled 10 min from now
            jobs.invoice_create_finished(invoice_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=6, ignore_result=True)
def invoice_reconcile_task(self: Any, invoice_id: str) -> None:
    from connector.exceptions import RetryableError
    from connector.invoices.submit import invoice_reconcile_only
    from connector.ratelimit import LockNotAcquired, RateLimitTimeout

    try:
        invoice_reconcile_only(invoice_id=invoice_id)
    except (RetryableError, LockNotAcquired, RateLimitTimeout) as exc:
        if self.request.retries >= self.max_retries:
            logger.error(
                "invoice %s: reconciliation gave up after %d tries", invoice_id, self.request.retries
            )
            return
        _retry(self, exc)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8, ignore_result=True)
def invoice_write_back_task(self: Any, invoice_id: str) -> None:
    from connector.exceptions import RetryableError
    from connector.invoices.write_back import invoice_write_back
    from connector.ratelimit import RateLimitTimeout

    try:
        invoice_write_back(invoice_id=invoice_id)
    except (RetryableError, RateLimitTimeout) as exc:
        if self.request.retries >= self.max_retries:
            logger.error(
                "invoice %s: HubSpot write-back gave up after %d tries", invoice_id, self.request.retries
            )
            return
        _retry(self, exc)


# --- finalize and send from the card, the PDF on the deal --------------------------------------------
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=6, ignore_result=True)
def invoice_action_task(self: Any, action_id: int) -> None:
    from connector.exceptions import RetryableError
    from connector.invoices.actions import action_give_up
    from connector.invoices.run import invoice_action_run
    from connector.ratelimit import RateLimitTimeout

    try:
        invoice_action_run(action_id=action_id)
    except (RetryableError, RateLimitTimeout) as exc:
        if self.request.retries >= self.max_retries:
            action_give_up(action_id=action_id, exc=_as_app_error(exc))
            return
        _retry(self, exc)


def _as_app_error(exc: Exception) -> Any:
    from connector.exceptions import ApplicationError

    return exc if isinstance(exc, ApplicationError) else ApplicationError(str(exc), code="rate_limited")


# Qonto makes the PDF ~10 s after finalize [doc]: ask every QONTO_PDF_POLL_S, 12 times at most.
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=12, ignore_result=True)
def invoice_pdf_attach_task(self: Any, invoice_id: str) -> None:
    from django.conf import settings

    from connector.exceptions import RetryableError
    from connector.invoices.pdf import PdfNotReady, invoice_pdf_attach
    from connector.ratelimit import RateLimitTimeout

    try:
        invoice_pdf_attach(invoice_id=invoice_id)
    except PdfNotReady as exc:
        if self.request.retries >= self.max_retries:
            logger.error("invoice %s: no PDF from Qonto after %d polls", invoice_id, self.request.retries)
            return
        raise self.retry(exc=exc, countdown=float(getattr(settings, "QONTO_PDF_POLL_S", 10))) from exc
    except (RetryableError, RateLimitTimeout) as exc:
        if self.request.retries >= self.max_retries:
            logger.error("invoice %s: PDF note gave up after %d tries", invoice_id, self.request.retries)
            return
        _retry(self, exc)


# --- status sync ----------------------------------------------------------------------------------
@shared_task(ignore_result=True)
def sync_fanout_task(full: bool = False) -> int:
    """Beat: one sync task per operational tenant (spread a little to smooth the API load)."""
    from connector.sync import operational_tenant_ids

    ids = operational_tenant_ids()
    for n, tenant_id in enumerate(ids):
        tenant_sync_task.apply_async(args=[tenant_id], kwargs={"full": full}, countdown=min(n * 0.2, 300))
    logger.info("sync fan-out: %d tenant(s), full=%s", len(ids), full)
    return len(ids)


# Not acks_late: a run that dies is simply run again by the next tick (the cursor only moves
# once all pages are committed, so nothing is lost).
@shared_task(ignore_result=True, soft_time_limit=1500, time_limit=1800)
def tenant_sync_task(tenant_id: int, full: bool = False) -> None:
    from connector.sync import tenant_sync

    tenant_sync(tenant_id=tenant_id, full=full)  # binds the tenant's portal id to its log lines


@shared_task(ignore_result=True)
def deal_sync_task(tenant_id: int, deal_id: str) -> None:
    from connector.exceptions import ApplicationError
    from connector.sync import deal_sync

    try:
        deal_sync(tenant_id=tenant_id, deal_id=deal_id)
    except ApplicationError as exc:  # best effort: the scheduled sync will catch up
        logger.info("deal sync %s/%s skipped: %s", tenant_id, deal_id, exc.code)


@shared_task(ignore_result=True)
def invoices_requeue_stuck_task() -> int:
    """Beat: give lost invoice tasks another run (see ``invoices_requeue_stuck``)."""
    from connector.invoices.submit import invoices_requeue_stuck

    return len(invoices_requeue_stuck())


# --- automation (workflow action, stage rule) ------------------------------------------------------
@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=6, ignore_result=True)
def automation_run_start_task(self: Any, run_id: int) -> None:
    from connector.automation.runs import automation_run_give_up, automation_run_start
    from connector.exceptions import RetryableError
    from connector.ratelimit import RateLimitTimeout

    try:
        automation_run_start(run_id=run_id)
    except (RetryableError, RateLimitTimeout) as exc:
        if self.request.retries >= self.max_retries:
            automation_run_give_up(run_id=run_id)
            return
        _retry(self, exc)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def automation_invoice_settled_task(invoice_id: str) -> None:
    from connector.automation.runs import automation_invoice_settled

    automation_invoice_settled(invoice_id=invoice_id)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=8, ignore_result=True)
def automation_run_report_task(self: Any, run_id: int) -> None:
    from connector.automation.runs import automation_run_report
    from connector.exceptions import RetryableError
    from connector.ratelimit import RateLimitTimeout

    try:
        automation_run_report(run_id=run_id)
    except (RetryableError, RateLimitTimeout) as exc:
        if self.request.retries >= self.max_retries:
            logger.error(
                "automation run %s: outcome not reported after %d tries", run_id, self.request.retries
            )
            return  # the sweeper tries again later
        _retry(self, exc)


@shared_task(ignore_result=True)
def automation_runs_requeue_stuck_task() -> int:
    """Beat: give lost automation steps another run (see ``automation_runs_requeue_stuck``)."""
    from connector.automation.runs import automation_runs_requeue_stuck

    return automation_runs_requeue_stuck()


# --- history import -------------------------------------------------------------------------------
@shared_task(ignore_result=True, soft_time_limit=1500, time_limit=1800)
def history_import_task(tenant_id: int, requested_by: str = "") -> None:
    """Attach existing Qonto invoices to the tenant's deals (idempotent: a rerun attaches nothing twice)."""
    from connector.history.services import history_import

    history_import(tenant_id=tenant_id, requested_by=requested_by)
