"""Automation end to end: HubSpot (the simulator) calls our live server, a real Celery worker process
creates the invoice through Redis, and the outcome reaches the deal and the workflow's callback.

- the workflow action "Créer une facture Qonto": signed POST to our actionUrl → BLOCK at once → the
  worker creates the deposit in Qonto → the callback is completed with SUCCESS and our outputs;
- the stage rule: the deal is moved into the rule's stage in HubSpot → signed webhook batch → the
  worker creates the full invoice; the same batch delivered again (HubSpot's retry) changes nothing.
"""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from connector.automation.stage_rule import stage_rule_save
from connector.models import AutomationRun, Invoice
from hubspot_app.models import WebhookEvent
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import make_operational_tenant
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


@pytest.mark.django_db(transaction=True)
def test_workflow_action_and_stage_rule_through_a_real_worker(sandbox, settings, live_server) -> None:  # type: ignore[no-untyped-def]
    # HubSpot signs the public URL it calls: here our live server is that public URL.
    settings.PUBLIC_BASE_URL = live_server.url
    hub = sandbox.provider("hubspot")
    hub.workflow_settings(
        action_url=f"{live_server.url}/hubspot/workflow-actions/create-invoice",
        webhook_url=f"{live_server.url}/hubspot/webhooks",
        action_retry_delays_s=[0.5],
        webhook_retry_delays_s=[0.5, 0.5],
    )
    tenant = make_operational_tenant(sandbox)
    worker_env = {
        **sandbox.env,
        "HUBSPOT_CLIENT_ID": settings.HUBSPOT_CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": settings.HUBSPOT_CLIENT_SECRET,
        "PUBLIC_BASE_URL": live_server.url,
    }
    with celery_worker(extra_env=worker_env), tasks_sent_to_broker():
        # 1. The workflow action on a deal: the web answer does not wait for Qonto.
        execution = hub.run_workflow_action(
            demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, {"kind": "deposit", "percentage": "50"}
        )
        assert [a["status"] for a in execution["attempts"]] == [200]
        cid = execution["callbackId"]
        done = wait_for(
            lambda: (e := hub.workflow_execution(cid))["state"] in ("SUCCESS", "FAIL_CONTINUE") and e,
            timeout=60,
        )
        deposit = Invoice.objects.get(tenant=tenant, kind="deposit")
        assert done["state"] == "SUCCESS", done
        assert done["outputFields"]["qonto_result"] == "success"
        assert done["outputFields"]["qonto_invoice_id"] == deposit.qonto_invoice_id
        assert deposit.status == Invoice.Status.DRAFT
        assert deposit.percentage == Decimal("50")
        deal = wait_for(
            lambda: (
                (d := hub.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID))["properties"].get(
                    "qonto_automation_status"
                )
                == "success"
                and d
            ),
            timeout=30,
        )
        assert "acompte de 50 %" in deal["properties"]["qonto_automation_message"]

        # 2. The stage rule: the deal leaves, then enters, the rule's stage.
        stage_rule_save(
            tenant=tenant, enabled=True, pipeline_id="default", pipeline_label="Sales Pipeline",
            stage_id="closedwon", stage_label="Conclu gagné", kind="full",
        )  # fmt: skip
        hub.move_deal_stage(demo.PORTAL_ID, demo.DEAL_AMOUNT_ONLY_ID, "appointmentscheduled")  # (other stage)
        event = hub.move_deal_stage(demo.PORTAL_ID, demo.DEAL_AMOUNT_ONLY_ID, "closedwon")
        full = wait_for(
            lambda: Invoice.objects.filter(
                tenant=tenant, hubspot_deal_id=demo.DEAL_AMOUNT_ONLY_ID, status=Invoice.Status.DRAFT
            ).first(),
            timeout=60,
        )
        run = wait_for(
            lambda: AutomationRun.objects.filter(
                trigger_id=str(event["eventId"]), deal_written_at__isnull=False
            ).first(),
            timeout=30,
        )
        assert (run.status, run.invoice_id, full.kind) == (AutomationRun.Status.SUCCEEDED, full.pk, "full")
        # HubSpot delivers the same batch again: answered, recorded as a duplicate, nothing created.
        hub.deliver_webhooks([event])
        deliveries = hub.wait_for_webhooks(timeout=20)
        assert [d["state"] for d in deliveries] == ["DELIVERED"] * len(deliveries)
        props = hub.get_object(demo.PORTAL_ID, "deals", demo.DEAL_AMOUNT_ONLY_ID)["properties"]
        assert props["qonto_automation_status"] == "success"
    outcomes = sorted(WebhookEvent.objects.values_list("outcome", flat=True))
    assert outcomes == ["other_stage", "run_queued"]  # the redelivery was a duplicate: not recorded twice
    assert Invoice.objects.filter(tenant=tenant).count() == 2
    assert len(sandbox.provider("qonto").list_invoices(demo.QONTO_LOGIN)) == 2
