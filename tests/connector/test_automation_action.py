"""The workflow action "Créer une facture Qonto": BLOCK at once, the invoice through the card's
pipeline, the outcome on the deal and in the workflow's callback — never twice per callbackId."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connector.automation.runs import automation_runs_requeue_stuck
from connector.models import AutomationRun, Invoice
from sandbox import demo
from tests.connector.automation_world import run_action
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db
CALLBACKS = "/automation/actions/callbacks/2026-03/"


def completions(world: InvoiceWorld) -> list:
    return [e for e in world.hubspot.calls(demo.PORTAL_ID, method="POST") if CALLBACKS in e.path]


def test_deposit_action_blocks_then_completes_with_the_draft(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    cid, response = run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "deposit", "percentage": "50"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "outputFields": {"hs_execution_state": "BLOCK", "hs_expiration_duration": "P3D"}
    }

    run = AutomationRun.objects.get(trigger_id=cid)
    assert run.status == AutomationRun.Status.SUCCEEDED
    invoice = Invoice.objects.get()
    assert run.invoice == invoice
    assert (invoice.kind, invoice.percentage, invoice.status) == ("deposit", 50, Invoice.Status.DRAFT)
    assert invoice.idempotency_key == f"auto:workflow_action:{cid}"
    assert [q["id"] for q in invoice_world.qonto_invoices()] == [invoice.qonto_invoice_id]

    execution = invoice_world.hubspot.workflow_execution(cid)
    assert execution["state"] == "SUCCESS"
    assert execution["outputFields"]["qonto_result"] == "success"
    assert execution["outputFields"]["qonto_invoice_id"] == invoice.qonto_invoice_id
    assert "acompte de 50 %" in execution["outputFields"]["qonto_message"]
    props = invoice_world.deal(demo.DEAL_COMPLETE_ID)["properties"]
    assert props["qonto_automation_status"] == "success"
    assert props["qonto_automation_message"].startswith("Brouillon créé dans Qonto : acompte de 50 %")
    assert props["qonto_last_invoice_status"] == "draft"  # the card's write-back ran as for a click
    assert run.messages["en"].startswith("Draft created in Qonto: 50% deposit")
    assert len(completions(invoice_world)) == 1


def test_a_retried_callback_never_makes_a_second_invoice(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    cid, first = run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "full"}, run_tasks=False
    )
    # HubSpot did not get our answer and sends the execution again, before the worker ran.
    _, again = run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "full"}, callback_id=cid
    )
    assert first.json()["outputFields"]["hs_execution_state"] == "BLOCK"
    assert again.json()["outputFields"]["hs_execution_state"] == "BLOCK"
    assert AutomationRun.objects.count() == 1
    # The first delivery's start runs again, late (the sweeper): still one invoice.
    with django_capture_on_commit_callbacks(execute=True):
        automation_runs_requeue_stuck(older_than=timedelta(0))
    assert Invoice.objects.count() == 1
    assert len(invoice_world.qonto_invoices()) == 1
    # Asked once more after the outcome: HubSpot gets it directly, nothing is created.
    _, late = run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "full"}, callback_id=cid
    )
    assert late.json()["outputFields"]["hs_execution_state"] == "SUCCESS"
    assert Invoice.objects.count() == 1


def test_bad_inputs_fail_at_once_with_what_to_fix(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    cid, response = run_action(invoice_world, client, django_capture_on_commit_callbacks, {"kind": "deposit"})
    outputs = response.json()["outputFields"]
    assert outputs["hs_execution_state"] == "FAIL_CONTINUE"
    assert outputs["qonto_result"] == "failed"
    assert "pourcentage entre 1 et 99" in outputs["qonto_message"]
    assert invoice_world.hubspot.workflow_execution(cid)["state"] == "FAIL_CONTINUE"
    run = AutomationRun.objects.get(trigger_id=cid)
    assert (run.status, run.error_code) == (AutomationRun.Status.FAILED, "invalid_percentage")
    assert Invoice.objects.count() == 0
    assert completions(invoice_world) == []  # answered directly: nothing to complete
    props = invoice_world.deal(demo.DEAL_COMPLETE_ID)["properties"]
    assert props["qonto_automation_status"] == "failed"
    assert "pourcentage" in props["qonto_automation_message"]

    _, unknown = run_action(invoice_world, client, django_capture_on_commit_callbacks, {"kind": "avoir"})
    assert "Facture complète" in unknown.json()["outputFields"]["qonto_message"]


def test_a_deal_not_ready_fails_through_the_callback_with_the_cards_reason(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    cid, response = run_action(
        invoice_world,
        client,
        django_capture_on_commit_callbacks,
        {"kind": "full"},
        deal_id=demo.DEAL_NO_SIRET_ID,
    )
    assert response.json()["outputFields"]["hs_execution_state"] == "BLOCK"
    execution = invoice_world.hubspot.workflow_execution(cid)
    assert execution["state"] == "FAIL_CONTINUE"
    assert "SIRET" in execution["outputFields"]["qonto_message"]
    run = AutomationRun.objects.get(trigger_id=cid)
    assert run.error_code == "deal_not_ready"
    assert Invoice.objects.count() == 0
    props = invoice_world.deal(demo.DEAL_NO_SIRET_ID)["properties"]
    assert props["qonto_automation_status"] == "failed"
    assert props["qonto_automation_message"].startswith("Aucune facture créée")


def test_never_two_invoices_of_a_kind_for_a_deal(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "deposit", "percentage": "30"}
    )
    cid, _ = run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "deposit", "percentage": "20"}
    )
    run = AutomationRun.objects.get(trigger_id=cid)
    assert run.error_code == "already_invoiced"
    assert "Acompte" in run.message("fr")
    assert run.messages["en"].startswith("No invoice created: this deal already has a “Deposit” invoice")
    assert Invoice.objects.count() == 1
    assert len(invoice_world.qonto_invoices()) == 1
    assert invoice_world.hubspot.workflow_execution(cid)["state"] == "FAIL_CONTINUE"
    # The balance is another kind: it goes through.
    balance_cid, _ = run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "balance"}
    )
    assert AutomationRun.objects.get(trigger_id=balance_cid).status == AutomationRun.Status.SUCCEEDED
    assert sorted(Invoice.objects.values_list("kind", flat=True)) == ["balance", "deposit"]


def test_a_qonto_refusal_fails_the_workflow_with_qontos_reason(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    error = {"code": "invalid", "detail": "due_date is invalid", "source": {"pointer": "/due_date"}}
    invoice_world.fault(
        provider="qonto", path=r"^/v2/client_invoices$", method="POST", status=422, body={"errors": [error]}
    )
    cid, _ = run_action(invoice_world, client, django_capture_on_commit_callbacks, {"kind": "full"})
    invoice = Invoice.objects.get()
    assert invoice.status == Invoice.Status.FAILED
    run = AutomationRun.objects.get(trigger_id=cid)
    assert run.status == AutomationRun.Status.FAILED
    assert run.message("fr").startswith("La création de la facture dans Qonto a échoué")
    execution = invoice_world.hubspot.workflow_execution(cid)
    assert execution["state"] == "FAIL_CONTINUE"
    assert execution["outputFields"]["qonto_invoice_id"] == ""


def test_hubspot_unavailable_for_the_callback_is_retried(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    invoice_world.fault(provider="hubspot", path="/automation/actions/callbacks/", method="POST", status=503)
    cid, _ = run_action(invoice_world, client, django_capture_on_commit_callbacks, {"kind": "full"})
    assert invoice_world.hubspot.workflow_execution(cid)["state"] == "SUCCESS"
    assert [e.status for e in completions(invoice_world)] == [503, 204]
    assert AutomationRun.objects.get(trigger_id=cid).callback_error == ""


def test_an_expired_callback_is_recorded_not_retried(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    cid, _ = run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "full"}, run_tasks=False
    )
    invoice_world.sb.sandbox.clock.advance(4 * 24 * 3600)  # past P3D: HubSpot gave up waiting
    with django_capture_on_commit_callbacks(execute=True):
        automation_runs_requeue_stuck(older_than=timedelta(0))
    run = AutomationRun.objects.get(trigger_id=cid)
    assert invoice_world.hubspot.workflow_execution(cid)["state"] == "EXPIRED"
    assert run.status == AutomationRun.Status.SUCCEEDED
    assert run.callback_completed_at is not None
    assert run.callback_error.startswith("hubspot_validation") or "not blocked" in run.callback_error


def test_an_unknown_portal_fails_without_a_record(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    invoice_world.tenant.delete()
    _, response = run_action(invoice_world, client, django_capture_on_commit_callbacks, {"kind": "full"})
    outputs = response.json()["outputFields"]
    assert outputs["hs_execution_state"] == "FAIL_CONTINUE"
    assert "n'est pas installé" in outputs["qonto_message"]
    assert AutomationRun.objects.count() == 0


def test_only_hubspot_may_call_the_action(invoice_world: InvoiceWorld, client, settings) -> None:
    request = invoice_world.hubspot.workflow_action_request(
        demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, {"kind": "full"}
    )
    path = "/hubspot/workflow-actions/create-invoice"
    headers = {k: v for k, v in request["headers"].items() if k != "Content-Type"}
    tampered = request["body"].replace('"full"', '"balance"')
    assert (
        client.post(path, data=tampered, content_type="application/json", headers=headers).status_code == 401
    )
    unsigned = {k: v for k, v in headers.items() if "v3" not in k and "Timestamp" not in k}
    # The v2 signature alone is not enough: it has no timestamp, so it could be replayed forever.
    assert (
        client.post(path, data=request["body"], content_type="application/json", headers=unsigned).status_code
        == 400
    )
    stale = {
        **headers,
        "X-HubSpot-Request-Timestamp": str(int(headers["X-HubSpot-Request-Timestamp"]) - 360_000),
    }
    assert (
        client.post(path, data=request["body"], content_type="application/json", headers=stale).status_code
        == 401
    )
    assert client.get(path).status_code == 405
    assert AutomationRun.objects.count() == 0


def test_lost_steps_are_queued_again(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks
) -> None:
    cid, _ = run_action(
        invoice_world, client, django_capture_on_commit_callbacks, {"kind": "full"}, run_tasks=False
    )
    assert AutomationRun.objects.get(trigger_id=cid).status == AutomationRun.Status.RECEIVED
    assert automation_runs_requeue_stuck() == 0  # not stuck yet
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert automation_runs_requeue_stuck(older_than=timedelta(0)) == 1
    assert callbacks
    assert AutomationRun.objects.get(trigger_id=cid).status == AutomationRun.Status.SUCCEEDED
