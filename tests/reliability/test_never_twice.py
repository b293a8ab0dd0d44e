"""Issue 16's windows with real worker processes (Celery through Redis) against the sandbox: a retry
hours after an ambiguous POST, a lock that would expire during a slow POST while the sweeper
re-queues, a retry after the deal was invoiced otherwise, a search Qonto refuses, a tenant that
lost its plan. Each ends with exactly the invoices it should have, in Qonto and on our side.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from connector.invoices.request import invoice_retry
from connector.models import Invoice
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
