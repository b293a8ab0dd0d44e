"""Issue 16, "never twice, for real": each window where a retry, an expired lock or a requeue could
create a second Qonto invoice, reproduced against the sandbox (eager tasks, simulator faults, time
travel). The same scenarios with real worker processes are in tests/reliability/test_never_twice.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from connector.invoices.request import InvoiceRequestRefused, invoice_request_create, invoice_retry
from connector.models import Invoice
from connector.qonto_client import QontoClient
from connector.tasks import invoice_create_task
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

QONTO_CREATE = r"^/v2/client_invoices$"
QONTO_LIST = r"^/v2/client_invoices$"


def click(world: InvoiceWorld, key: str, kind: str = "full", percentage: str | None = None) -> Invoice:
    return invoice_request_create(
        tenant=world.tenant,
        deal_id=demo.DEAL_COMPLETE_ID,
        kind=kind,
        percentage=Decimal(percentage) if percentage else None,
        idempotency_key=key,
    ).invoice


def created_in_qonto_but_answer_lost(world: InvoiceWorld, inv: Invoice) -> dict[str, Any]:
    """What a worker leaves behind when it dies right after Qonto created the invoice."""
    qonto = QontoClient.for_connection(world.tenant.qonto_connection)
    client = qonto.create_client(inv.payload["client"])
    created = qonto.create_invoice({**inv.payload["invoice"], "client_id": client["id"], "status": "draft"})
    Invoice.objects.filter(pk=inv.pk).update(
        status=Invoice.Status.CREATING, attempts=1, submitted_at=timezone.now(), qonto_client_id=client["id"]
    )
    return created


def qonto_posts(world: InvoiceWorld) -> list[int]:
    return [
        e.status
        for e in world.sb.sandbox.log.entries("qonto")
        if e.method == "POST" and e.path == "/v2/client_invoices"
    ]


@pytest.mark.django_db
def test_the_reference_on_the_invoice_is_the_deal_name_and_our_key(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        inv = click(invoice_world, "reference-1")
    inv.refresh_from_db()
    [qinv] = invoice_world.qonto_invoices()
    assert inv.reconcile_key
    assert inv.reconcile_key.startswith("QC-")
    assert qinv["purchase_order"] == f"Refonte site – Agence & Co — réf. {inv.reconcile_key}"
    assert "HubSpot" not in qinv["purchase_order"]


@pytest.mark.django_db
def test_a_retry_hours_later_adopts_the_invoice_qonto_created_then(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # The POST reaches Qonto but the answer is lost, and every search fails while the task
    # retries: the row ends FAILED (retryable) with the invoice in Qonto.
    invoice_world.fault(provider="qonto", method="POST", path=QONTO_CREATE, kind="commit_then_fail", status=0)
    invoice_world.fault(provider="qonto", method="GET", path=QONTO_LIST, status=500, count=None)
    with django_capture_on_commit_callbacks(execute=True):
        inv = click(invoice_world, "hours-later-1")
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.FAILED
    assert inv.error_retryable
    assert inv.submitted_at is not None
    assert len(invoice_world.qonto_invoices()) == 1
    invoice_world.sb.sandbox.faults.clear()
    # Three hours later, the user clicks Retry on the card.
    later = time_machine.travel(timezone.now() + timedelta(hours=3), tick=True)
    with later, django_capture_on_commit_callbacks(execute=True):
        invoice_retry(invoice=inv)
    inv.refresh_from_db()
    [qinv] = invoice_world.qonto_invoices()  # one invoice: adopted, not POSTed again
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id == qinv["id"]
    assert qonto_posts(invoice_world) == [0]  # the one POST whose answer was lost


@pytest.mark.django_db
def test_a_row_made_before_the_key_column_still_reconciles_by_its_old_reference(
    invoice_world: InvoiceWorld,
) -> None:
    inv = click(invoice_world, "legacy-reference-1")  # its task never ran
    legacy = f"HubSpot deal {demo.DEAL_COMPLETE_ID} / QC-{inv.id.hex[:12]}"
    payload = {**inv.payload, "invoice": {**inv.payload["invoice"], "purchase_order": legacy}}
    Invoice.objects.filter(pk=inv.pk).update(reference=legacy, reconcile_key=None, payload=payload)
    inv.refresh_from_db()
    created = created_in_qonto_but_answer_lost(invoice_world, inv)
    invoice_create_task.delay(str(inv.pk))
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id == created["id"]
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_our_invoice_is_found_pages_later_among_newer_ones(invoice_world: InvoiceWorld) -> None:
    inv = click(invoice_world, "paged-1")
    # 150 other invoices made in Qonto since the click, before ours: ours is on the second page.
    invoice_world.qonto.bulk_seed_invoices(demo.QONTO_LOGIN, 150, purchase_order="Autre facture {i}")
    created = created_in_qonto_but_answer_lost(invoice_world, inv)
    invoice_create_task.delay(str(inv.pk))
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id == created["id"]
    lists = [e for e in invoice_world.sb.sandbox.log.entries("qonto") if e.method == "GET"
             and e.path == "/v2/client_invoices"]  # fmt: skip
    assert len(lists) == 2
    assert len(invoice_world.qonto_invoices()) == 151


@pytest.mark.django_db
def test_a_permanent_error_from_the_search_ends_failed_with_the_reason_not_creating_forever(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    inv = click(invoice_world, "search-403-1")
    created = created_in_qonto_but_answer_lost(invoice_world, inv)
    invoice_world.fault(
        provider="qonto", method="GET", path=QONTO_LIST, status=403, count=1,
        body={"errors": [{"code": "forbidden", "detail": "missing required oauth scope"}], "trace_id": "t4"},
    )  # fmt: skip
    invoice_create_task.delay(str(inv.pk))
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.FAILED
    assert inv.error_code == "qonto_reconcile_failed"
    assert "missing required oauth scope" in inv.error_message
    assert inv.payload["error_messages"]["en"] != inv.payload["error_messages"]["fr"]
    assert inv.error_retryable is True
    assert inv.submitted_at is not None  # still known to have been sent: a retry searches first
    assert qonto_posts(invoice_world) == [200]  # nothing POSTed blind
    with django_capture_on_commit_callbacks(execute=True):
        invoice_retry(invoice=inv)
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id == created["id"]
    assert len(invoice_world.qonto_invoices()) == 1


def _age(inv: Invoice, minutes: int = 11) -> None:
    Invoice.objects.filter(pk=inv.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes))


@pytest.mark.django_db
def test_the_sweeper_skips_an_invoice_whose_task_is_still_queued(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from connector import jobs
    from connector.invoices.submit import invoices_requeue_stuck

    # The click's task is queued (a backlog, or a retry waiting its countdown) for over 10 minutes.
    with django_capture_on_commit_callbacks(execute=False):
        inv = click(invoice_world, "queued-1")
    jobs.invoice_create_mark_queued(str(inv.pk))  # what queuing it did
    _age(inv)
    assert invoices_requeue_stuck() == []  # a second task would only race the first
    # Redis restarted without persistence: the queue and the mark are gone together.
    jobs.invoice_create_finished(str(inv.pk))
    with django_capture_on_commit_callbacks(execute=True):
        assert invoices_requeue_stuck() == [str(inv.pk)]
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert len(invoice_world.qonto_invoices()) == 1
    assert jobs.invoice_create_queued([str(inv.pk)]) == set()  # the task ended: no mark left


@pytest.mark.django_db
def test_the_sweeper_skips_an_invoice_whose_task_is_running(invoice_world: InvoiceWorld) -> None:
    from connector.invoices.submit import invoice_lock_name, invoices_requeue_stuck
    from connector.ratelimit import distributed_lock

    inv = click(invoice_world, "running-1")
    _age(inv)
    with distributed_lock(invoice_lock_name(inv.pk), timeout=30):  # a worker is on it
        assert invoices_requeue_stuck() == []


@pytest.mark.django_db
def test_the_worker_checks_the_tenant_may_still_invoice_before_sending(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from connector.models import Tenant

    with django_capture_on_commit_callbacks(execute=False):
        inv = click(invoice_world, "suspended-meanwhile-1")
    # The tenant is suspended while the task waits in the queue.
    Tenant.objects.filter(pk=invoice_world.tenant.pk).update(status=Tenant.Status.SUSPENDED)
    invoice_create_task.delay(str(inv.pk))
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.FAILED
    assert inv.error_code == "tenant_not_operational"
    assert "rien n'a été envoyé à Qonto" in inv.payload["error_messages"]["fr"]
    assert "nothing was sent to Qonto" in inv.payload["error_messages"]["en"]
    assert inv.error_retryable is True
    assert qonto_posts(invoice_world) == []
    assert not [e for e in invoice_world.sb.sandbox.log.entries("qonto") if e.method in ("POST", "PATCH")]
    # Back in business: the retry creates it, once.
    Tenant.objects.filter(pk=invoice_world.tenant.pk).update(status=Tenant.Status.INSTALLED)
    inv.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        invoice_retry(invoice=inv)
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DRAFT
    assert qonto_posts(invoice_world) == [200]


@pytest.mark.django_db
def test_a_lock_lost_before_the_post_sends_nothing_and_the_task_retries(
    invoice_world: InvoiceWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector.invoices import submit
    from connector.ratelimit import redis_client

    inv = click(invoice_world, "lock-lost-1")
    real_ensure = submit.ensure_qonto_client
    calls: list[int] = []

    def slow_client(*args: Any, **kwargs: Any) -> str:
        calls.append(len(qonto_posts(invoice_world)))
        if len(calls) == 1:  # the first attempt took so long that its lock expired
            redis = redis_client()
            assert redis is not None
            redis.delete(f"lock:{submit.invoice_lock_name(inv.pk)}")
        return real_ensure(*args, **kwargs)

    monkeypatch.setattr(submit, "ensure_qonto_client", slow_client)
    invoice_create_task.delay(str(inv.pk))
    inv.refresh_from_db()
    assert calls == [0, 0]  # the first attempt stopped before its POST; the retry sent the only one
    assert inv.status == Invoice.Status.DRAFT
    assert inv.attempts == 1
    assert qonto_posts(invoice_world) == [200]


# --- retry guard -----------------------------------------------------------------------------------
CARD = "/api/hubspot/v1"


def card_retry(client: Any, world: InvoiceWorld, inv: Invoice) -> Any:
    kwargs = world.signed("POST", f"{CARD}/invoices/{inv.pk}/retry")
    return client.post(kwargs.pop("path"), **kwargs)


def _failed_deposit(world: InvoiceWorld, capture: Any, *, status: int, body: Any = None) -> Invoice:
    world.fault(provider="qonto", method="POST", path=QONTO_CREATE, status=status, count=1, body=body)
    with capture(execute=True):
        inv = click(world, f"deposit-60-{status}", "deposit", "60")
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.FAILED
    assert inv.error_retryable
    return inv


@pytest.mark.django_db
def test_a_deposit_retried_after_a_full_invoice_is_refused_not_160_percent(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    deposit = _failed_deposit(
        invoice_world, django_capture_on_commit_callbacks, status=403,
        body={"errors": [{"code": "forbidden", "detail": "Forbidden"}], "trace_id": "t1"},
    )  # fmt: skip
    # The failed deposit invoices nothing, so the whole deal can be invoiced meanwhile.
    with django_capture_on_commit_callbacks(execute=True):
        full = click(invoice_world, "full-after-failed-deposit")
    full.refresh_from_db()
    assert full.status == Invoice.Status.DRAFT
    response = card_retry(client, invoice_world, deposit)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "nothing_left"
    assert error["message"]
    deposit.refresh_from_db()
    assert deposit.status == Invoice.Status.FAILED  # left as it was, still retryable later
    [qinv] = invoice_world.qonto_invoices()
    assert qinv["id"] == full.qonto_invoice_id  # 100 %, not 160 %


@pytest.mark.django_db
def test_a_rebuild_refused_on_retry_is_a_clear_422_never_a_500(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # A data error (Qonto 422): before, the retry rebuilt the payload and the builder's own
    # check raised InvoiceNotBuildable out of the view.
    refusal = {"code": "invalid", "detail": "Invalid", "source": {"pointer": "/data/attributes/items"}}
    deposit = _failed_deposit(
        invoice_world, django_capture_on_commit_callbacks, status=422,
        body={"errors": [refusal], "trace_id": "t2"},
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        click(invoice_world, "deposit-50-meanwhile", "deposit", "50")
    response = card_retry(client, invoice_world, deposit)  # 60 % on top of 50 %
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["code"] == "deposit_exceeds_deal"
    assert "60" in error["message"]
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_a_retry_is_built_again_from_the_deal_as_it_is_now(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    deposit = _failed_deposit(
        invoice_world, django_capture_on_commit_callbacks, status=403,
        body={"errors": [{"code": "forbidden", "detail": "Forbidden"}], "trace_id": "t3"},
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = card_retry(client, invoice_world, deposit)
    assert response.status_code == 202, response.content
    deposit.refresh_from_db()
    assert deposit.status == Invoice.Status.DRAFT
    assert deposit.subtotal_amount == Decimal("7200.00")  # 60 % of 12,000
    assert len(invoice_world.qonto_invoices()) == 1


# --- the balance deducts the deposits' current amounts ---------------------------------------------
@pytest.mark.django_db
def test_the_balance_deducts_what_a_deposit_edited_in_qonto_charges_now(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from connector.sync_services import deal_sync

    with django_capture_on_commit_callbacks(execute=True):
        deposit = click(invoice_world, "deposit-30-edited", "deposit", "30")
    deposit.refresh_from_db()
    # In Qonto, someone makes the draft deposit 40 % instead of 30 % (same lines, prices × 4/3).
    qdeposit = invoice_world.qonto.get_invoice(deposit.qonto_invoice_id)
    items = [
        {
            "title": item["title"],
            "quantity": item["quantity"],
            "unit": item["unit"],
            "vat_rate": item["vat_rate"],
            "unit_price": {
                "value": str((Decimal(item["unit_price"]["value"]) * 4 / 3).quantize(Decimal("0.01"))),
                "currency": "EUR",
            },
        }
        for item in qdeposit["items"]
    ]
    invoice_world.qonto.edit_draft(deposit.qonto_invoice_id, {"items": items})
    with django_capture_on_commit_callbacks(execute=True):
        deal_sync(tenant_id=invoice_world.tenant.pk, deal_id=demo.DEAL_COMPLETE_ID)
    deposit.refresh_from_db()
    assert deposit.subtotal_amount == Decimal("4800.00")  # 40 % of 12,000
    with django_capture_on_commit_callbacks(execute=True):
        balance = click(invoice_world, "balance-after-edit", "balance")
    balance.refresh_from_db()
    assert balance.status == Invoice.Status.DRAFT
    # Σ invoices = the deal, rate by rate.
    assert deposit.subtotal_amount + balance.subtotal_amount == Decimal("12000.00")
    from connector.invoices.request import deal_snapshot_read
    from connector.invoices.state import invoice_settings_for
    from connector.invoicing.deal_checks import analyse_deal
    from connector.invoicing.lines import subtotals_by_vat

    _, lines = analyse_deal(
        deal_snapshot_read(tenant=invoice_world.tenant, deal_id=demo.DEAL_COMPLETE_ID),
        invoice_settings_for(invoice_world.tenant),
    )
    invoiced_by_vat: dict[str, Decimal] = {}
    for inv in (deposit, balance):
        for rate, amount in inv.qonto_subtotal_by_vat.items():
            invoiced_by_vat[rate] = invoiced_by_vat.get(rate, Decimal(0)) + Decimal(amount)
    assert invoiced_by_vat == subtotals_by_vat(lines)
    assert balance.deducted[0]["subtotal"] == "4800.00"


@pytest.mark.django_db
def test_an_invoice_qonto_may_hold_blocks_new_ones_until_its_retry_finds_it(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # The deposit's POST reaches Qonto but the answer is lost, and the search before the next
    # try is refused: the row ends FAILED, submitted, with the deposit in Qonto.
    invoice_world.fault(provider="qonto", method="POST", path=QONTO_CREATE, kind="commit_then_fail", status=0)
    invoice_world.fault(
        provider="qonto", method="GET", path=QONTO_LIST, status=403, count=1,
        body={"errors": [{"code": "forbidden", "detail": "Forbidden"}], "trace_id": "t9"},
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        deposit = click(invoice_world, "lost-deposit-1", "deposit", "60")
    deposit.refresh_from_db()
    assert deposit.status == Invoice.Status.FAILED
    assert deposit.submitted_at is not None
    assert not deposit.qonto_invoice_id
    # A full invoice now would make 160 % if Qonto holds the deposit: refused with the way out, for
    # every kind, on the card's buttons as in the request.
    for kind, pct in (("full", None), ("balance", None), ("deposit", "10")):
        with pytest.raises(InvoiceRequestRefused) as refused:
            click(invoice_world, f"{kind}-while-unknown", kind, pct)
        assert [p.code for p in refused.value.problems] == ["invoice_outcome_unknown"]
    kwargs = invoice_world.signed("GET", f"{CARD}/deals/{demo.DEAL_COMPLETE_ID}/card")
    actions = client.get(kwargs.pop("path"), **kwargs).json()["actions"]
    assert {a["reason_code"] for a in actions.values()} == {"invoice_outcome_unknown"}
    assert not any(a["enabled"] for a in actions.values())
    assert "Réessayez" in actions["full"]["reason"]
    assert qonto_posts(invoice_world) == [0]
    # The retry searches Qonto first (the search works again), finds the deposit and adopts it:
    # never POSTed again, and the deal holds exactly what Qonto holds.
    with django_capture_on_commit_callbacks(execute=True):
        response = card_retry(client, invoice_world, deposit)
    assert response.status_code == 202, response.content
    deposit.refresh_from_db()
    assert deposit.status == Invoice.Status.DRAFT
    [qinv] = invoice_world.qonto_invoices()
    assert deposit.qonto_invoice_id == qinv["id"]
    assert qonto_posts(invoice_world) == [0]
    # Then the deal goes on as usual: the balance is the 40 % left.
    with django_capture_on_commit_callbacks(execute=True):
        balance = click(invoice_world, "balance-after-adopted", "balance")
    balance.refresh_from_db()
    assert balance.subtotal_amount == Decimal("4800.00")
    assert len(invoice_world.qonto_invoices()) == 2


@pytest.mark.django_db
def test_a_refused_retry_still_records_the_invoice_qonto_holds(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # A deposit Qonto may hold (answer lost, search refused), then a full invoice made before that
    # rule existed (or by a person in Qonto and attached since): the deposit's retry is refused...
    invoice_world.fault(provider="qonto", method="POST", path=QONTO_CREATE, kind="commit_then_fail", status=0)
    invoice_world.fault(
        provider="qonto", method="GET", path=QONTO_LIST, status=403, count=1,
        body={"errors": [{"code": "forbidden", "detail": "Forbidden"}], "trace_id": "t9"},
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        deposit = click(invoice_world, "lost-deposit-2", "deposit", "60")
    deposit.refresh_from_db()
    assert deposit.status == Invoice.Status.FAILED
    Invoice.objects.filter(pk=deposit.pk).update(submitted_at=None)  # as rows were before the rule
    with django_capture_on_commit_callbacks(execute=True):
        full = click(invoice_world, "full-after-lost-deposit")
    full.refresh_from_db()
    assert full.status == Invoice.Status.DRAFT
    Invoice.objects.filter(pk=deposit.pk).update(submitted_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        response = card_retry(client, invoice_world, deposit)
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "nothing_left"
    # ...but the deposit Qonto holds is adopted, never POSTed again: the card and the deal's totals
    # show the truth (160 % in Qonto, for a person to sort out), not a hidden invoice.
    deposit.refresh_from_db()
    qinvs = invoice_world.qonto_invoices()
    assert len(qinvs) == 2
    assert deposit.qonto_invoice_id in {q["id"] for q in qinvs} - {full.qonto_invoice_id}
    assert deposit.status == Invoice.Status.DRAFT
    assert qonto_posts(invoice_world) == [0, 200]
