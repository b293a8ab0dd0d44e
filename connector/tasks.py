"""Celery tasks of the connector. Tasks are thin: they take ids and call one service."""

from __future__ import annotations

import logging

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
