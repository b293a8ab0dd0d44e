"""The stage rule: a signed ``dealstage`` webhook for a deal entering the tenant's stage makes the
rule's invoice through the card's pipeline — once per event, never a second live invoice of that kind."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from connector.automation.stage_rule import stage_rule_save
from connector.models import AutomationRun, Invoice, StageRule
from hubspot_app.models import WebhookEvent
from sandbox import demo
from tests.connector.automation_world import post_webhooks, stage_event
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def enable_rule(world: InvoiceWorld, kind: str = "deposit", percentage: str | None = "30") -> StageRule:
    return stage_rule_save(
        tenant=world.tenant,
        enabled=True,
        pipeline_id="default",
        pipeline_label="Sales Pipeline",
        stage_id="closedwon",
        stage_label="Conclu gagné",
        kind=kind,
        percentage=Decimal(percentage) if percentage else None,
    )


def deliver(world: InvoiceWorld, client, capture, settings, events):  # type: ignore[no-untyped-def]
    with capture(execute=True):
        response = post_webhooks(client, events, settings=settings)
    assert response.status_code == 200, response.content
    return response.json()


def test_a_deal_entering_the_stage_gets_the_rules_invoice_once(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks, settings
) -> None:
    enable_rule(invoice_world)
    event = stage_event(invoice_world, demo.DEAL_COMPLETE_ID, "closedwon")
    summary = deliver(invoice_world, client, django_capture_on_commit_callbacks, settings, [event])
    assert summary == {"received": 1, "duplicates": 0, "invalid": 0, "runs": 1}

    invoice = Invoice.objects.get()
    assert (invoice.kind, invoice.percentage, invoice.status) == ("deposit", 30, Invoice.Status.DRAFT)
    assert invoice.idempotency_key == f"auto:stage_rule:{event['eventId']}"
    run = AutomationRun.objects.get()
    assert (run.trigger, run.status, run.invoice) == ("stage_rule", AutomationRun.Status.SUCCEEDED, invoice)
    props = invoice_world.deal(demo.DEAL_COMPLETE_ID)["properties"]
    assert props["qonto_automation_status"] == "success"
    assert "acompte de 30 %" in props["qonto_automation_message"]
    assert WebhookEvent.objects.get().outcome == "run_queued"

    # HubSpot retries the batch (our 2xx got lost): same eventId, attemptNumber 1 → nothing new.
    again = deliver(
        invoice_world, client, django_capture_on_commit_callbacks, settings, [{**event, "attemptNumber": 1}]
    )
    assert again["duplicates"] == 1
    assert Invoice.objects.count() == 1
    assert len(invoice_world.qonto_invoices()) == 1


def test_a_second_entry_into_the_stage_is_refused_with_a_reason(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks, settings
) -> None:
    enable_rule(invoice_world, kind="full", percentage=None)
    first = stage_event(invoice_world, demo.DEAL_COMPLETE_ID, "closedwon")
    deliver(invoice_world, client, django_capture_on_commit_callbacks, settings, [first])
    # Moved out and back in: a new event, a new eventId — but the deal already has its full invoice.
    second = stage_event(invoice_world, demo.DEAL_COMPLETE_ID, "closedwon")
    deliver(invoice_world, client, django_capture_on_commit_callbacks, settings, [second])
    assert Invoice.objects.count() == 1
    refused = AutomationRun.objects.get(trigger_id=str(second["eventId"]))
    assert (refused.status, refused.error_code) == (AutomationRun.Status.FAILED, "already_invoiced")
    props = invoice_world.deal(demo.DEAL_COMPLETE_ID)["properties"]
    assert props["qonto_automation_status"] == "failed"
    assert "déjà une facture de type « Facture complète »" in props["qonto_automation_message"]


def test_events_outside_the_rule_do_nothing_but_are_recorded(
    invoice_world: InvoiceWorld, client, django_capture_on_commit_callbacks, settings
) -> None:
    other_stage = stage_event(invoice_world, demo.DEAL_COMPLETE_ID, "contractsent")
    before_rule = stage_event(invoice_world, demo.DEAL_AMOUNT_ONLY_ID, "closedwon")
    before_rule["occurredAt"] = int((timezone.now() - timedelta(hours=2)).timestamp() * 1000)
    other_property = stage_event(invoice_world, demo.DEAL_COMPLETE_ID, "closedwon", propertyName="amount")
    unknown_portal = {**stage_event(invoice_world, demo.DEAL_COMPLETE_ID, "closedwon"), "portalId": 999}
    no_rule = stage_event(invoice_world, demo.DEAL_COMPLETE_ID, "closedwon")
    deliver(invoice_world, client, django_capture_on_commit_callbacks, settings, [no_rule])
    enable_rule(invoice_world)
    summary = deliver(
        invoice_world,
        client,
        django_capture_on_commit_callbacks,
        settings,
        [other_stage, before_rule, other_property, unknown_portal, {"not": "an event"}],
    )
    assert summary == {"received": 4, "duplicates": 0, "invalid": 1, "runs": 0}
    outcomes = dict(WebhookEvent.objects.values_list("event_id", "outcome"))
    assert outcomes == {
        str(no_rule["eventId"]): "no_rule",
        str(other_stage["eventId"]): "other_stage",
        str(before_rule["eventId"]): "before_rule",
        str(other_property["eventId"]): "ignored_type",
        str(unknown_portal["eventId"]): "unknown_portal",
    }
    assert AutomationRun.objects.count() == 0
    assert Invoice.objects.count() == 0


def test_a_disabled_rule_keeps_its_choice_and_restarts_when_switched_on(invoice_world: InvoiceWorld) -> None:
    rule = enable_rule(invoice_world)
    started = rule.active_since
    assert started is not None
    rule = stage_rule_save(
        tenant=invoice_world.tenant, enabled=False, kind="deposit", percentage=Decimal("30")
    )
    assert (rule.enabled, rule.stage_id, rule.active_since) == (False, "closedwon", started)
    rule = stage_rule_save(
        tenant=invoice_world.tenant, enabled=True, kind="deposit", percentage=Decimal("30")
    )
    assert rule.active_since > started
    full = stage_rule_save(tenant=invoice_world.tenant, enabled=True, kind="full", percentage=Decimal("30"))
    assert full.percentage is None  # only a deposit keeps a percentage


def test_only_hubspot_may_post_webhooks(invoice_world: InvoiceWorld, client, settings) -> None:
    enable_rule(invoice_world)
    event = stage_event(invoice_world, demo.DEAL_COMPLETE_ID, "closedwon")
    assert post_webhooks(client, [event], settings=settings, secret="not-our-secret").status_code == 401
    unsigned = client.post("/hubspot/webhooks", data="[]", content_type="application/json")
    assert unsigned.status_code == 400
    assert WebhookEvent.objects.count() == 0
    assert post_webhooks(client, {"eventId": 1}, settings=settings).status_code == 400  # type: ignore[arg-type]
