"""Health probes: is the database answering, is the Celery broker answering, are migrations applied.

``/healthz`` (liveness) checks the database and the broker; ``/readyz`` (readiness: may this
process receive traffic?) also checks that every migration of this code is applied.
"""

from __future__ import annotations

import logging

from django.db import connections

logger = logging.getLogger(__name__)


def check_database() -> str | None:
    """None when the database answers, else a short reason."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health: database check failed: %s", type(exc).__name__)
        return f"database unavailable ({type(exc).__name__})"
    return None


def check_broker(timeout: float = 2.0) -> str | None:
    """None when the Celery broker accepts a connection, else a short reason."""
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
    except Exception as exc:
        logger.warning("health: broker check failed: %s", type(exc).__name__)
        return f"broker unavailable ({type(exc).__name__})"
    return None


def health_report() -> tuple[bool, dict[str, str]]:
    checks = {"database": check_database(), "broker": check_broker()}
    ok = all(v is None for v in checks.values())
    return ok, {name: (problem or "ok") for name, problem in checks.items()}


_migrations_ok = False  # once applied they stay applied for this process's code


def check_migrations() -> str | None:
    """None when every migration known to this code is applied, else which ones are not."""
    global _migrations_ok
    if _migrations_ok:
        return None
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections["default"])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        logger.warning("health: migrations check failed: %s", type(exc).__name__)
        return f"migrations unknown ({type(exc).__name__})"
    if plan:
        names = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        return f"{len(names)} migration(s) not applied: {shown}"
    _migrations_ok = True
    return None


def readiness_report() -> tuple[bool, dict[str, str]]:
    database = check_database()
    checks = {
        "database": database,
        "broker": check_broker(),
        # Without a database the migration state cannot be read: say so once, not twice.
        "migrations": "not checked (database unavailable)" if database else check_migrations(),
    }
    ok = all(v is None for v in checks.values())
    return ok, {name: (problem or "ok") for name, problem in checks.items()}
