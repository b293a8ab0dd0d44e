"""Issue 16's windows with real worker processes (Celery through Redis) against the sandbox, each
ending with exactly the invoices it should have, in Qonto and on our side:

- a retry three hours after an ambiguous POST adopts the invoice instead of POSTing again;
- a lock that would expire during a slow POST: a redelivered task waits, the sweeper queues nothing;
- a tenant that lost its plan while its task waited sends nothing;
- a 60 % deposit retried from the card after a full invoice is refused (422 ``nothing_left``) and
  nothing is POSTed (not 160 %);
- a deposit edited in Qonto, synced by the worker, then a balance: Σ invoices = the deal per rate;
- a search Qonto refuses for good ends the row FAILED (``qonto_reconcile_failed``), never CREATING,
  with nothing POSTed again; a retry once Qonto answers adopts the invoice;
- the worker's output (at DEBUG) logs its Qonto and HubSpot calls, never the HubSpot access token
  or the Qonto key, even when a provider echoes them in an error.

The single-use settings link is a web concern, proved in tests/hubspot_app/test_settings_link.py.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from connector.invoices.request import invoice_retry
from connector.models import Invoice
from sandbox import demo
from sandbox.testing import RunningSandbox
from tests.connector.test_never_twice import card_retry
from tests.invoice_world import InvoiceWorld, make_operational_tenant
from tests.reliability.test_worker_faults import QONTO_CREATE, assert_exactly_once, click, fault
from tests.reliability.world import drained, settled, wait_until, worker

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


# --- retry guard, Σ invoices = the deal -------------------------------------------------------------
def _wait_failed(invoice: Invoice, timeout: float = 30) -> Invoice:
    found: Invoice = wait_until(
        lambda: Invoice.objects.filter(pk=invoice.pk, status=Invoice.Status.FAILED).first(),
        timeout, f"invoice {invoice.pk} failed",
    )  # fmt: skip
    return found


def test_a_deposit_retried_from_the_card_after_a_full_invoice_is_refused_not_160_percent(
    sandbox: RunningSandbox, settings: Any, client: Any
) -> None:
    tenant = make_operational_tenant(sandbox)
    world = InvoiceWorld(sb=sandbox, tenant=tenant, settings=settings)
    # Qonto refuses the 60 % deposit (403: the key lacks a right, since granted): FAILED, retryable,
    # never submitted. A failed row invoices nothing, so the whole deal is invoiced meanwhile.
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, status=403, count=1,
          body={"errors": [{"code": "forbidden", "detail": "Forbidden"}], "trace_id": "rel-403"})  # fmt: skip
    with worker(sandbox, settings):
        deposit = _wait_failed(click(tenant, "rel-deposit-60", "deposit", "60"))
        assert deposit.error_retryable
        full = click(tenant, "rel-full-after-failed-deposit")
        wait_until(lambda: settled(full.pk), 30, "the full invoice settled")
        response = card_retry(client, world, deposit)  # the card's Retry on the deposit
        drained()  # had anything been queued, the worker has run it
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "nothing_left"
    assert error["message"]
    deposit.refresh_from_db()
    assert deposit.status == Invoice.Status.FAILED  # left as it was
    assert deposit.qonto_invoice_id is None
    full.refresh_from_db()
    [qinv] = sandbox.provider("qonto").list_invoices(demo.QONTO_LOGIN)  # the full invoice, alone
    assert qinv["id"] == full.qonto_invoice_id
    assert full.subtotal_amount == Decimal("12000.00")  # 100 %, not 160 %
    assert qonto_posts(sandbox) == [403, 200]  # the refused deposit, the full invoice; nothing since


def _edit_in_qonto(sb: Any, qonto_invoice_id: str, factor: Decimal) -> None:
    """Someone edits the draft in Qonto's app: every unit price × ``factor`` (same lines)."""
    qonto = sb.provider("qonto")
    items = [
        {
            "title": item["title"], "quantity": item["quantity"], "unit": item["unit"],
            "vat_rate": item["vat_rate"],
            "unit_price": {
                "value": str((Decimal(item["unit_price"]["value"]) * factor).quantize(Decimal("0.01"))),
                "currency": "EUR",
            },
        }
        for item in qonto.get_invoice(qonto_invoice_id)["items"]
    ]  # fmt: skip
    qonto.edit_draft(qonto_invoice_id, {"items": items})


def test_a_balance_after_a_deposit_edited_in_qonto_makes_the_invoices_add_up_to_the_deal(
    sandbox: RunningSandbox, settings: Any
) -> None:
    from connector.invoices.apply import subtotal_by_vat_of
    from connector.invoices.request import deal_snapshot_read
    from connector.invoices.state import invoice_settings_for
    from connector.invoicing.deal_checks import analyse_deal
    from connector.invoicing.lines import subtotals_by_vat
    from connector.tasks import deal_sync_task

    tenant = make_operational_tenant(sandbox)
    with worker(sandbox, settings):
        deposit = click(tenant, "rel-deposit-30-edited", "deposit", "30")
        deposit = wait_until(lambda: settled(deposit.pk), 30, "the deposit settled")
        assert deposit.subtotal_amount == Decimal("3600.00")  # 30 % of 12,000
        _edit_in_qonto(sandbox, deposit.qonto_invoice_id, Decimal(4) / 3)  # 40 % now
        deal_sync_task.delay(tenant.pk, demo.DEAL_COMPLETE_ID)  # the worker copies Qonto's lines
        wait_until(
            lambda: Invoice.objects.filter(pk=deposit.pk, subtotal_amount=Decimal("4800.00")).exists(),
            30, "the sync copied the edited deposit",
        )  # fmt: skip
        balance = click(tenant, "rel-balance-after-edit", "balance")
        balance = wait_until(lambda: settled(balance.pk), 30, "the balance settled")
    assert balance.deducted[0]["subtotal"] == "4800.00"
    assert balance.subtotal_amount == Decimal("7200.00")  # 60 %, not 70 %
    # Σ invoices = the deal, rate by rate, as Qonto holds them.
    _, lines = analyse_deal(
        deal_snapshot_read(tenant=tenant, deal_id=demo.DEAL_COMPLETE_ID), invoice_settings_for(tenant)
    )
    in_qonto: dict[str, Decimal] = {}
    qonto_invoices = sandbox.provider("qonto").list_invoices(demo.QONTO_LOGIN)
    assert sorted(q["id"] for q in qonto_invoices) == sorted(
        [deposit.qonto_invoice_id, balance.qonto_invoice_id]
    )
    for qinv in qonto_invoices:
        for rate, amount in (
            subtotal_by_vat_of(sandbox.provider("qonto").get_invoice(qinv["id"])) or {}
        ).items():
            in_qonto[rate] = in_qonto.get(rate, Decimal(0)) + Decimal(amount)
    assert in_qonto == subtotals_by_vat(lines)
    assert sum(in_qonto.values()) == Decimal("12000.00")


# --- a search Qonto refuses ---------------------------------------------------------------------------
def test_a_search_qonto_refuses_ends_failed_with_the_reason_and_posts_nothing_again(
    sandbox: RunningSandbox, settings: Any
) -> None:
    tenant = make_operational_tenant(sandbox)
    # Qonto creates the invoice but the answer is lost (the worker retries: it must search first),
    # and the search is refused for good (403: the key lost the right to list invoices).
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, kind="commit_then_fail", status=0)
    refusal = {
        "errors": [{"code": "forbidden", "detail": "missing required oauth scope"}],
        "trace_id": "rel-s",
    }
    fault(sandbox, provider="qonto", method="GET", path=QONTO_CREATE, status=403, count=None, body=refusal)
    with worker(sandbox, settings):
        invoice = _wait_failed(click(tenant, "rel-search-refused"), timeout=20)
        drained()  # no retry left queued behind it
        assert not Invoice.objects.filter(tenant=tenant, status=Invoice.Status.CREATING).exists()
        assert invoice.error_code == "qonto_reconcile_failed"
        assert "missing required oauth scope" in invoice.error_message
        assert invoice.error_retryable  # a retry searches again first
        assert invoice.submitted_at is not None
        assert qonto_posts(sandbox) == [0]  # the lost one; nothing POSTed blind
        # Once Qonto answers the search again, a retry adopts the invoice it holds.
        sandbox.sandbox.faults.clear()
        invoice_retry(invoice=invoice)
        wait_until(lambda: settled(invoice.pk), 30, "the retry adopted the invoice")
    assert_exactly_once(sandbox, tenant)
    assert qonto_posts(sandbox) == [0]


# --- secrets stay out of the worker's output ---------------------------------------------------------
def test_the_worker_logs_its_provider_calls_without_the_hubspot_token_or_the_qonto_key(
    sandbox: RunningSandbox, settings: Any, tmp_path: Path
) -> None:
    """We never log headers, so a credential reaches a log line only when a provider echoes it in
    an error we log; here both do, once, and the worker (at DEBUG) must print them masked."""
    from hubspot_app.models import HubSpotInstallation

    tenant = make_operational_tenant(sandbox)
    token = HubSpotInstallation.objects.get(tenant=tenant).access_token
    secret = demo.QONTO_SECRET_KEY
    fault(sandbox, provider="qonto", method="POST", path=QONTO_CREATE, status=500, count=1,
          body={"errors": [{"code": "internal", "detail": f"key {secret} of {demo.QONTO_LOGIN} not usable"}],
                "trace_id": "rel-echo"})  # fmt: skip
    fault(sandbox, provider="hubspot", method="PATCH", path=rf"/deals/{demo.DEAL_COMPLETE_ID}$", status=502,
          count=1, body={"status": "error", "category": "BAD_GATEWAY", "correlationId": "rel-echo",
                         "message": f"upstream refused {token}"})  # fmt: skip
    log_path = tmp_path / "worker.log"
    with worker(sandbox, settings, env={"LOG_LEVEL": "DEBUG"}, log_path=log_path):
        invoice = click(tenant, "rel-secrets-in-logs")
        wait_until(lambda: settled(invoice.pk), 30, "created and written back")
    assert_exactly_once(sandbox, tenant)
    output = log_path.read_text(encoding="utf-8")
    # It did log the calls that carried them (and the errors that echoed them)…
    assert "Qonto POST /v2/client_invoices: HTTP 500" in output
    assert f"HubSpot PATCH /crm/objects/2026-03/deals/{demo.DEAL_COMPLETE_ID}: HTTP 502" in output
    assert output.count("[masked]") >= 2
    # …and neither credential, not even a piece of one.
    for credential in (token, secret, *(token[i : i + 24] for i in range(0, len(token) - 24, 24))):
        assert credential not in output
