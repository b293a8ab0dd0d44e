"""Celery tasks of the HubSpot app. Thin: they take ids and call one service."""

from __future__ import annotations

import logging

from celery import Task, shared_task

from connector.exceptions import HubSpotAuthError, HubSpotRetryableError
from connector.retry import backoff

logger = logging.getLogger(__name__)

SETUP_MAX_RETRIES = 6
SETUP_BACKOFF_MAX_S = 600  # well under the broker's visibility timeout (1 h)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=SETUP_MAX_RETRIES)
def hubspot_setup_task(self: Task, tenant_id: int) -> None:
    """Create our property group and properties in the tenant's portal (idempotent, re-runnable)."""
    from hubspot_app.services import hubspot_setup

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
        raise self.retry(
            exc=exc,
            countdown=backoff(self.request.retries, exc.retry_after, first=5, cap=SETUP_BACKOFF_MAX_S),
        ) from exc
