"""The Celery app: JSON only, time limits, beat schedule from settings (``CELERY_*``)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import setup_logging, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("qonto_connector")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _task_log_context(task_id: str | None = None, **_: object) -> None:
    """Each task's lines carry its id as request id; the service binds the tenant when known."""
    from connector.logging import request_id_var, tenant_var

    request_id_var.set(task_id or "-")
    tenant_var.set("-")


@setup_logging.connect
def _use_django_logging(**_: object) -> None:
    """Workers log through Django's LOGGING (and so through the secret-masking filter)."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
