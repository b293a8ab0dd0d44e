"""Redis restarted while work is queued: the queue is lost (Redis keeps nothing on disk here, as in
many deployments), yet every accepted click still ends with exactly one invoice.

The click's task is sent to Redis, Redis is restarted before a worker takes it, and the beat's
sweeper (``invoices_requeue_stuck``) queues it again; a worker then creates the invoice once.
Restarting the shared Redis server disturbs anything else using it, so this runs only with
``make soak``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import timedelta

import pytest

from connector.invoices.submit import invoices_requeue_stuck
from tests.processes import tasks_sent_to_broker
from tests.reliability.test_worker_faults import assert_exactly_once, click
from tests.reliability.world import settled, wait_until, worker

pytestmark = [
    pytest.mark.soak,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL") or shutil.which("redis-server") is None,
        reason="needs a local Redis server it may restart",
    ),
]

REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip


def _redis_up() -> bool:
    return (
        subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True).stdout.strip()
        == "PONG"
    )


def restart_redis() -> None:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    wait_until(lambda: not _redis_up(), 10, "Redis stopped")
    os.makedirs("/var/lib/redis", exist_ok=True)
    os.makedirs("/var/log/redis", exist_ok=True)
    subprocess.run(REDIS_START, check=True)
    wait_until(_redis_up, 10, "Redis restarted")


def test_work_queued_before_a_redis_restart_is_done_once_after_it(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.invoice_world import make_operational_tenant

    tenant = make_operational_tenant(sandbox)
    with tasks_sent_to_broker():
        invoice = click(tenant, "redis-restart-key")  # queued in Redis, no worker running yet
    restart_redis()  # the queued task is gone
    with worker(sandbox, settings):
        time.sleep(3)
        assert settled(invoice.pk) is None  # nothing ran: the task really was lost
        with tasks_sent_to_broker():
            requeued = invoices_requeue_stuck(older_than=timedelta(0))
        assert requeued == [str(invoice.pk)]
        wait_until(lambda: settled(invoice.pk), 60, "invoice created after the Redis restart")
    assert_exactly_once(sandbox, tenant)
