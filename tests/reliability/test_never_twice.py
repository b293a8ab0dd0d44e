"""Issue 16's windows with real worker processes (Celery through Redis) against the sandbox: a retry
hours after an ambiguous POST, a lock that would expire during a slow POST while the sweeper
re-queues, a retry after the deal was invoiced otherwise, a search Qonto refuses, a tenant that
lost its plan. Each ends with exactly the invoices it should have, in Qonto and on our side.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from connector.invoices.request import invoice_retry
from connector.models import Invoice
from sandbox import demo
from tests.invoice_world import make_operational_tenant
from tests.reliability.test_worker_faults import QONTO_CREATE, assert_exactly_once, click, fault
from tests.reliability.world import settled, wait_until, worker

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
    pytest.mark.django_db(transaction=True),
]


def qonto_posts(sb: Any) -> list[int]:
    return [e.status for e in sb.sandbox.log.entries("qonto") if e.method == "POST"
            and e.path == "/v2/client_invoices"]  # fmt: skip


def test_retry_three_hours_after_a_lost_answer_adopts_instead_of_posting_again(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    # Three hours ago: Qonto created the invoice but the answer was lost, and every search failed
    # while the task retried (eagerly, in this process, on the travelled clock): FAILED, retryable.
    with time_machine.travel(timezone.now() - timedelta(hours=3), tick=True):
        sandbox.sandbox.reset()  # the simulator's clock starts three hours ago too
        tenant = make_operational_tenant(sandbox)
        fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, kind="commit_then_fail", status=0)
        fault(sandbox, provider="qonto", method="GET", path=QONTO_CREATE, status=500, count=None)
        invoice = click(tenant, "retry-three-hours-later")
        invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.FAILED
    assert invoice.error_retryable
    sandbox.sandbox.faults.clear()
    # Now: the user clicks Retry on the card; a real worker runs it.
    with worker(sandbox, settings):
        invoice_retry(invoice=invoice)
        wait_until(lambda: settled(invoice.pk), 60, "the retried invoice settled")
    assert_exactly_once(sandbox, tenant)
    assert qonto_posts(sandbox) == [0]  # the lost one only


# A lock of 2 s against a POST that Qonto takes 6 s to answer: without renewal the lock expires
# in the middle of the call (as 180 s would under rate-limit waits, timeouts and retries).
SHORT_LOCK = {"INVOICE_LOCK_TIMEOUT_S": "2"}


def _slow_post(sb: Any) -> None:
    fault(sb, provider="qonto", method="POST", path=QONTO_CREATE, kind="latency", delay_ms=6000, count=1)


def _wait_in_the_post(invoice: Invoice) -> None:
    wait_until(
        lambda: Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.CREATING).exists(),
        30, "the first worker sent the create",
    )  # fmt: skip


def test_a_redelivered_task_waits_for_the_lock_renewed_during_a_slow_post(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    from connector.tasks import invoice_create_task

    tenant = make_operational_tenant(sandbox)
    _slow_post(sandbox)
    with worker(sandbox, settings, env=SHORT_LOCK), worker(sandbox, settings, env=SHORT_LOCK):
        invoice = click(tenant, "lock-renewed-redelivered")
        _wait_in_the_post(invoice)
        time.sleep(3)  # past the lock's 2 s: only its renewal keeps it
        invoice_create_task.delay(str(invoice.pk))  # the broker hands the task to the other worker
        wait_until(lambda: settled(invoice.pk), 60, "the invoice settled")
        time.sleep(2)  # let the second task finish too
    assert_exactly_once(sandbox, tenant)
    assert len(qonto_posts(sandbox)) == 1


def test_the_sweeper_during_a_slow_post_queues_nothing(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    from connector.invoices.submit import invoices_requeue_stuck

    tenant = make_operational_tenant(sandbox)
    _slow_post(sandbox)
    requeued: list[str] = []
    with worker(sandbox, settings, env=SHORT_LOCK), worker(sandbox, settings, env=SHORT_LOCK):
        invoice = click(tenant, "lock-renewed-sweeper")
        _wait_in_the_post(invoice)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # beat's sweeper, as if the row had waited 10 minutes
            requeued += invoices_requeue_stuck(older_than=timedelta(0))
            time.sleep(0.5)
        wait_until(lambda: settled(invoice.pk), 60, "the invoice settled")
    assert requeued == []  # queued or running: never a second task
    assert_exactly_once(sandbox, tenant)
    assert len(qonto_posts(sandbox)) == 1


def test_a_tenant_suspended_while_its_task_waits_sends_nothing(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    from connector.models import Tenant
    from tests.processes import tasks_sent_to_broker

    tenant = make_operational_tenant(sandbox)
    with tasks_sent_to_broker():
        invoice = click(tenant, "suspended-while-queued")  # queued; no worker yet
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)
    with worker(sandbox, settings):
        wait_until(
            lambda: Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.FAILED).first(),
            60, "the worker refused it",
        )  # fmt: skip
    invoice.refresh_from_db()
    assert invoice.error_code == "tenant_not_operational"
    assert qonto_posts(sandbox) == []
    assert sandbox.provider("qonto").list_invoices(demo.QONTO_LOGIN) == []
