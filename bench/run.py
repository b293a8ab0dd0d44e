"""Status-sync benchmarks (``make bench``): the real ``tenant_sync`` against the sandbox, with latency.

Scenarios (README "Status sync: timing and API budgets"):

- **a** incremental sync, T tenants × N invoices, 5 % of the invoices changed since the last run
  (10 % of the invoices of every other tenant; the other half has no change), 50 ms added to every
  provider call: target ≤ 20 s, at most one Qonto call per tenant plus pages, HubSpot calls only
  for tenants with changes;
- **b** the first full sync of the same invoices (every deal written once): target ≤ 60 s;
- **d** 100 workflow actions "Créer une facture Qonto" on 10 portals, each delivered twice
  (``bench/automation.py``): one invoice per deal, every callback completed: target ≤ 30 s;
- **c** one tenant with 50,000 invoices, full sync, in a fresh worker process: peak memory
  ≤ 300 MB (``resource.getrusage``).

Setup: a dedicated PostgreSQL database ``qonto_connector_bench`` (created, migrated, dropped at
the end), the test settings (``config.settings.test``), a Redis database of its own (db 14 of
``REDIS_URL``'s server unless ``BENCH_REDIS_URL`` is set) for the shared locks and rate limiters,
and the sandbox running in this process (``sandbox.testing.start_sandbox``). Runs are executed
by ``--workers`` worker processes (``spawn``; default 8, like ``celery worker --concurrency 8``),
each syncing one tenant at a time from a shared queue, as the Celery fan-out does.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# BENCH_DB lets several worktrees bench on one PostgreSQL server without dropping each other's.
BENCH_DB = os.environ.get("BENCH_DB") or "qonto_connector_bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qonto_connector"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
PORTAL_BASE = 910_000_000
BIG_PORTAL = 920_000_000
QONTO_PER_10S = 800  # our shared Qonto limiter (connector.ratelimit.qonto_limiter)
HUBSPOT_PER_10S = 100  # our per-portal HubSpot limiter
INVOICE_PAYLOAD = {
    "invoice": {
        "currency": "EUR",
        "payment_methods": {"iban": "FR7616798000010000005663951"},
        "items": [
            {
                "title": "Prestation de conseil",
                "description": "Prestation de conseil — accompagnement commercial",
                "quantity": "1",
                "unit": "unit",
                "unit_price": {"value": "100.00", "currency": "EUR"},
                "vat_rate": "0.2",
            }
        ],
        "terms_and_conditions": "Paiement à 30 jours.",
        "header": "Merci pour votre confiance.",
    },
    "client": {
        "kind": "company",
        "name": "Client Benchmark",
        "tax_identification_number": "73282932000074",
        "currency": "EUR",
        "locale": "FR",
        "billing_address": {
            "street_address": "1 avenue du Test",
            "city": "Paris",
            "zip_code": "75001",
            "country_code": "FR",
        },
    },
    "company_id": "30100000001",
    "vat_breakdown": {"0.2": "100.00"},
}


@dataclasses.dataclass
class Sizes:
    tenants: int
    invoices: int
    big: int
    changed_fraction: float = 0.05


@dataclasses.dataclass
class Row:
    scenario: str
    result: float
    unit: str
    target: float | None
    floor: float
    calls: int
    naive_calls: int
    detail: dict[str, Any]

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else self.result <= self.target

    @property
    def floor_ratio(self) -> float | None:
        return self.result / self.floor if self.floor else None

    @property
    def naive_ratio(self) -> float | None:
        return self.naive_calls / self.calls if self.calls else None

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "result": round(self.result, 2),
            "unit": self.unit,
            "target": self.target,
            "met": self.ok,
            "floor": round(self.floor, 2),
            "ratio_to_floor": None if self.floor_ratio is None else round(self.floor_ratio, 2),
            "calls": self.calls,
            "naive_calls": self.naive_calls,
            "naive_over_ours": None if self.naive_ratio is None else round(self.naive_ratio, 1),
            **self.detail,
        }


# --- environment ----------------------------------------------------------------------------------
def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def prepare_environment() -> tuple[str, str]:
    """Environment every process of the bench shares (set before Django and the workers start)."""
    database_url = _with_path(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, f"/{BENCH_DB}")
    redis_url = os.environ.get("BENCH_REDIS_URL") or _with_path(
        os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL, "/14"
    )
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": "bench",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "LOG_LEVEL": "WARNING",
        }
    )
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return database_url, redis_url


@contextmanager
def bench_database(database_url: str) -> Iterator[None]:
    """Create the bench database (dropping a leftover one), migrate it, drop it at the end."""
    import psycopg

    admin_url = _with_path(database_url, "/postgres")

    def admin(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{BENCH_DB}"')
    try:
        import django

        django.setup()
        import logging

        logging.disable(logging.WARNING)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        try:
            from django.db import connections

            connections.close_all()
        finally:
            admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def check_services(database_url: str, redis_url: str) -> str | None:
    """PostgreSQL and Redis must be up (``make bench`` uses the Makefile's DATABASE_URL/REDIS_URL)."""
    import psycopg
    import redis

    try:
        with psycopg.connect(_with_path(database_url, "/postgres"), connect_timeout=5):
            pass
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {_with_path(database_url, '/postgres')}: {exc}"
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        return f"Redis unreachable at {redis_url} (set REDIS_URL or BENCH_REDIS_URL): {exc}"
    return None


# --- data -----------------------------------------------------------------------------------------
def create_tenant(sb: Any, index: int, portal_id: int, n_invoices: int) -> int:
    """A tenant wired to the sandbox (HubSpot installed + our properties, Qonto organisation), with
    ``n_invoices`` Qonto drafts, one per HubSpot deal, and our rows for them. Returns its id."""
    from datetime import timedelta

    from django.utils import timezone

    from connector.invoices.apply import apply_qonto_invoice
    from connector.models import Deal, Invoice, QontoConnection, Tenant
    from hubspot_app.models import HubSpotInstallation
    from hubspot_app.services import hubspot_setup

    hub = sb.provider("hubspot")
    qonto = sb.provider("qonto")
    login = f"bench-org-{index:04d}"
    secret = f"qsk_bench_{index:04d}_0123456789abcdef"
    hub.create_portal(portal_id, name=f"Bench {index}")
    access, refresh = hub.install(portal_id)
    qonto.seed_organization(login, secret, f"Bench {index} SAS", ibans=["FR7616798000010000005663951"])
    tenant = Tenant.objects.create(portal_id=portal_id, name=f"Bench {index}")
    HubSpotInstallation.objects.create(
        tenant=tenant,
        access_token=access,
        refresh_token=refresh,
        expires_at=timezone.now() + timedelta(minutes=25),
        scopes=[],
        installed_at=timezone.now(),
    )
    QontoConnection.objects.create(
        tenant=tenant,
        organization_slug=login,
        secret_key=secret,
        iban="FR7616798000010000005663951",
        legal_name=f"Bench {index} SAS",
        verified_at=timezone.now(),
    )
    hubspot_setup(tenant_id=tenant.pk)
    deal_ids = hub.bulk_create_deals(portal_id, n_invoices)
    qonto_ids = qonto.bulk_seed_invoices(login, n_invoices, purchase_order="HubSpot deal {i}")
    chunk = 2000
    for start in range(0, n_invoices, chunk):
        part = list(zip(deal_ids[start : start + chunk], qonto_ids[start : start + chunk], strict=True))
        deals = Deal.objects.bulk_create(
            [Deal(tenant=tenant, hubspot_deal_id=d, name=f"Deal {d}", amount="100.00") for d, _ in part]
        )
        rows = []
        for deal, (_, qid) in zip(deals, part, strict=True):
            row = Invoice(
                tenant=tenant,
                deal=deal,
                hubspot_deal_id=deal.hubspot_deal_id,
                kind=Invoice.Kind.FULL,
                idempotency_key=f"bench-{qid}",
                reference=f"HubSpot deal {deal.hubspot_deal_id} / QC-{qid[:12]}",
                payload=INVOICE_PAYLOAD,
                submitted_at=timezone.now(),
                attempts=1,
            )
            apply_qonto_invoice(row, qonto.get_invoice(qid))  # as invoice creation recorded it
            rows.append(row)
        Invoice.objects.bulk_create(rows)
    return int(tenant.pk)


# --- runs -----------------------------------------------------------------------------------------
def run_pool(pool: Any, tenant_ids: list[int], full: bool) -> tuple[float, list[dict[str, Any]]]:
    from bench import worker

    started = time.perf_counter()
    futures = [pool.submit(worker.sync_tenant, tid, full) for tid in tenant_ids]
    results = [f.result() for f in futures]
    return time.perf_counter() - started, results


def totals(results: list[dict[str, Any]]) -> dict[str, int]:
    keys = ("seen", "changed", "deals_written", "qonto_calls", "hubspot_calls")
    out = {k: sum(int(r.get(k, 0)) for r in results) for k in keys}
    out["failed_runs"] = sum(1 for r in results if r.get("status") != "succeeded")
    return out


def latency_floor(per_tenant_calls: list[int], latency_s: float, workers: int) -> float:
    """The least time the calls take when each tenant's calls run one after the other, tenants in
    parallel on ``workers`` processes: max(longest tenant, total call time / workers)."""
    if not per_tenant_calls:
        return 0.0
    return max(max(per_tenant_calls) * latency_s, sum(per_tenant_calls) * latency_s / workers)


def rate_floor(calls: int, per_10s: int) -> float:
    """A sliding window of ``per_10s`` per 10 s: the first window is free, each further one costs 10 s."""
    return max(0, math.ceil(calls / per_10s) - 1) * 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    parser.add_argument("--workers", type=int, default=8, help="worker processes (default 8)")
    parser.add_argument("--latency-ms", type=int, default=50, help="added to every provider call")
    parser.add_argument("--skip-memory", action="store_true", help="skip scenario c")
    parser.add_argument("--skip-card", action="store_true", help="skip the card GET row (bench/card.py)")
    parser.add_argument("--card-only", action="store_true", help="only the card GET row")
    parser.add_argument("--card-seconds", type=float, default=None, help="card GET load duration (10 s)")
    args = parser.parse_args(argv)
    sizes = Sizes(tenants=10, invoices=40, big=2_000) if args.quick else Sizes(100, 100, 50_000)
    latency_s = args.latency_ms / 1000.0

    database_url, redis_url = prepare_environment()
    problem = check_services(database_url, redis_url)
    if problem:
        print(f"bench: {problem}", file=sys.stderr)
        return 2
    print(
        f"bench: {sizes.tenants} tenants × {sizes.invoices} invoices, big tenant {sizes.big} invoices, "
        f"{args.latency_ms} ms latency, {args.workers} worker processes; database {BENCH_DB}, "
        f"Redis {redis_url}",
        flush=True,
    )
    from sandbox.core import SandboxConfig
    from sandbox.testing import start_sandbox

    sb = start_sandbox(SandboxConfig(port=0, demo=False, hubspot_rate_limit=110))
    os.environ.update(sb.env)
    os.environ.update(
        {
            "HUBSPOT_CLIENT_ID": sb.sandbox.config.hubspot_client_id,
            "HUBSPOT_CLIENT_SECRET": sb.sandbox.config.hubspot_client_secret,
            "HUBSPOT_APP_ID": sb.sandbox.config.hubspot_app_id,
            "QONTO_STAGING_TOKEN": "",
        }
    )
    rows: list[Row] = []
    try:
        with bench_database(database_url):
            rows = [] if args.card_only else scenarios(sb, sizes, args, latency_s)
            if not args.skip_card:
                from bench.card import card_scenario

                rows.append(card_scenario(sb, args.card_seconds or (5.0 if args.quick else 10.0)))
    finally:
        sb.stop()
    print_table(rows)
    print(json.dumps({"sizes": dataclasses.asdict(sizes), "workers": args.workers,
                      "latency_ms": args.latency_ms, "results": [r.as_json() for r in rows]},
                     indent=2))  # fmt: skip
    budgets = [r.detail[k] for r in rows for k in ("budgets_met", "automation_budgets_met") if k in r.detail]
    return 0 if all(r.ok is not False for r in rows) and all(budgets) else 1


def scenarios(sb: Any, sizes: Sizes, args: Any, latency_s: float) -> list[Row]:
    from bench import worker
    from connector.ratelimit import redis_client

    client = redis_client()
    if client is not None:  # a previous bench's windows and locks must not slow this one
        for key in client.scan_iter("ratelimit:*"):
            client.delete(key)
        for key in client.scan_iter("lock:sync:*"):
            client.delete(key)

    clock = sb.sandbox.clock
    qonto = sb.provider("qonto")
    log = sb.sandbox.log
    t0 = time.perf_counter()
    tenant_ids = [create_tenant(sb, i, PORTAL_BASE + i, sizes.invoices) for i in range(sizes.tenants)]
    logins = [f"bench-org-{i:04d}" for i in range(sizes.tenants)]
    # Earlier activity: one invoice per tenant changed ten minutes after the invoices were created
    # (so the cursor is not within the overlap of the creations; HubSpot tokens last 30 minutes).
    clock.advance(600)
    for i, login in enumerate(logins):
        qonto.touch_invoices(login, fraction=1 / sizes.invoices, seed=i)
    print(f"setup: {len(tenant_ids)} tenants in {time.perf_counter() - t0:.1f} s", flush=True)

    ctx = multiprocessing.get_context("spawn")
    rows: list[Row] = []
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=args.workers, mp_context=ctx, initializer=worker.init
    ) as pool:
        list(pool.map(worker.ping, [0.5] * args.workers))  # every worker started and set up
        sb.sandbox.latency_ms.update({"qonto": args.latency_ms, "hubspot": args.latency_ms})

        # (b) the first full sync.
        q0, h0 = log.count("qonto"), log.count("hubspot")
        seconds, results = run_pool(pool, tenant_ids, full=True)
        t = totals(results)
        q_calls, h_calls = log.count("qonto") - q0, log.count("hubspot") - h0
        per_tenant = [int(r.get("qonto_calls", 0)) + int(r.get("hubspot_calls", 0)) for r in results]
        floor_b = max(
            latency_floor(per_tenant, latency_s, args.workers),
            rate_floor(q_calls, QONTO_PER_10S),
        )
        n_invoices = sizes.tenants * sizes.invoices
        rows.append(
            Row(
                "b: first full sync",
                seconds,
                "s",
                60.0,
                floor_b,
                q_calls + h_calls,
                2 * n_invoices,
                {**t, "qonto_log_calls": q_calls, "hubspot_log_calls": h_calls},
            )
        )
        print(f"b done in {seconds:.1f} s", flush=True)

        # (a) 5 % of all invoices finalized since the last run, in every other tenant (10 % of
        # theirs): the other half has nothing new and must cost two Qonto calls (invoices and
        # credit notes) and no HubSpot call.
        clock.advance(600)
        tenants_with_changes = 0
        changed_tenants: set[int] = set()
        for i, login in enumerate(logins):
            if i % 2 == 0:
                changed = qonto.touch_invoices(
                    login, fraction=2 * sizes.changed_fraction, status="unpaid", seed=1000 + i
                )
                if changed:
                    tenants_with_changes += 1
                    changed_tenants.add(tenant_ids[i])
        q0, h0 = log.count("qonto"), log.count("hubspot")
        seconds, results = run_pool(pool, tenant_ids, full=False)
        t = totals(results)
        q_calls, h_calls = log.count("qonto") - q0, log.count("hubspot") - h0
        per_tenant = [int(r.get("qonto_calls", 0)) + int(r.get("hubspot_calls", 0)) for r in results]
        floor_a = max(
            latency_floor(per_tenant, latency_s, args.workers),
            rate_floor(q_calls, QONTO_PER_10S),
        )
        # One page of invoices per 100 updated, and one of credit notes per 100 created (1 when none).
        pages_needed = sum(
            max(1, math.ceil(int(r.get("seen", 0)) / 100))
            + max(1, math.ceil(int(r.get("credit_notes_seen", 0)) / 100))
            for r in results
        )
        hubspot_elsewhere = sum(
            int(r.get("hubspot_calls", 0)) for r in results if r["tenant_id"] not in changed_tenants
        )
        budgets_ok = q_calls <= pages_needed and hubspot_elsewhere == 0 and h_calls <= len(changed_tenants)
        rows.append(
            Row(
                "a: incremental sync",
                seconds,
                "s",
                20.0,
                floor_a,
                q_calls + h_calls,
                2 * n_invoices,
                {
                    **t,
                    "qonto_log_calls": q_calls,
                    "hubspot_log_calls": h_calls,
                    "qonto_pages_needed": pages_needed,
                    "qonto_calls_max_per_tenant": max(int(r.get("qonto_calls", 0)) for r in results),
                    "tenants_with_changes": tenants_with_changes,
                    "hubspot_calls_for_tenants_without_changes": hubspot_elsewhere,
                    "budgets_met": budgets_ok,
                },
            )
        )
        print(f"a done in {seconds:.1f} s", flush=True)

    from bench.automation import automation_scenario

    rows += automation_scenario(sb, sizes, args, latency_s)  # (d), bench/automation.py
    if not args.skip_memory:
        rows += memory_scenario(sb, sizes, latency_s)
    return rows


def memory_scenario(sb: Any, sizes: Sizes, latency_s: float) -> list[Row]:
    """(c) one tenant with many invoices, first full sync in a fresh worker process."""
    from bench import worker

    latency_ms = sb.sandbox.latency_ms.copy()
    sb.sandbox.latency_ms.clear()  # setup without latency
    t0 = time.perf_counter()
    tenant_id = create_tenant(sb, 9999, BIG_PORTAL, sizes.big)
    print(f"setup: big tenant ({sizes.big} invoices) in {time.perf_counter() - t0:.1f} s", flush=True)
    sb.sandbox.latency_ms.update(latency_ms)
    log = sb.sandbox.log
    q0, h0 = log.count("qonto"), log.count("hubspot")
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=1, mp_context=ctx, initializer=worker.init
    ) as pool:
        pool.submit(worker.ping, 0).result()
        started = time.perf_counter()
        result = pool.submit(worker.sync_tenant_measured, tenant_id, True).result()
        seconds = time.perf_counter() - started
    q_calls, h_calls = log.count("qonto") - q0, log.count("hubspot") - h0
    floor_time = (q_calls * latency_s) + max(h_calls * latency_s, rate_floor(h_calls, HUBSPOT_PER_10S))
    detail = {k: v for k, v in result.items() if k != "tenant_id"}
    detail.update({"qonto_log_calls": q_calls, "hubspot_log_calls": h_calls, "invoices": sizes.big})
    return [
        Row(
            f"c: {sizes.big} invoices, peak RSS",
            float(result["peak_rss_mb"]),
            "MB",
            300.0,
            float(result["rss_before_mb"]),
            q_calls + h_calls,
            2 * sizes.big,
            detail,
        ),
        Row(
            f"c: {sizes.big} invoices, duration",
            seconds,
            "s",
            None,
            floor_time,
            q_calls + h_calls,
            2 * sizes.big,
            {"status": result.get("status")},
        ),
    ]


def print_table(rows: list[Row]) -> None:
    header = ("scenario", "result", "target", "met", "floor", "×floor", "calls", "naive", "naive/ours")
    table = [header]
    for r in rows:
        table.append(
            (
                r.scenario,
                f"{r.result:.1f} {r.unit}",
                "—" if r.target is None else f"≤ {r.target:.0f} {r.unit}",
                "—" if r.ok is None else ("yes" if r.ok else "NO (missed)"),
                f"{r.floor:.1f} {r.unit}",
                "—" if r.floor_ratio is None else f"{r.floor_ratio:.1f}",
                str(r.calls),
                str(r.naive_calls),
                "—" if r.naive_ratio is None else f"{r.naive_ratio:.0f}×",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print()
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for r in rows:
        if "hubspot_calls_max_10s" in r.detail:
            from bench.card import print_card_budget

            print_card_budget(r)
        elif "budgets_met" in r.detail:
            d = r.detail
            print(
                f"{r.scenario} budgets: {d['qonto_log_calls']} Qonto calls for {d['qonto_pages_needed']} "
                f"pages needed (max {d['qonto_calls_max_per_tenant']} per tenant); "
                f"{d['hubspot_log_calls']} HubSpot calls for {d['tenants_with_changes']} tenants with "
                f"changes, {d['hubspot_calls_for_tenants_without_changes']} for the others "
                f"→ {'met' if d['budgets_met'] else 'MISSED'}"
            )
    print(
        "floor: time the calls need at the injected latency (each tenant's calls in sequence, tenants "
        "in parallel on the workers) and under the rate limits; for memory, the worker's RSS before "
        "the run. naive: one Qonto GET and one HubSpot PATCH per invoice."
    )
    print()
