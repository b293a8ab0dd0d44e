"""The card GET under load (``make bench`` row "card GET"): issue 13's performance bullet.

20 callers on ONE portal, each GETting the signed card of one of the portal's deals again and again
(no think time) for ``--card-seconds``; HubSpot answers every call 100 ms late (the simulator's
injected latency). Targets: p95 ≤ 300 ms, and never more than HubSpot's 110 calls in any 10 s
window for the portal (our limiter allows 100). What holds it: the per-deal snapshot cache
(``connector.invoices.snapshots``), which reads each deal from HubSpot once per
``CARD_SNAPSHOT_TTL_S`` with a single reader per deal.

Our site runs as production runs it: ``gunicorn config.wsgi:application --workers 3`` (the
Procfile's default), in its own processes, with the bench database and Redis; the calls are signed
like HubSpot's (v3, over PUBLIC_BASE_URL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

CALLERS = 20
DEALS = 10
HUBSPOT_LATENCY_MS = 100
P95_TARGET_MS = 300.0
HUBSPOT_PER_10S = 110  # HubSpot's own limit per portal (ours is 100)
PORTAL = 940_000_000  # apart from the sync (910M, 920M) and automation (930M) portals
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_card_tenant(sb: Any) -> tuple[int, list[str]]:
    """An operational tenant (HubSpot installed, Qonto verified, plan active) with ``DEALS`` complete
    deals (a company with a SIRET, two line items) and one draft invoice each."""
    from django.utils import timezone

    from bench.world import create_tenant
    from billing.models import Subscription
    from connector.invoices.apply import apply_qonto_invoice
    from connector.models import Deal, Invoice, Tenant

    tenant_id = create_tenant(sb, 7000, PORTAL, 0)
    tenant = Tenant.objects.get(pk=tenant_id)
    Tenant.objects.filter(pk=tenant_id).update(siret_property="qonto_siret", last_synced_at=timezone.now())
    Subscription.objects.create(
        tenant=tenant,
        stripe_customer_id="cus_bench_card",
        stripe_subscription_id="sub_bench_card",
        status="active",
        plan="monthly",
        current_period_end=timezone.now() + timedelta(days=30),
    )
    hub, qonto = sb.provider("hubspot"), sb.provider("qonto")
    company = hub.create_company(
        PORTAL, name="Client Benchmark SAS", address="1 avenue du Test", city="Paris", zip="75001",
        country="France", qonto_siret="73282932000074",
    )  # fmt: skip
    deal_ids: list[str] = []
    # One more deal than measured: the first one only warms the server's processes up.
    qonto_ids = qonto.bulk_seed_invoices("bench-org-7000", DEALS + 1, purchase_order="Bench card {i}")
    for i, qonto_id in enumerate(qonto_ids):
        lines = [
            {"name": "Conseil", "quantity": "1", "price": "1000.00"},
            {"name": "Formation", "quantity": "2", "price": "100.00"},
        ]
        deal = hub.create_deal(
            PORTAL, dealname=f"Deal carte {i + 1}", amount="1200", company_id=company["id"],
            dealstage="closedwon", line_items=lines,
        )  # fmt: skip
        deal_ids.append(str(deal["id"]))
        row = Deal.objects.create(tenant=tenant, hubspot_deal_id=deal["id"], name=f"Deal carte {i + 1}")
        inv = Invoice(
            tenant=tenant, deal=row, hubspot_deal_id=row.hubspot_deal_id, kind=Invoice.Kind.DEPOSIT,
            percentage=30, idempotency_key=f"bench-card-{i}", reference=f"Bench card {i}",
            reconcile_key=f"BENCHCARD{i:04d}",
            payload={"vat_breakdown": {"0.2": "360.00"}, "vat_mode": "standard"}, submitted_at=timezone.now(),
        )  # fmt: skip
        apply_qonto_invoice(inv, qonto.get_invoice(qonto_id))
        inv.save()
    return tenant_id, deal_ids


@contextmanager
def web_server(env: dict[str, str]) -> Iterator[str]:
    """Our site under gunicorn (3 sync workers as the Procfile, or ``BENCH_WEB_WORKERS``), until the end.

    ``--preload`` loads Django once before the workers fork: the bench measures a running site,
    not three cold starts (a first request in a fresh worker takes seconds of imports).
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # Production's database connections: kept 60 s and health-checked (config.settings.production),
    # not one new PostgreSQL connection per request as the test settings have it.
    server_env = {
        **os.environ, **env, "PUBLIC_BASE_URL": url, "CELERY_TASK_ALWAYS_EAGER": "false",
        "CONN_MAX_AGE": "60",
    }  # fmt: skip
    proc = subprocess.Popen(  # our own interpreter and arguments
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", os.environ.get("BENCH_WEB_WORKERS", "3"), "--timeout", "30", "--log-level", "warning",
         "--preload"],
        cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                    raise RuntimeError(f"gunicorn exited: {err}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _signed_get(session: Any, url: str, path: str, secret: str, app_id: str) -> tuple[int, float]:
    query = urlencode(
        {"appId": app_id, "portalId": PORTAL, "userId": "7002", "userEmail": "bench@example.fr"}
    )
    full = f"{path}?{query}"
    ts = str(int(time.time() * 1000))
    uri = (url + full).replace("%40", "@")
    mac = hmac.new(secret.encode(), f"GET{uri}{ts}".encode(), hashlib.sha256).digest()
    headers = {"X-HubSpot-Signature-v3": base64.b64encode(mac).decode(), "X-HubSpot-Request-Timestamp": ts}
    started = time.perf_counter()
    response = session.get(url + full, headers=headers, timeout=30)
    return response.status_code, (time.perf_counter() - started) * 1000


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def _max_in_window(moments: list[float], window_s: float = 10.0) -> int:
    moments = sorted(moments)
    best, start = 0, 0
    for end, t in enumerate(moments):
        while moments[start] < t - window_s:
            start += 1
        best = max(best, end - start + 1)
    return best


def card_scenario(sb: Any, seconds: float) -> Any:
    """The "card GET" row: latency percentiles and the portal's HubSpot calls."""
    import requests

    from bench.report import Row
    from connector.invoices.snapshots import deal_snapshot_forget

    tenant_id, all_deals = create_card_tenant(sb)
    # The bench's Redis outlives its database: an earlier run's snapshots of these (seeded, so
    # identical) deals would turn the first reads into cache hits.
    deal_snapshot_forget(tenant_id=tenant_id, deal_ids=all_deals)
    warm_deal, deal_ids = all_deals[0], all_deals[1:]
    cfg = sb.sandbox.config
    env = {
        k: os.environ[k] for k in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "CACHE_KEY_PREFIX")
    }
    env.update(sb.env)
    env.update(
        {
            "HUBSPOT_CLIENT_ID": cfg.hubspot_client_id,
            "HUBSPOT_CLIENT_SECRET": cfg.hubspot_client_secret,
            "HUBSPOT_APP_ID": cfg.hubspot_app_id,
            "LOG_LEVEL": "WARNING",
        }
    )
    log = sb.sandbox.log
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    previous = dict(sb.sandbox.latency_ms)
    sb.sandbox.latency_ms.update({"hubspot": HUBSPOT_LATENCY_MS})
    try:
        with web_server(env) as url:
            # Every worker warm (code paths, database and Redis connections) on the warm-up deal,
            # so the measured deals start with an empty cache.
            warm_path = f"/api/hubspot/v1/deals/{warm_deal}/card"

            def warm_up() -> None:
                session = requests.Session()
                for _ in range(3):
                    _signed_get(session, url, warm_path, cfg.hubspot_client_secret, cfg.hubspot_app_id)

            warmers = [threading.Thread(target=warm_up) for _ in range(6)]
            for t in warmers:
                t.start()
            for t in warmers:
                t.join()
            time.sleep(1.0)
            log.clear()
            started_at = time.time()
            stop = time.monotonic() + seconds

            def caller(n: int) -> None:
                session = requests.Session()
                i = n
                while time.monotonic() < stop:
                    deal_id = deal_ids[i % len(deal_ids)]
                    i += 1
                    path = f"/api/hubspot/v1/deals/{deal_id}/card"
                    status, ms = _signed_get(
                        session, url, path, cfg.hubspot_client_secret, cfg.hubspot_app_id
                    )
                    with lock:
                        latencies.append(ms)
                        statuses[status] = statuses.get(status, 0) + 1

            threads = [threading.Thread(target=caller, args=(n,)) for n in range(CALLERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.time() - started_at
    finally:
        sb.sandbox.latency_ms.clear()
        sb.sandbox.latency_ms.update(previous)
    calls = [e for e in log.entries("hubspot") if e.portal == str(PORTAL)]
    moments = [datetime.fromisoformat(e.at.replace("Z", "+00:00")).timestamp() for e in calls]
    window_max = _max_in_window(moments)
    p50, p95 = _percentile(latencies, 50), _percentile(latencies, 95)
    requests_made = len(latencies)
    budgets_ok = window_max <= HUBSPOT_PER_10S and set(statuses) == {200}
    detail = {
        "callers": CALLERS,
        "deals": len(deal_ids),
        "hubspot_latency_ms": HUBSPOT_LATENCY_MS,
        "requests": requests_made,
        "requests_per_s": round(requests_made / elapsed, 1) if elapsed else 0,
        "statuses": {str(k): v for k, v in statuses.items()},
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(max(latencies, default=0.0), 1),
        "hubspot_calls": len(calls),
        "hubspot_calls_max_10s": window_max,
        "hubspot_limit_10s": HUBSPOT_PER_10S,
        "budgets_met": budgets_ok,
        "tenant_id": tenant_id,
    }
    # floor: one HubSpot read per deal (2 calls in sequence at 100 ms); naive: 3 calls per GET.
    return Row("card GET p95, 20 callers", p95, "ms", P95_TARGET_MS, 2 * HUBSPOT_LATENCY_MS, len(calls),
               3 * requests_made, detail)  # fmt: skip


def print_card_budget(row: Any) -> None:
    d = row.detail
    print(
        f"{row.scenario}: {d['requests']} GETs ({d['requests_per_s']}/s), p50 {d['p50_ms']} ms, p95 "
        f"{d['p95_ms']} ms, max {d['max_ms']} ms; HubSpot {d['hubspot_calls']} calls, at most "
        f"{d['hubspot_calls_max_10s']} in 10 s (limit {d['hubspot_limit_10s']}); statuses "
        f"{json.dumps(d['statuses'])} → {'met' if d['budgets_met'] else 'MISSED'}"
    )
