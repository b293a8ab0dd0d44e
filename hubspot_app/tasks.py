"""Celery tasks of the HubSpot app. Thin: they take ids and call one service."""

from __future__ import annotations

import logging
import random

from celery import Task, shared_task

from connector.exceptions import HubSpotAuthError, HubSpotRetryableError
from connector.logging import log_context

logger = logging.getLogger(__name__)

SETUP_MAX_RETRIES = 6
SETUP_BACKOFF_MAX_S = 600  # well under the broker's visibility timeout (1 h)


def _backoff(retries: int, retry_after: float | None) -> float:
    """Exponential back-off with jitter, never shorter than what HubSpot asked for."""
    base = min(SETUP_BACKOFF_MAX_S, 5 * 2**retries)
    return max(retry_after or 0.0, base) + random.uniform(0, base / 4)  # noqa: S311 - jitter only


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=SETUP_MAX_RETRIES)
def hubspot_setup_task(self: Task, tenant_id: int) -> None:
    """Create our property group and properties in the tenant's portal (idempotent, re-runnable)."""
    from hubspot_app.services import hubspot_setup

    with log_context(tenant=tenant_id):
        try:
            hubspot_setup(tenant_id=tenant_id)
        except HubSpotAuthError:
            # Uninstalled meanwhile: the tenant is already marked; retrying cannot help.
            logger.warning("HubSpot setup of tenant %s stopped: app no longer installed", tenant_id)
        except HubSpotRetryableError as exc:
            logger.warning(
                "HubSpot setup of tenant %s: %s (attempt %d/%d)",
                tenant_id,
                exc.code,
                self.request.retries + 1,
                SETUP_MAX_RETRIES + 1,
            )
            raise self.retry(exc=exc, countdown=_backoff(self.request.retries, exc.retry_after)) from exc
