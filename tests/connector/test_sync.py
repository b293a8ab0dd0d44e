"""The status sync (issue 7): Qonto → our rows → HubSpot deals, against the sandbox simulators."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from connector.invoices.apply import apply_qonto_invoice
from connector.invoices.request import InvoiceRequestRefused, invoice_request_create
from connector.invoices.selectors import invoice_view
from connector.invoicing.summary import invoice_summary_line, note_html
from connector.models import Deal, Invoice, SyncRun, Tenant
from connector.qonto_client import QontoClient, parse_datetime
from connector.sync import pages as sync_pages
from connector.sync import runs as sync_runs
from connector.sync import tenant_sync
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture, make_operational_tenant  # noqa: F401
from tests.processes import ROOT

LIST_PATH = r"^/v2/client_invoices$"
BATCH_UPDATE = "/deals/batch/update"


# --- helpers --------------------------------------------------------------------------------------
def click(world: InvoiceWorld, deal_id: str, key: str, capture: Any) -> Invoice:
    """A *Generate invoice* click, run to the end (draft in Qonto, deal written)."""
    with capture(execute=True):
        result = invoice_request_create(
            tenant=world.tenant, deal_id=deal_id, kind="full", percentage=None, idempotency_key=key
        )
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.DRAFT
    assert inv.qonto_invoice_id
    return inv


def seed(world: InvoiceWorld, n: int) -> list[tuple[str, str]]:
    """``n`` HubSpot deals, ``n`` Qonto drafts (one per deal) and our rows: [(deal id, Qonto id)]."""
    tenant = world.tenant
    deal_ids = world.hubspot.bulk_create_deals(tenant.portal_id, n)
    qonto_ids = world.qonto.bulk_seed_invoices(demo.QONTO_LOGIN, n, purchase_order="HubSpot deal {i}")
    deals = Deal.objects.bulk_create(
        [Deal(tenant=tenant, hubspot_deal_id=d, amount=Decimal("1000.00")) for d in deal_ids]
    )
    rows = []
    for deal, qid in zip(deals, qonto_ids, strict=True):
        row = Invoice(
            tenant=tenant,
            deal=deal,
            hubspot_deal_id=deal.hubspot_deal_id,
            kind=Invoice.Kind.FULL,
            idempotency_key=f"seed-{qid}",
            reference=f"HubSpot deal {deal.hubspot_deal_id}",
        )
        apply_qonto_invoice(row, world.qonto.get_invoice(qid))  # our row agrees with Qonto
        rows.append(row)
    Invoice.objects.bulk_create(rows)
    return list(zip(deal_ids, qonto_ids, strict=True))


def batch_calls(world: InvoiceWorld) -> list[Any]:
    return [e for e in world.hubspot.calls(world.tenant.portal_id, method="POST") if BATCH_UPDATE in e.path]


def list_calls(world: InvoiceWorld) -> list[Any]:
    return [e for e in world.sb.sandbox.log.entries("qonto") if e.route == "/v2/client_invoices"]


def sync(world: InvoiceWorld, *, full: bool = False) -> SyncRun:
    run = tenant_sync(tenant_id=world.tenant.pk, full=full)
    assert run is not None
    return run


def props(world: InvoiceWorld, deal_id: str) -> dict[str, Any]:
    return dict(world.deal(deal_id)["properties"])


# --- statuses reach our rows and the deals --------------------------------------------------------
@pytest.mark.django_db
def test_finalized_then_paid_reach_the_row_and_the_deal(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    inv = click(invoice_world, demo.DEAL_COMPLETE_ID, "sync-flow-0001", django_capture_on_commit_callbacks)
    assert props(invoice_world, demo.DEAL_COMPLETE_ID)["qonto_last_invoice_status"] == "draft"

    finalized = invoice_world.qonto.finalize(inv.qonto_invoice_id)
    assert finalized["number"]
    run = sync(invoice_world)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.invoices_changed == 1
    assert run.deals_written == 1
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.UNPAID
    assert inv.number == finalized["number"]
    p = props(invoice_world, demo.DEAL_COMPLETE_ID)
    assert p["qonto_last_invoice_status"] == "unpaid"
    assert p["qonto_last_invoice_number"] == finalized["number"]
    assert p["qonto_paid_amount"] == "0.00"

    invoice_world.qonto.mark_paid(inv.qonto_invoice_id)
    run = sync(invoice_world)
    assert run.invoices_changed == 1
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.PAID
    assert inv.paid_at is not None
    p = props(invoice_world, demo.DEAL_COMPLETE_ID)
    assert p["qonto_last_invoice_status"] == "paid"
    assert p["qonto_last_invoice_number"] == finalized["number"]
    assert p["qonto_paid_amount"] == "12000.00"  # excl. VAT, like the deal amount
    assert Decimal(p["qonto_paid_amount"]) == inv.subtotal_amount


@pytest.mark.django_db
def test_a_payment_late_at_night_in_utc_is_dated_in_paris_on_the_deal(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Qonto dates a payment in UTC; 23:30 UTC on 25 November is 00:30 on the 26th in Paris, the
    date the customer's bank statement shows: the deal's summary says the 26th, in both languages."""
    inv = click(invoice_world, demo.DEAL_COMPLETE_ID, "sync-paid-late", django_capture_on_commit_callbacks)
    invoice_world.qonto.finalize(inv.qonto_invoice_id)
    invoice_world.qonto.mark_paid(inv.qonto_invoice_id, paid_at="2026-11-25T23:30:00Z")
    sync(invoice_world)
    inv.refresh_from_db()
    assert inv.paid_at is not None
    assert inv.paid_at.date().isoformat() == "2026-11-25"
    summary = props(invoice_world, demo.DEAL_COMPLETE_ID)["qonto_invoices_summary"]
    assert "Payée le 26/11/2026" in summary
    assert "25/11" not in summary
    view = invoice_view(inv)
    assert invoice_summary_line(view).endswith("Payée le 26/11/2026")
    assert "Paid on 2026-11-26" in note_html(view, "en")
    assert "+00:00" not in note_html(view, "en")


@pytest.mark.django_db
def test_canceled_reaches_the_row_and_the_deal(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    inv = click(invoice_world, demo.DEAL_AMOUNT_ONLY_ID, "sync-cancel-01", django_capture_on_commit_callbacks)
    number = invoice_world.qonto.finalize(inv.qonto_invoice_id)["number"]
    invoice_world.qonto.cancel(inv.qonto_invoice_id)
    run = sync(invoice_world)
    assert run.status == SyncRun.Status.SUCCEEDED
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.CANCELED
    assert inv.number == number
    p = props(invoice_world, demo.DEAL_AMOUNT_ONLY_ID)
    assert p["qonto_last_invoice_status"] == "canceled"
    assert p["qonto_last_invoice_number"] == number
    assert p["qonto_paid_amount"] == "0.00"
    assert p["qonto_invoiced_amount"] == "0.00"  # a canceled invoice no longer counts as invoiced


# --- cursor ---------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_cursor_overlap_catches_an_update_made_during_the_previous_run(invoice_world: InvoiceWorld) -> None:
    (deal_a, qonto_a), (_, qonto_b) = seed(invoice_world, 2)
    clock = invoice_world.sb.sandbox.clock
    clock.advance(120)
    invoice_world.qonto.finalize(qonto_b)  # the newest change: the cursor ends on it
    first = sync(invoice_world)
    assert first.invoices_changed == 1
    cursor = Tenant.objects.get(pk=invoice_world.tenant.pk).sync_cursor
    assert cursor is not None
    assert first.cursor_to == cursor

    # A change committed in Qonto with a timestamp earlier than the cursor (it happened while the
    # previous run was listing): back to the real time, two minutes before the cursor.
    clock.reset()
    finalized_a = invoice_world.qonto.finalize(qonto_a)
    updated_a = parse_datetime(finalized_a["updated_at"])
    assert updated_a is not None
    assert cursor - sync_runs.CURSOR_OVERLAP < updated_a < cursor

    second = sync(invoice_world)
    assert second.status == SyncRun.Status.SUCCEEDED
    assert second.cursor_from == cursor - sync_runs.CURSOR_OVERLAP
    assert second.invoices_changed == 1
    row = Invoice.objects.get(qonto_invoice_id=qonto_a)
    assert row.status == Invoice.Status.UNPAID
    assert row.number == finalized_a["number"]
    assert props(invoice_world, deal_a)["qonto_last_invoice_number"] == finalized_a["number"]
    assert list_calls(invoice_world)[-1].query["filter[updated_at_from]"]  # incremental listing
    # The cursor never goes backwards.
    assert Tenant.objects.get(pk=invoice_world.tenant.pk).sync_cursor == cursor


@pytest.mark.django_db
def test_a_page_failing_halfway_keeps_the_cursor_and_the_next_run_applies_everything_once(
    invoice_world: InvoiceWorld, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    pairs = seed(invoice_world, 250)  # three pages of 100
    assert sync(invoice_world, full=True).status == SyncRun.Status.SUCCEEDED
    cursor = Tenant.objects.get(pk=invoice_world.tenant.pk).sync_cursor
    invoice_world.qonto.touch_invoices(demo.QONTO_LOGIN, ids=[q for _, q in pairs], status="unpaid")

    original = sync_pages.list_page

    injected: list[int] = []

    def list_page(qonto: Any, page: int, updated_from: Any) -> Any:
        if page == 2 and not injected:  # Qonto answers 500 on the second page, once
            injected.append(page)
            invoice_world.fault(provider="qonto", path=LIST_PATH, status=500, count=1)
        return original(qonto, page, updated_from)

    monkeypatch.setattr(sync_pages, "list_page", list_page)
    batches_before = len(batch_calls(invoice_world))
    failed = sync(invoice_world)
    assert failed.status == SyncRun.Status.FAILED
    assert "500" in failed.error
    assert failed.invoices_changed == 100  # page 1 was applied and committed
    assert failed.cursor_to is None
    assert Tenant.objects.get(pk=invoice_world.tenant.pk).sync_cursor == cursor  # unchanged
    assert [e.status for e in list_calls(invoice_world)[-2:]] == [200, 500]
    assert len(batch_calls(invoice_world)) == batches_before  # nothing written by the failed run
    assert Invoice.objects.filter(status=Invoice.Status.UNPAID).count() == 100

    recovered = sync(invoice_world)
    assert recovered.status == SyncRun.Status.SUCCEEDED
    assert recovered.invoices_changed == 150  # page 1 is not counted twice
    assert failed.invoices_changed + recovered.invoices_changed == 250
    assert Invoice.objects.filter(status=Invoice.Status.UNPAID).count() == 250
    # Every deal is written, those of page 1 (applied by the failed run) included.
    assert recovered.deals_written == 250
    assert recovered.hubspot_calls == 3
    first_page_deal = pairs[0][0]
    assert props(invoice_world, first_page_deal)["qonto_last_invoice_status"] == "unpaid"
    assert props(invoice_world, pairs[-1][0])["qonto_last_invoice_status"] == "unpaid"
    assert Tenant.objects.get(pk=invoice_world.tenant.pk).sync_cursor > cursor


# --- write-back -----------------------------------------------------------------------------------
@pytest.mark.django_db
def test_only_changed_deals_are_written(invoice_world: InvoiceWorld) -> None:
    pairs = seed(invoice_world, 5)
    first = sync(invoice_world, full=True)
    assert first.deals_written == 5
    assert first.hubspot_calls == 1

    before = len(batch_calls(invoice_world))
    again = sync(invoice_world)
    assert again.status == SyncRun.Status.SUCCEEDED
    assert again.invoices_seen == 5  # the overlap lists them again...
    assert again.invoices_changed == 0
    assert again.deals_written == 0
    assert again.hubspot_calls == 0
    assert len(batch_calls(invoice_world)) == before  # ...but HubSpot is not called

    invoice_world.qonto.finalize(pairs[2][1])
    third = sync(invoice_world)
    assert third.invoices_changed == 1
    assert third.deals_written == 1
    [call] = batch_calls(invoice_world)[before:]
    assert [i["id"] for i in call.body["inputs"]] == [pairs[2][0]]
    # A full run recomputes every deal but still writes none that is unchanged.
    full = sync(invoice_world, full=True)
    assert full.deals_written == 0
    assert full.hubspot_calls == 0


@pytest.mark.django_db
def test_a_deal_deleted_in_hubspot_is_marked_and_never_retried(invoice_world: InvoiceWorld) -> None:
    pairs = seed(invoice_world, 3)
    sync(invoice_world, full=True)
    gone_deal = pairs[1][0]
    assert invoice_world.hubspot.delete_deal(invoice_world.tenant.portal_id, gone_deal)
    invoice_world.qonto.touch_invoices(demo.QONTO_LOGIN, ids=[q for _, q in pairs], status="unpaid")

    before = len(batch_calls(invoice_world))
    run = sync(invoice_world)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.invoices_changed == 3
    assert run.deals_written == 2
    calls = batch_calls(invoice_world)[before:]
    assert [c.status for c in calls] == [207]  # one call; the not-found deal is not retried
    deleted = Deal.objects.get(hubspot_deal_id=gone_deal)
    assert deleted.hubspot_deleted_at is not None
    for deal_id, _ in (pairs[0], pairs[2]):
        assert Deal.objects.get(hubspot_deal_id=deal_id).hubspot_deleted_at is None
        assert props(invoice_world, deal_id)["qonto_last_invoice_status"] == "unpaid"

    invoice_world.qonto.touch_invoices(demo.QONTO_LOGIN, ids=[q for _, q in pairs], status="paid")
    before = len(batch_calls(invoice_world))
    nxt = sync(invoice_world)
    assert nxt.deals_written == 2
    [call] = batch_calls(invoice_world)[before:]
    assert call.status == 200
    assert sorted(i["id"] for i in call.body["inputs"]) == sorted([pairs[0][0], pairs[2][0]])
    assert Invoice.objects.get(qonto_invoice_id=pairs[1][1]).status == Invoice.Status.PAID  # our row


@pytest.mark.django_db
def test_a_deleted_draft_becomes_deleted_on_a_full_run(invoice_world: InvoiceWorld) -> None:
    (deal_a, qonto_a), (deal_b, qonto_b) = seed(invoice_world, 2)
    sync(invoice_world, full=True)
    invoice_world.qonto.delete_draft(qonto_a)

    incremental = sync(invoice_world)
    assert incremental.invoices_changed == 0  # a deleted draft simply vanishes from the list
    assert Invoice.objects.get(qonto_invoice_id=qonto_a).status == Invoice.Status.DRAFT

    full = sync(invoice_world, full=True)
    assert full.status == SyncRun.Status.SUCCEEDED
    assert full.invoices_changed == 1
    assert Invoice.objects.get(qonto_invoice_id=qonto_a).status == Invoice.Status.DELETED
    assert Invoice.objects.get(qonto_invoice_id=qonto_b).status == Invoice.Status.DRAFT
    assert props(invoice_world, deal_a)["qonto_last_invoice_status"] == "canceled"
    assert props(invoice_world, deal_b)["qonto_last_invoice_status"] == "draft"
    gets = [e for e in invoice_world.sb.sandbox.log.entries("qonto") if e.path.endswith(qonto_a)]
    assert [e.status for e in gets] == [404]  # confirmed with one GET before marking it


def qonto_calls_since(world: InvoiceWorld, start: int) -> list[Any]:
    return list(world.sb.sandbox.log.entries("qonto"))[start:]


def draft_check_due(tenant: Tenant) -> None:
    """Make the incremental draft check due (its interval has passed)."""
    Tenant.objects.filter(pk=tenant.pk).update(drafts_checked_at=timezone.now() - timedelta(hours=1))


@pytest.mark.django_db
def test_issue_12_a_draft_deleted_in_qonto_is_noticed_by_the_incremental_sync_and_the_deal_invoiced_again(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: the draft stayed "Brouillon" forever and *Generate* kept asking to delete it."""
    world = invoice_world
    inv = click(world, demo.DEAL_COMPLETE_ID, "deleted-draft-01", django_capture_on_commit_callbacks)
    assert sync(world).status == SyncRun.Status.SUCCEEDED
    world.qonto.delete_draft(inv.qonto_invoice_id)

    # Before the sync notices, Generate still refuses: the deal has a live full invoice.
    with pytest.raises(InvoiceRequestRefused) as refused:
        click(world, demo.DEAL_COMPLETE_ID, "deleted-draft-02", django_capture_on_commit_callbacks)
    # (the deal is fully invoiced by the draft Qonto no longer has: "invoice exists" or "nothing left")
    assert refused.value.problems[0].code in ("invoice_exists", "nothing_left")

    draft_check_due(world.tenant)
    start = len(list(world.sb.sandbox.log.entries("qonto")))
    run = sync(world)  # incremental
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.full is False
    assert run.drafts_deleted == 1
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.DELETED
    calls = qonto_calls_since(world, start)
    drafts_listing = [c for c in calls if c.route == "/v2/client_invoices" and c.query.get("filter[status]")]
    assert [c.query["filter[status]"] for c in drafts_listing] == [["draft"]]  # one page
    assert [c.status for c in calls if c.path.endswith(str(inv.qonto_invoice_id))] == [404]  # confirmed
    p = props(world, demo.DEAL_COMPLETE_ID)
    assert p["qonto_last_invoice_status"] == "canceled"
    assert p["qonto_invoiced_amount"] == "0.00"  # its amount is freed on the deal
    assert p["qonto_left_to_invoice"] == "12000.00"
    assert Tenant.objects.get(pk=world.tenant.pk).drafts_checked_at is not None

    # Generate works again, and makes a new draft in Qonto.
    again = click(world, demo.DEAL_COMPLETE_ID, "deleted-draft-03", django_capture_on_commit_callbacks)
    assert again.pk != inv.pk
    assert world.qonto.get_invoice(again.qonto_invoice_id)["status"] == "draft"
    assert props(world, demo.DEAL_COMPLETE_ID)["qonto_last_invoice_status"] == "draft"


@pytest.mark.django_db
def test_the_incremental_draft_check_runs_once_per_interval_and_only_with_drafts(
    invoice_world: InvoiceWorld, settings
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    settings.SYNC_DRAFT_CHECK_MINUTES = 30

    def draft_listings(start: int) -> int:
        return sum(
            1
            for c in qonto_calls_since(world, start)
            if c.route == "/v2/client_invoices" and c.query.get("filter[status]") == ["draft"]
        )

    start = len(list(world.sb.sandbox.log.entries("qonto")))
    sync(world)  # no invoice of ours at all: nothing to compare
    assert draft_listings(start) == 0

    seed(world, 3)
    start = len(list(world.sb.sandbox.log.entries("qonto")))
    first = sync(world)
    assert draft_listings(start) == 1  # never checked: due
    assert first.drafts_deleted == 0
    start = len(list(world.sb.sandbox.log.entries("qonto")))
    second = sync(world)
    assert draft_listings(start) == 0  # checked a moment ago: the budget stays one call plus pages
    assert second.qonto_calls == 2  # the incremental listing and the credit notes listing

    draft_check_due(world.tenant)
    start = len(list(world.sb.sandbox.log.entries("qonto")))
    sync(world)
    assert draft_listings(start) == 1


@pytest.mark.django_db
def test_a_draft_missing_from_the_drafts_listing_but_still_in_qonto_is_never_marked_deleted(
    invoice_world: InvoiceWorld, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Pages shift when an invoice changes status during the listing: absence alone proves nothing."""
    world = invoice_world
    (_, qonto_a), (_, qonto_b), (_, qonto_c) = seed(world, 3)
    sync(world, full=True)
    world.sb.sandbox.clock.advance(600)
    world.qonto.finalize(qonto_c)  # moves the cursor: a and b are no longer in incremental listings
    sync(world)
    draft_check_due(world.tenant)
    original = QontoClient.list_invoices_page

    def skipping(self: Any, **kwargs: Any) -> Any:
        page = original(self, **kwargs)
        if kwargs.get("status") == "draft":
            page.items[:] = [i for i in page.items if i.get("id") != qonto_a]
        return page

    monkeypatch.setattr(QontoClient, "list_invoices_page", skipping)
    run = sync(world)
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.drafts_deleted == 0
    assert Invoice.objects.get(qonto_invoice_id=qonto_a).status == Invoice.Status.DRAFT
    assert Invoice.objects.get(qonto_invoice_id=qonto_b).status == Invoice.Status.DRAFT
    gets = [e for e in world.sb.sandbox.log.entries("qonto") if e.path.endswith(qonto_a)]
    assert [e.status for e in gets] == [200]  # the absent one was checked, and exists


# --- concurrency and budgets ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_syncs_of_one_tenant_make_one_run(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    world = InvoiceWorld(sb=sandbox, tenant=make_operational_tenant(sandbox), settings=settings)
    seed(world, 3)
    sandbox.sandbox.latency_ms["qonto"] = 300  # the first run is still listing when the second starts
    barrier = threading.Barrier(2)
    results: list[SyncRun | None] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(tenant_sync(tenant_id=world.tenant.pk))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r is None for r in results) == [False, True]
    assert SyncRun.objects.filter(tenant=world.tenant).count() == 1
    assert len([c for c in list_calls(world) if "filter[status]" not in c.query]) == 1


RATE_SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import django
    django.setup()
    from connector.ratelimit import RateLimiter
    limiter = RateLimiter("test:two-processes", int(sys.argv[1]), float(sys.argv[2]))
    stamps = []
    for _ in range(int(sys.argv[3])):
        limiter.acquire(timeout=30)
        stamps.append(time.time())
    print(json.dumps(stamps))
    """
)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the shared limiter needs Redis")
def test_the_rate_limiter_holds_under_two_processes() -> None:
    limit, window, per_process = 10, 1.0, 20
    # Another Redis database than the tests' one: a test running elsewhere that clears its cache
    # (FLUSHDB) must not wipe the window half-way.
    url = urlsplit(os.environ["REDIS_URL"])
    redis_url = urlunsplit((url.scheme, url.netloc, "/13", "", ""))
    redis.Redis.from_url(redis_url).delete("ratelimit:test:two-processes")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": redis_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RATE_SCRIPT, str(limit), str(window), str(per_process)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    stamps: list[float] = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        stamps += json.loads(out.strip().splitlines()[-1])
    stamps.sort()
    assert len(stamps) == 2 * per_process
    # In any window (less a little for the gap between Redis' clock and ours), at most `limit`.
    busiest = max(sum(1 for s in stamps if t <= s < t + window * 0.9) for t in stamps)
    assert busiest <= limit, [round(s - stamps[0], 3) for s in stamps]
    # And the budget was used, not starved: 40 slots at 10/s take about 3 s, not much more.
    assert stamps[-1] - stamps[0] < 3 * window + 2.0


@pytest.mark.django_db
def test_hubspot_calls_stay_within_the_portal_budget(invoice_world: InvoiceWorld, settings) -> None:  # type: ignore[no-untyped-def]
    settings.HUBSPOT_RATE_LIMIT_PER_10S = 2  # a tiny budget makes the limiter visible quickly
    seed(invoice_world, 300)  # 3 batch calls
    run = sync(invoice_world, full=True)
    assert run.hubspot_calls == 3
    from sandbox.core import parse_iso

    stamps = sorted(parse_iso(c.at).timestamp() for c in batch_calls(invoice_world))
    assert len(stamps) == 3
    assert stamps[2] - stamps[0] >= 9.5  # the third call waited for the 10-second window


# --- entry points ---------------------------------------------------------------------------------
@pytest.mark.django_db
def test_management_command_prints_the_summary_line(invoice_world: InvoiceWorld) -> None:
    seed(invoice_world, 2)
    out = io.StringIO()
    call_command("sync_qonto_statuses", "--tenant", str(invoice_world.tenant.portal_id), "--full", stdout=out)
    text = out.getvalue()
    assert (
        f"portal {invoice_world.tenant.portal_id}: succeeded, 2 seen, 0 changed, 2 deals written, "
        "2 Qonto + 1 HubSpot calls"  # the invoices and the credit notes listings
    ) in text
    assert SyncRun.objects.get().full is True


@pytest.mark.django_db
def test_management_command_refuses_an_unknown_portal() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("sync_qonto_statuses", "--tenant", "999")


def test_beat_schedule_has_the_incremental_and_full_syncs() -> None:
    schedule = django_settings.CELERY_BEAT_SCHEDULE
    incremental = schedule["sync-incremental"]
    full = schedule["sync-full"]
    assert incremental["task"] == full["task"] == "connector.tasks.sync_fanout_task"
    assert not incremental.get("kwargs", {}).get("full")
    assert full["kwargs"] == {"full": True}
    minute, hour, dom, month, dow = django_settings.SYNC_SCHEDULE.split()
    expected = crontab(minute=minute, hour=hour, day_of_month=dom, month_of_year=month, day_of_week=dow)
    assert incremental["schedule"] == expected
    assert isinstance(full["schedule"], crontab)
    assert full["schedule"] != incremental["schedule"]
    from config.celery import app

    assert set(app.conf.beat_schedule) >= {"sync-incremental", "sync-full"}


@pytest.mark.django_db
def test_fanout_queues_one_sync_per_operational_tenant(invoice_world: InvoiceWorld) -> None:
    seed(invoice_world, 2)
    from connector.tasks import sync_fanout_task

    assert sync_fanout_task.apply(kwargs={"full": True}).get() == 1  # eager: the sync ran too
    run = SyncRun.objects.get()
    assert run.full is True
    assert run.status == SyncRun.Status.SUCCEEDED
    assert run.deals_written == 2


# --- the card asks for a refresh when statuses are stale ------------------------------------------
def card_get(client: Any, world: InvoiceWorld, deal_id: str) -> Any:
    kwargs = world.signed("GET", f"/api/hubspot/v1/deals/{deal_id}/card")
    path = kwargs.pop("path")
    return client.get(path, **kwargs)


@pytest.mark.django_db
def test_card_schedules_a_deal_sync_when_stale_at_most_every_5_minutes(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from connector import tasks

    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr(tasks.deal_sync_task, "delay", lambda *args: queued.append(args))

    # No invoice with a Qonto id yet: nothing to refresh.
    assert card_get(client, invoice_world, demo.DEAL_COMPLETE_ID).status_code == 200
    assert queued == []
    inv = click(invoice_world, demo.DEAL_COMPLETE_ID, "card-stale-0001", django_capture_on_commit_callbacks)

    # Never synced: one refresh is queued, and only one within 5 minutes.
    assert Tenant.objects.get(pk=invoice_world.tenant.pk).last_synced_at is None
    assert card_get(client, invoice_world, demo.DEAL_COMPLETE_ID).status_code == 200
    assert card_get(client, invoice_world, demo.DEAL_COMPLETE_ID).status_code == 200
    assert queued == [(invoice_world.tenant.pk, demo.DEAL_COMPLETE_ID)]

    # Freshly synced: nothing is queued, whatever the cache says.
    from django.core.cache import cache

    cache.clear()
    sync(invoice_world)
    assert card_get(client, invoice_world, demo.DEAL_COMPLETE_ID).status_code == 200
    assert len(queued) == 1
    assert inv.qonto_invoice_id


@pytest.mark.django_db
def test_card_refresh_task_updates_the_deal(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """Tasks run eagerly in tests: the queued deal sync brings the finalized status in."""
    inv = click(invoice_world, demo.DEAL_COMPLETE_ID, "card-stale-0002", django_capture_on_commit_callbacks)
    number = invoice_world.qonto.finalize(inv.qonto_invoice_id)["number"]
    response = card_get(client, invoice_world, demo.DEAL_COMPLETE_ID)
    assert response.status_code == 200
    inv.refresh_from_db()
    assert inv.status == Invoice.Status.UNPAID
    assert inv.number == number
    assert props(invoice_world, demo.DEAL_COMPLETE_ID)["qonto_last_invoice_status"] == "unpaid"
    assert card_get(client, invoice_world, demo.DEAL_COMPLETE_ID).json()["invoices"][0]["number"] == number
