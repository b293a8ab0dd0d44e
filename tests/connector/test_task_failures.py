"""A task that fails ends up in the admin, with its error masked like our logs."""

from __future__ import annotations

import pytest

from config.celery import app as celery_app
from connector.logging import MASK, register_secret
from connector.models import TaskFailure


@celery_app.task(name="tests.always_fails")
def always_fails(portal: int) -> None:
    raise RuntimeError(f"Qonto refused key qsk_task_secret_123456 for portal {portal}")


@pytest.mark.django_db
def test_a_failed_task_is_recorded_without_secrets(admin_client) -> None:  # type: ignore[no-untyped-def]
    register_secret("qsk_task_secret_123456")
    always_fails.delay(12345678)  # eager in tests; the failure signal fires as in a worker
    failure = TaskFailure.objects.get()
    assert failure.task_name == "tests.always_fails"
    assert failure.exception_type == "RuntimeError"
    assert failure.args == [[12345678], {}]
    assert "qsk_task_secret_123456" not in failure.message + failure.traceback
    assert MASK in failure.message
    page = admin_client.get("/admin/connector/taskfailure/").content.decode()
    assert "tests.always_fails" in page
    assert "RuntimeError" in page
    assert admin_client.get("/admin/connector/taskfailure/add/").status_code == 403
