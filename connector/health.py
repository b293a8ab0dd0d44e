"""Health probes: is the database answering, is the Celery broker answering."""

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
