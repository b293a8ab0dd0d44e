"""Benchmark (d): workflow actions "Créer une facture Qonto", end to end, each delivered twice.

T tenants × N deals (``Sizes.tenants // 10`` × 10 by default: 10 portals, 100 actions), each deal
enrolled in a workflow that runs our action; HubSpot (the sandbox, 50 ms on every call) sends every
execution **twice at once** (a retried delivery). The worker processes run the real services —
``automation_action_accept`` (what our action endpoint calls once the signature is verified), then
with eager tasks the whole chain: ``automation_run_start`` → ``invoice_request_create`` → the Qonto
draft → write-back → ``automation_invoice_settled`` → ``automation_run_report`` (outcome on the deal,
callback completed in the sandbox).

Measured: the time until every execution is completed in the sandbox; checked: exactly one invoice
per deal in our database and in Qonto (duplicates refused), every callback completed with SUCCESS,
and the calls per action (HubSpot ≤ 8, Qonto ≤ 4: the budget).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import time
from typing import Any

AUTOMATION_PORTAL_BASE = 930_000_000
HUBSPOT_PER_ACTION = 8  # deal + company reads, write-back PATCH + note, outcome PATCH, callback, (setup)
QONTO_PER_ACTION = 4  # client lookup/creation (first deal of a tenant), invoice creation


def deliver(body: str) -> str:
    """One delivery of an action request, in a worker process: what our endpoint does after the signature."""
    import json

    from django.db import connection

    from connector.automation.runs import automation_action_accept

    data = json.loads(body)
    try:
        outputs = automation_action_accept(
            portal_id=int(data["origin"]["portalId"]),
            callback_id=data["callbackId"],
            object_type=data["object"]["objectType"],
            object_id=str(data["object"]["objectId"]),
            input_fields=data["inputFields"],
            workflow_id=str(data["context"]["workflowId"]),
        )
    finally:
        connection.close()
    return outputs["hs_execution_state"]


def _tenant(sb: Any, index: int, deals: int) -> tuple[int, list[str]]:
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from billing.models import Subscription
    from connector.models import QontoConnection, Tenant
    from hubspot_app.models import HubSpotInstallation
    from hubspot_app.services import hubspot_setup
    from sandbox.hubspot import APP_SCOPES

    portal_id = AUTOMATION_PORTAL_BASE + index
    hub, qonto = sb.provider("hubspot"), sb.provider("qonto")
    login, secret = f"auto-org-{index:03d}", f"qsk_auto_{index:04d}_0123456789abcdef"
    iban = "FR7616798000010000005663951"
    qonto.seed_organization(login, secret, f"Auto {index} SAS", ibans=[iban])
    hub.create_portal(portal_id, name=f"Automation {index}")
    scopes = APP_SCOPES["required"] + APP_SCOPES["optional"]
    access, refresh = hub.install(portal_id, scopes=scopes)
    hub.define_property(portal_id, "companies", "siret", label="SIRET")
    company = hub.create_company(
        portal_id, name=f"Client {index}", address="1 rue du Test", city="Paris", zip="75001",
        country="France", siret="73282932000074",
    )  # fmt: skip
    deal_ids = [
        str(
            hub.create_deal(
                portal_id, dealname=f"Projet {index}-{n}", amount="1000", company_id=company["id"]
            )["id"]
        )
        for n in range(deals)
    ]
    tenant = Tenant.objects.create(portal_id=portal_id, name=f"Automation {index}", siret_property="siret")
    HubSpotInstallation.objects.create(
        tenant=tenant, access_token=access, refresh_token=refresh, scopes=scopes,
        expires_at=timezone.now() + timedelta(minutes=25), installed_at=timezone.now(),
    )  # fmt: skip
    QontoConnection.objects.create(
        tenant=tenant, organization_slug=login, secret_key=secret, vat_rate=Decimal("20"), iban=iban,
        legal_name=f"Auto {index} SAS", verified_at=timezone.now(),
    )  # fmt: skip
    Subscription.objects.create(
        tenant=tenant, stripe_customer_id=f"cus_auto_{index}", stripe_subscription_id=f"sub_auto_{index}",
        status="active", plan="monthly", current_period_end=timezone.now() + timedelta(days=30),
    )  # fmt: skip
    hubspot_setup(tenant_id=tenant.pk)
    return portal_id, deal_ids


def automation_scenario(sb: Any, sizes: Any, args: Any, latency_s: float) -> list[Any]:
    from bench import worker
    from bench.report import Row, latency_floor
    from connector.models import AutomationRun, Invoice

    tenants, per_tenant = max(1, sizes.tenants // 10), 10 if sizes.tenants >= 100 else 5
    hub, qonto, log = sb.provider("hubspot"), sb.provider("qonto"), sb.sandbox.log
    latency = sb.sandbox.latency_ms.copy()
    sb.sandbox.latency_ms.clear()  # setup without latency
    world = [_tenant(sb, i, per_tenant) for i in range(tenants)]
    requests = [
        hub.workflow_action_request(portal_id, deal_id, {"kind": "full"})
        for portal_id, deal_ids in world
        for deal_id in deal_ids
    ]
    n_actions = len(requests)
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=args.workers, mp_context=ctx, initializer=worker.init
    ) as pool:
        list(pool.map(worker.ping, [0.5] * args.workers))
        sb.sandbox.latency_ms.update(latency or {"qonto": args.latency_ms, "hubspot": args.latency_ms})
        q0, h0 = log.count("qonto"), log.count("hubspot")
        started = time.perf_counter()
        deliveries = [r["body"] for r in requests for _ in range(2)]  # each execution sent twice at once
        answers = list(pool.map(deliver, deliveries))
        cids = [r["callbackId"] for r in requests]
        while time.perf_counter() - started < 600:
            states = [hub.workflow_execution(cid)["state"] for cid in cids]
            if all(s in ("SUCCESS", "FAIL_CONTINUE", "FAILED", "EXPIRED") for s in states):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - started
    q_calls, h_calls = log.count("qonto") - q0, log.count("hubspot") - h0
    portals = [str(p) for p, _ in world]
    invoices = Invoice.objects.filter(tenant__portal_id__in=portals).count()
    qonto_invoices = sum(len(qonto.list_invoices(f"auto-org-{i:03d}")) for i in range(tenants))
    succeeded = sum(1 for s in states if s == "SUCCESS")
    runs = AutomationRun.objects.filter(tenant__portal_id__in=portals).count()
    per_action_h, per_action_q = h_calls / n_actions, q_calls / n_actions
    budgets_ok = (
        invoices == qonto_invoices == succeeded == runs == n_actions
        and per_action_h <= HUBSPOT_PER_ACTION
        and per_action_q <= QONTO_PER_ACTION
    )
    floor = latency_floor([round(per_action_h + per_action_q)] * n_actions, latency_s, args.workers)
    print(
        f"d: {n_actions} workflow actions ({tenants} portals), each delivered twice: {invoices} invoices, "
        f"{qonto_invoices} in Qonto, {succeeded} callbacks SUCCESS; {per_action_h:.1f} HubSpot + "
        f"{per_action_q:.1f} Qonto calls per action (max {HUBSPOT_PER_ACTION} + {QONTO_PER_ACTION}); "
        f"answers {sorted(set(answers))} → {'met' if budgets_ok else 'MISSED'}",
        flush=True,
    )
    return [
        Row(
            f"d: {n_actions} workflow actions ×2",
            seconds,
            "s",
            30.0,
            floor,
            q_calls + h_calls,
            2 * (q_calls + h_calls),  # naive: each delivery makes its own invoice
            {
                "actions": n_actions,
                "deliveries": len(deliveries),
                "invoices": invoices,
                "qonto_invoices": qonto_invoices,
                "callbacks_success": succeeded,
                "hubspot_calls_per_action": round(per_action_h, 2),
                "qonto_calls_per_action": round(per_action_q, 2),
                "automation_budgets_met": budgets_ok,
            },
        )
    ]
