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

logger = logging.getLogger(__name__)

INVOICE_CREATE = "connector.tasks.invoice_create_task"
INVOICE_WRITE_BACK = "connector.tasks.invoice_write_back_task"
TENANT_SYNC = "connector.tasks.tenant_sync_task"
DEAL_SYNC = "connector.tasks.deal_sync_task"
HUBSPOT_SETUP = "hubspot_app.tasks.hubspot_setup_task"
AUTOMATION_RUN_START = "connector.tasks.automation_run_start_task"
AUTOMATION_RUN_REPORT = "connector.tasks.automation_run_report_task"
INVOICE_SETTLED = "connector.tasks.automation_invoice_settled_task"


def _send(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    app = current_app
    if name not in app.tasks:
        # Autodiscovery is lazy outside a worker: import every app's ``tasks`` module once.
        app.loader.import_default_modules()
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


def invoice_create(invoice_id: str) -> None:
    enqueue(INVOICE_CREATE, str(invoice_id))


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
