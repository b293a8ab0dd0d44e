"""The one port through which services ask for background work.

Services never import task modules (tasks import services: that is the direction). They call one
of the small functions below, which looks the task up by name in Celery's registry and queues it.
Looking up by name keeps the dependency one way and still honours ``CELERY_TASK_ALWAYS_EAGER``
in tests (``Celery.send_task`` would not).

Each function queues on commit when called inside a transaction, so a worker never runs before
the row it needs is committed (STYLE.md §5).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction

from connector.ratelimit import redis_client

logger = logging.getLogger(__name__)

INVOICE_CREATE = "connector.tasks.invoice_create_task"
INVOICE_RECONCILE = "connector.tasks.invoice_reconcile_task"
INVOICE_WRITE_BACK = "connector.tasks.invoice_write_back_task"
TENANT_SYNC = "connector.tasks.tenant_sync_task"
DEAL_SYNC = "connector.tasks.deal_sync_task"
HUBSPOT_SETUP = "hubspot_app.tasks.hubspot_setup_task"
HISTORY_IMPORT = "connector.tasks.history_import_task"
AUTOMATION_RUN_START = "connector.tasks.automation_run_start_task"
AUTOMATION_RUN_REPORT = "connector.tasks.automation_run_report_task"
INVOICE_SETTLED = "connector.tasks.automation_invoice_settled_task"
INVOICE_ACTION = "connector.tasks.invoice_action_task"
INVOICE_PDF_ATTACH = "connector.tasks.invoice_pdf_attach_task"


def _send(name: str, args: list[Any], kwargs: dict[str, Any], countdown: float | None = None) -> None:
    app = current_app
    if name not in app.tasks:
        # Autodiscovery is lazy outside a worker: import every app's ``tasks`` module once.
        app.loader.import_default_modules()
    if countdown:
        app.tasks[name].apply_async(args=args, kwargs=kwargs, countdown=countdown)
    else:
        app.tasks[name].delay(*args, **kwargs)


def enqueue(name: str, *args: Any, robust: bool = False, **kwargs: Any) -> None:
    """Queue task ``name`` once the current transaction commits (at once outside one).

    ``robust``: a broker failure is logged instead of raised (the caller's work is already
    committed and something else will pick the job up again, e.g. the sweeper or a button).
    """

    def send() -> None:  # a function, not a partial: Django logs a robust hook's __qualname__
        _send(name, list(args), kwargs)

    send.__qualname__ = f"enqueue({name})"
    transaction.on_commit(send, robust=robust)


def send_now(name: str, *args: Any, **kwargs: Any) -> None:
    """Queue task ``name`` now, whatever the transaction (best-effort refreshes)."""
    _send(name, list(args), kwargs)


# "This invoice's creation task is queued or running": a key in Redis, next to the broker's queue.
# It lives as long as the broker's data does (a Redis restarted without persistence loses both:
# the sweeper then queues the task again), and at most the broker's visibility timeout.
INVOICE_QUEUED_TTL_S = 3600


def _queued_key(invoice_id: str) -> str:
    return f"invoice:queued:{invoice_id}"


def invoice_reconcile(invoice_id: str) -> None:
    """Search Qonto for a FAILED row that may be there, and record it if it is (never POSTs)."""
    enqueue(INVOICE_RECONCILE, str(invoice_id))


def invoice_create(invoice_id: str) -> None:
    invoice_id = str(invoice_id)

    def send() -> None:
        invoice_create_mark_queued(invoice_id)  # before: the task may run before a later mark
        try:
            _send(INVOICE_CREATE, [invoice_id], {})
        except Exception:
            invoice_create_finished(invoice_id)  # not queued after all: the sweeper must see it
            raise

    send.__qualname__ = f"enqueue({INVOICE_CREATE})"
    transaction.on_commit(send)


def invoice_create_mark_queued(invoice_id: str) -> None:
    """The creation task of ``invoice_id`` is queued (a first send, or a retry with a countdown)."""
    client = redis_client()
    if client is not None:
        client.set(_queued_key(invoice_id), "1", ex=INVOICE_QUEUED_TTL_S)


def invoice_create_finished(invoice_id: str) -> None:
    """The creation task of ``invoice_id`` ended without asking for another try."""
    client = redis_client()
    if client is not None:
        client.delete(_queued_key(invoice_id))


def invoice_create_queued(invoice_ids: list[str]) -> set[str]:
    """Those of ``invoice_ids`` whose creation task is queued or running (empty without Redis)."""
    client = redis_client()
    if client is None or not invoice_ids:
        return set()
    pipe = client.pipeline(transaction=False)
    for invoice_id in invoice_ids:
        pipe.exists(_queued_key(invoice_id))
    return {i for i, found in zip(invoice_ids, pipe.execute(), strict=True) if found}


def invoice_write_back(invoice_id: str) -> None:
    enqueue(INVOICE_WRITE_BACK, str(invoice_id))


def tenant_sync(tenant_id: int, *, full: bool = False) -> None:
    send_now(TENANT_SYNC, tenant_id, full=full)


def deal_sync(tenant_id: int, deal_id: str) -> None:
    """A best-effort refresh of one deal (the card asks for it when the data is stale)."""
    send_now(DEAL_SYNC, tenant_id, deal_id)


def hubspot_setup(tenant_id: int) -> None:
    # robust: a broker hiccup must not turn a successful install or save into an error page;
    # the settings page offers to run the setup again.
    enqueue(HUBSPOT_SETUP, tenant_id, robust=True)


def invoice_settled(invoice_id: str) -> None:
    """The invoice reached Qonto or failed for good: tell the automation runs waiting on it."""
    enqueue(INVOICE_SETTLED, str(invoice_id))


def automation_run_start(run_id: int) -> None:
    enqueue(AUTOMATION_RUN_START, run_id)


def automation_run_report(run_id: int) -> None:
    enqueue(AUTOMATION_RUN_REPORT, run_id)


def history_import(tenant_id: int, *, requested_by: str = "") -> None:
    """Attach the tenant's existing Qonto invoices to its deals (onboarding, admin), on commit."""
    enqueue(HISTORY_IMPORT, tenant_id, requested_by=requested_by)


def invoice_action(action_id: int) -> None:
    """Run a card click (finalize or send) in a worker, on commit."""
    enqueue(INVOICE_ACTION, action_id)


def invoice_pdf_attach(invoice_id: str) -> None:
    """Poll Qonto for the finalized invoice's PDF and note it on the deal (first try after a pause)."""
    from django.conf import settings

    countdown = float(getattr(settings, "QONTO_PDF_POLL_S", 10))

    def send() -> None:
        _send(INVOICE_PDF_ATTACH, [str(invoice_id)], {}, countdown=countdown)

    send.__qualname__ = f"enqueue({INVOICE_PDF_ATTACH})"
    transaction.on_commit(send, robust=True)
