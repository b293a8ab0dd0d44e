"""Load: several tenants clicking at once through the signed card API of a live server, a real worker
pool creating the invoices. Every click makes exactly one invoice (double clicks included); the p95 of
the card POST and GET are printed.

``make test`` runs a tiny version (2 tenants); ``make soak`` a bigger one (LOAD_TENANTS, LOAD_DEALS,
LOAD_CLICKS, LOAD_THREADS override it).
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection

from connector.models import Invoice
from tests.reliability.world import load_tenant, percentile, wait_until, worker
from tests.security.openapi import signed_request

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]
BASE = "/api/hubspot/v1"


def _call(session: requests.Session, server: str, method: str, path: str, query: dict, body: Any) -> tuple:
    raw = json.dumps(body).encode() if body is not None else b""
    kwargs = signed_request(method, path, query, raw)
    headers = {
        "X-HubSpot-Signature-v3": kwargs["HTTP_X_HUBSPOT_SIGNATURE_V3"],
        "X-HubSpot-Request-Timestamp": kwargs["HTTP_X_HUBSPOT_REQUEST_TIMESTAMP"],
        "Content-Type": "application/json",
    }
    started = time.perf_counter()
    response = session.request(method, server + kwargs["path"], data=raw or None, headers=headers, timeout=30)
    return response, (time.perf_counter() - started) * 1000


def run_load(
    sandbox: Any, settings: Any, live_server: Any, capsys: Any, *, tenants: int, deals: int, clicks: int,
    threads: int, concurrency: int, allow_unavailable: bool = False,
) -> dict[str, Any]:  # fmt: skip
    # The live server's requests are signed for PUBLIC_BASE_URL, as HubSpot signs our public origin.
    world = [load_tenant(sandbox, i, deals=deals) for i in range(tenants)]
    # One job per click: a deposit of 10 %, each sent twice at once (a double click: same key).
    jobs = [
        (tenant.portal_id, deal_id, f"load-{tenant.portal_id}-{deal_id}-{n}-{uuid.uuid4().hex[:8]}")
        for tenant, deal_ids in world for deal_id in deal_ids for n in range(clicks)
    ]  # fmt: skip
    jobs = [job for job in jobs for _ in range(2)]
    post_ms: list[float] = []
    get_ms: list[float] = []
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    local = threading.local()

    def one(job: tuple[int, str, str]) -> None:
        portal_id, deal_id, key = job
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        query = {"portalId": portal_id, "userId": "7002", "userEmail": "load@example.fr"}
        body = {"kind": "deposit", "percentage": "10", "idempotency_key": key}
        post, post_elapsed = _call(
            session, live_server.url, "POST", f"{BASE}/deals/{deal_id}/invoices", query, body
        )
        get, get_elapsed = _call(session, live_server.url, "GET", f"{BASE}/deals/{deal_id}/card", query, None)
        with lock:
            post_ms.append(post_elapsed)
            get_ms.append(get_elapsed)
            statuses[f"POST {post.status_code}"] += 1
            statuses[f"GET {get.status_code}"] += 1
        connection.close()

    started = time.monotonic()
    with worker(sandbox, settings, concurrency=concurrency):
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, jobs))
        clicked = time.monotonic() - started
        expected = tenants * deals * clicks
        wait_until(
            lambda: Invoice.objects.filter(status=Invoice.Status.DRAFT).count() >= expected,
            60 + expected, "every invoice created", interval=0.5,
        )  # fmt: skip
        drained = time.monotonic() - started
    figures = {
        "tenants": tenants, "deals": tenants * deals, "clicks": len(jobs), "invoices": expected,
        "card POST p50 ms": round(percentile(post_ms, 50), 1),
        "card POST p95 ms": round(percentile(post_ms, 95), 1),
        "card GET p50 ms": round(percentile(get_ms, 50), 1),
        "card GET p95 ms": round(percentile(get_ms, 95), 1),
        "clicks done s": round(clicked, 1), "all invoices in Qonto s": round(drained, 1),
        "statuses": dict(sorted(statuses.items())),
    }  # fmt: skip
    with capsys.disabled():
        print("\nload run:", json.dumps(figures, ensure_ascii=False))

    # Exactly once: one row and one Qonto invoice per click, never per request.
    assert statuses[f"POST {202}"] == expected, statuses
    assert statuses[f"POST {200}"] == expected, statuses  # the double click answers the same invoice
    allowed = {"POST 200", "POST 202", "GET 200"}
    if allow_unavailable:  # HubSpot's budget spent: the card shows "try again", never a 500
        allowed |= {"POST 503 (retried)", "GET 503"}
    assert set(statuses) <= allowed, statuses
    rows = list(Invoice.objects.all())
    assert len(rows) == expected
    assert all(r.status == Invoice.Status.DRAFT for r in rows)
    for index, (tenant, _deals) in enumerate(world):
        qonto_invoices = sandbox.provider("qonto").list_invoices(f"load-org-{index}")
        assert len(qonto_invoices) == deals * clicks
        ours = {r.qonto_invoice_id for r in rows if r.tenant_id == tenant.pk}
        assert {q["id"] for q in qonto_invoices} == ours
    return figures


@pytest.mark.django_db(transaction=True)
def test_tiny_load_every_click_makes_exactly_one_invoice(sandbox, settings, live_server, capsys) -> None:  # type: ignore[no-untyped-def]
    figures = run_load(
        sandbox, settings, live_server, capsys, tenants=2, deals=2, clicks=2, threads=8, concurrency=2
    )
    assert figures["card GET p95 ms"] < 3000


@pytest.mark.soak
@pytest.mark.django_db(transaction=True)
def test_load_many_tenants_clicking_at_once(sandbox, settings, live_server, capsys) -> None:  # type: ignore[no-untyped-def]
    env = os.environ
    figures = run_load(
        sandbox, settings, live_server, capsys,
        tenants=int(env.get("LOAD_TENANTS", "8")), deals=int(env.get("LOAD_DEALS", "3")),
        clicks=int(env.get("LOAD_CLICKS", "3")), threads=int(env.get("LOAD_THREADS", "16")),
        concurrency=int(env.get("LOAD_WORKER_CONCURRENCY", "4")), allow_unavailable=True,
    )  # fmt: skip
    # Printed, not asserted: the p95 depends on the machine and on each portal's HubSpot budget
    # (100 calls / 10 s), which a burst of card views spends; the spec's target is p95 < 300 ms.
    assert figures["invoices"] > 0
    assert django_settings.CELERY_BROKER_URL.startswith("redis://")
