"""The jobs port: services queue tasks by name, on commit, without importing task modules."""

from __future__ import annotations

import pytest
from celery import current_app
from django.db import transaction

from connector import jobs

pytestmark = pytest.mark.django_db

NAMES = [jobs.INVOICE_CREATE, jobs.INVOICE_WRITE_BACK, jobs.TENANT_SYNC, jobs.DEAL_SYNC, jobs.HUBSPOT_SETUP]


@pytest.mark.parametrize("name", NAMES)
def test_every_job_names_a_registered_task(name: str) -> None:
    current_app.loader.import_default_modules()
    assert name in current_app.tasks


def test_enqueue_waits_for_the_commit(monkeypatch, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    current_app.loader.import_default_modules()
    sent: list[tuple[object, ...]] = []
    monkeypatch.setattr(current_app.tasks[jobs.INVOICE_WRITE_BACK], "delay", lambda *a, **k: sent.append(a))
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        jobs.invoice_write_back("inv-1")
        assert sent == []  # not before the row is committed
    assert len(callbacks) == 1
    assert sent == [("inv-1",)]


def test_a_robust_job_survives_a_broker_outage(monkeypatch, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    current_app.loader.import_default_modules()

    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app.tasks[jobs.HUBSPOT_SETUP], "delay", broken)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.hubspot_setup(7)  # logged by Django, never raised into the install or save


def test_a_plain_job_reports_a_broker_outage(monkeypatch, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    current_app.loader.import_default_modules()

    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app.tasks[jobs.INVOICE_CREATE], "delay", broken)
    with pytest.raises(ConnectionError), django_capture_on_commit_callbacks(execute=True):
        jobs.invoice_create("inv-2")


def test_an_invoice_task_is_marked_queued_until_it_ends(
    monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    import os

    if not os.environ.get("REDIS_URL"):
        pytest.skip("the queued mark lives in Redis")
    current_app.loader.import_default_modules()
    monkeypatch.setattr(current_app.tasks[jobs.INVOICE_CREATE], "delay", lambda *a, **k: None)
    with django_capture_on_commit_callbacks(execute=True):
        jobs.invoice_create("inv-3")
    assert jobs.invoice_create_queued(["inv-3", "inv-4"]) == {"inv-3"}
    jobs.invoice_create_finished("inv-3")
    assert jobs.invoice_create_queued(["inv-3"]) == set()


def test_a_broker_outage_leaves_no_queued_mark(monkeypatch, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    current_app.loader.import_default_modules()

    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(current_app.tasks[jobs.INVOICE_CREATE], "delay", broken)
    with pytest.raises(ConnectionError), django_capture_on_commit_callbacks(execute=True):
        jobs.invoice_create("inv-5")
    assert jobs.invoice_create_queued(["inv-5"]) == set()  # the sweeper will see it
