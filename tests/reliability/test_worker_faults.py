"""Faults with real worker processes (Celery through Redis) against the sandbox: exactly one invoice
in Qonto and one row on our side, whatever fails and whenever a worker dies.

``make test`` runs two scenarios (provider errors, worker SIGKILLed mid-call); ``make soak`` runs the
whole matrix, including a prefork child killed with no shortcut on the lock's expiry.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal
from typing import Any

import pytest

from connector.invoices.request import invoice_request_create
from connector.models import Invoice
from connector.ratelimit import redis_client
from connector.tasks import invoice_create_task
from sandbox import demo
from sandbox.core import FaultRule
from tests.invoice_world import make_operational_tenant
from tests.reliability.world import child_pids, kill_hard, settled, wait_until, worker

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
    pytest.mark.django_db(transaction=True),
]
QONTO_CREATE = r"^/v2/client_invoices$"


def click(tenant: Any, key: str, kind: str = "full", percentage: str | None = None) -> Invoice:
    return invoice_request_create(
        tenant=tenant, deal_id=demo.DEAL_COMPLETE_ID, kind=kind,
        percentage=Decimal(percentage) if percentage else None, idempotency_key=key,
    ).invoice  # fmt: skip


def assert_exactly_once(sb: Any, tenant: Any, expected: int = 1) -> list[dict[str, Any]]:
    qonto_invoices = sb.provider("qonto").list_invoices(demo.QONTO_LOGIN)
    rows = list(Invoice.objects.filter(tenant=tenant))
    assert len(qonto_invoices) == expected, [q["purchase_order"] for q in qonto_invoices]
    assert len(rows) == expected
    assert sorted(q["id"] for q in qonto_invoices) == sorted(r.qonto_invoice_id for r in rows)
    assert len({q["purchase_order"] for q in qonto_invoices}) == expected
    return list(qonto_invoices)


def fault(sb: Any, **kwargs: Any) -> None:
    sb.sandbox.faults.add(FaultRule(**kwargs))


def _forget_lock_of_a_dead_worker(invoice_pk: Any) -> None:
    """Fast-forward the lock's own expiry (180 s): the SIGKILLed worker never released it."""
    client = redis_client()
    assert client is not None
    assert client.delete(f"lock:invoice:{invoice_pk}") == 1  # it was held, by the dead worker


# --- make test: the short version --------------------------------------------------------------------
def test_qonto_500_then_429_then_ok_makes_one_invoice(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, status=500, count=1)
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, status=429, count=1,
          headers={"Retry-After": "1"}, body={"errors": [{"code": "too_many_requests"}]})  # fmt: skip
    with worker(sandbox, settings):
        invoice = click(tenant, "fault-500-429-ok")
        done = wait_until(lambda: settled(invoice.pk), 60, "invoice settled after 500 and 429")
    assert done.attempts == 3
    assert_exactly_once(sandbox, tenant)
    posts = [e.status for e in sandbox.sandbox.log.entries("qonto") if e.method == "POST"
             and e.path == "/v2/client_invoices"]  # fmt: skip
    assert posts == [500, 429, 201] or posts[-1] in (200, 201), posts


def test_worker_killed_inside_the_qonto_call_then_redelivered_makes_one_invoice(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    # Qonto takes 3 s to answer the create: the worker is killed while it waits for the answer.
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, kind="latency", delay_ms=3000)
    with worker(sandbox, settings) as first:
        invoice = click(tenant, "killed-mid-call")
        wait_until(
            lambda: Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.CREATING).exists(),
            30, "the worker sent the create",
        )  # fmt: skip
        time.sleep(0.5)
        kill_hard(first)
    # Qonto still creates it (the request had arrived); we never got the answer.
    wait_until(lambda: sandbox.provider("qonto").list_invoices(demo.QONTO_LOGIN), 10, "Qonto created it")
    assert Invoice.objects.get(pk=invoice.pk).qonto_invoice_id is None
    _forget_lock_of_a_dead_worker(invoice.pk)
    with worker(sandbox, settings):
        invoice_create_task.delay(str(invoice.pk))  # Redis redelivers the unacked task (visibility timeout)
        wait_until(lambda: settled(invoice.pk), 60, "the new worker adopted the invoice")
    assert_exactly_once(sandbox, tenant)


# --- make soak: the whole matrix ---------------------------------------------------------------------
@pytest.mark.soak
def test_connection_reset_after_qonto_created_it_is_adopted(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, kind="commit_then_fail", status=0)
    with worker(sandbox, settings):
        invoice = click(tenant, "reset-after-commit")
        wait_until(lambda: settled(invoice.pk), 60, "adopted after the connection reset")
    assert_exactly_once(sandbox, tenant)


@pytest.mark.soak
def test_hubspot_429_storm_on_write_back_lands_later(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    fault(
        sandbox, provider="hubspot", method="PATCH", path=rf"/deals/{demo.DEAL_COMPLETE_ID}$", status=429,
        count=5, headers={"Retry-After": "1"},
        body={"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
              "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING"},
    )  # fmt: skip
    with worker(sandbox, settings):
        invoice = click(tenant, "hubspot-429-storm")
        wait_until(lambda: settled(invoice.pk), 90, "write-back landed after the storm")
    assert_exactly_once(sandbox, tenant)
    deal = sandbox.provider("hubspot").get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID)
    assert deal["properties"]["qonto_last_invoice_status"] == "draft"
    patches = [e.status for e in sandbox.sandbox.log.entries("hubspot")
               if e.method == "PATCH" and e.path.endswith(demo.DEAL_COMPLETE_ID)]  # fmt: skip
    assert patches.count(429) == 5
    assert patches[-1] == 200
    assert len(sandbox.provider("hubspot").notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID)) == 1


@pytest.mark.soak
def test_qonto_down_for_a_while_then_back(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, kind="reset", count=2)
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, status=503, count=2)
    with worker(sandbox, settings):
        invoices = [
            click(tenant, "down-deposit-1", "deposit", "30"),
            click(tenant, "down-deposit-2", "deposit", "30"),
        ]
        for inv in invoices:
            wait_until(lambda inv=inv: settled(inv.pk), 120, "settled once Qonto is back")
    assert_exactly_once(sandbox, tenant, expected=2)


@pytest.mark.soak
def test_prefork_child_killed_mid_call_recovers_on_its_own(sandbox, settings, capsys) -> None:  # type: ignore[no-untyped-def]
    """No shortcut: the pool re-queues the task (reject_on_worker_lost), the lock expires by itself."""
    tenant = make_operational_tenant(sandbox)
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, kind="latency", delay_ms=3000)
    started = time.monotonic()
    with worker(sandbox, settings, concurrency=2) as main:
        invoice = click(tenant, "prefork-child-killed")
        wait_until(
            lambda: Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.CREATING).exists(),
            30, "a child sent the create",
        )  # fmt: skip
        time.sleep(0.5)
        for pid in child_pids(main.pid):
            if Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.CREATING).exists():
                os.kill(pid, 9)
        wait_until(lambda: settled(invoice.pk), 420, "recovered after the child's death")
        assert main.poll() is None  # the worker itself survived
    with capsys.disabled():
        print(
            f"\nprefork child killed mid-call: one invoice, recovered in {time.monotonic() - started:.0f} s"
        )
    assert_exactly_once(sandbox, tenant)


@pytest.mark.soak
def test_worker_killed_at_random_moments_never_duplicates(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    fault(
        sandbox, provider="qonto", method="POST", path=QONTO_CREATE, kind="latency", delay_ms=400, count=None
    )
    invoices = []
    for round_ in range(6):
        with worker(sandbox, settings) as proc:
            invoice = click(tenant, f"random-kill-{round_}", "deposit", "10")
            invoices.append(invoice)
            time.sleep(0.1 * round_)
            kill_hard(proc)
        redis = redis_client()
        assert redis is not None
        redis.delete(f"lock:invoice:{invoice.pk}")
    with worker(sandbox, settings):
        for inv in invoices:
            if not settled(inv.pk, written_back=False):
                invoice_create_task.delay(str(inv.pk))
        for inv in invoices:
            wait_until(lambda inv=inv: settled(inv.pk, written_back=False), 120, f"{inv.pk} settled")
    assert_exactly_once(sandbox, tenant, expected=6)
