"""What runs inside a benchmark worker process (started with ``spawn``, like a Celery prefork child).

The parent sets the environment (bench database, Redis, sandbox URLs) before the pool starts;
``init`` sets Django up once per process, then each task runs the real ``tenant_sync`` service.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from typing import Any


def init() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    logging.disable(logging.WARNING)  # a bench prints a table, not request logs
    import connector.sync  # noqa: F401 - loaded before any measurement
    import hubspot_app.crm  # noqa: F401


def ping(delay: float) -> int:
    """Keeps a worker busy a moment, so that the pool starts every process before timing."""
    time.sleep(delay)
    return os.getpid()


def sync_tenant(tenant_id: int, full: bool) -> dict[str, Any]:
    """One real sync run; what it did, as the SyncRun recorded it."""
    from django.db import connection

    from connector.sync import tenant_sync

    started = time.perf_counter()
    try:
        run = tenant_sync(tenant_id=tenant_id, full=full)
    finally:
        connection.close()
    seconds = time.perf_counter() - started
    if run is None:
        return {"tenant_id": tenant_id, "status": "skipped (locked)", "seconds": seconds}
    return {
        "tenant_id": tenant_id,
        "status": str(run.status),
        "error": run.error,
        "seconds": seconds,
        "seen": run.invoices_seen,
        "changed": run.invoices_changed,
        "credit_notes_seen": run.credit_notes_seen,
        "deals_written": run.deals_written,
        "qonto_calls": run.qonto_calls,
        "hubspot_calls": run.hubspot_calls,
    }


def _proc_status_mb(field: str) -> float | None:
    """``VmHWM`` / ``VmRSS`` of this process from /proc (Linux), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def peak_rss_mb() -> float:
    """Peak resident memory of this process.

    ``VmHWM`` where there is /proc: ``getrusage``'s ``ru_maxrss`` survives ``execve`` on Linux, so
    a worker spawned by a big parent (this bench's parent holds the whole sandbox) would report
    the parent's peak. ``ru_maxrss`` elsewhere.
    """
    hwm = _proc_status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def sync_tenant_measured(tenant_id: int, full: bool) -> dict[str, Any]:
    """``sync_tenant`` in a fresh process, with the process' resident memory before and its peak."""
    import gc

    gc.collect()
    before = _proc_status_mb("VmRSS") or peak_rss_mb()
    out = sync_tenant(tenant_id, full)
    out["rss_before_mb"] = round(before, 1)
    out["peak_rss_mb"] = round(peak_rss_mb(), 1)
    out["ru_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    return out
