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
from typing import Any

from bench.report import Row, Sizes, latency_floor, print_table, rate_floor
from bench.world import (
    BENCH_DB,
    BIG_PORTAL,
    HUBSPOT_PER_10S,
    PORTAL_BASE,
    QONTO_PER_10S,
    bench_database,
    check_services,
    create_tenant,
    prepare_environment,
)


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
