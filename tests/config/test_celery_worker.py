"""A task sent through Redis runs in a real worker process."""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache

from config.celery import app as celery_app
from connector.tasks import HEARTBEAT_CACHE_KEY, heartbeat_task
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


@pytest.mark.django_db(transaction=True)
def test_task_runs_in_a_real_worker_through_redis() -> None:
    assert celery_app.conf.broker_url.startswith("redis://")
    cache.delete(HEARTBEAT_CACHE_KEY)
    with celery_worker() as worker, tasks_sent_to_broker():
        heartbeat_task.delay()
        stamp = wait_for(lambda: cache.get(HEARTBEAT_CACHE_KEY), timeout=30)
        assert worker.poll() is None
    assert stamp.startswith("20")


def test_celery_is_json_only_with_time_limits() -> None:
    conf = celery_app.conf
    assert conf.accept_content == ["json"]
    assert conf.task_serializer == "json"
    assert conf.task_soft_time_limit == 300
    assert conf.task_time_limit == 360
    assert conf.task_acks_late is False
    assert heartbeat_task.acks_late is True  # idempotent, so it opts in
    assert "heartbeat" in conf.beat_schedule
