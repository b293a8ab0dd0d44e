"""The HubSpot project's workflow action and webhooks components match what our endpoints do."""

from __future__ import annotations

import json
from pathlib import Path

from django.urls import reverse

from connector.automation.runs import KINDS, output_fields
from connector.automation.stage_rule import STAGE_PROPERTY
from connector.models import AutomationRun

PROJECT = Path(__file__).resolve().parents[2] / "hubspot_app/card"
# Templates: configure.mjs fills ${PUBLIC_BASE_URL} into src/app/{workflow-actions,webhooks}/ per deployment.
ACTION = json.loads((PROJECT / "workflow-action.template.json").read_text())
WEBHOOKS = json.loads((PROJECT / "webhooks.template.json").read_text())
BASE = "${PUBLIC_BASE_URL}"


def test_the_action_component_points_at_our_endpoint_with_our_inputs_and_outputs() -> None:
    config = ACTION["config"]
    assert ACTION["type"] == "workflow-action"
    assert config["actionUrl"] == BASE + reverse("hubspot_workflow_action")
    assert config["supportedClients"] == [{"client": "WORKFLOWS"}]
    assert config["objectTypes"] == ["DEAL"]
    inputs = {f["typeDefinition"]["name"]: f["typeDefinition"] for f in config["inputFields"]}
    assert [o["value"] for o in inputs["kind"]["options"]] == list(KINDS)
    assert inputs["percentage"]["type"] == "number"
    final = output_fields(AutomationRun(status=AutomationRun.Status.SUCCEEDED, messages={"fr": "ok"}))
    outputs = {f["typeDefinition"]["name"] for f in config["outputFields"]}
    assert outputs == {k for k in final if not k.startswith("hs_")}
    result = next(f for f in config["outputFields"] if f["typeDefinition"]["name"] == "qonto_result")
    assert [o["value"] for o in result["typeDefinition"]["options"]] == ["success", "failed"]
    for lang in ("fr", "en"):
        labels = config["labels"][lang]
        assert set(labels["inputFieldLabels"]) == set(inputs)
        assert set(labels["outputFieldLabels"]) == outputs
        assert set(labels["inputFieldOptionLabels"]["kind"]) == set(KINDS)
    assert config["labels"]["fr"]["actionName"] == "Créer une facture Qonto"


def test_the_webhooks_component_subscribes_to_deal_stage_changes_on_our_endpoint() -> None:
    config = WEBHOOKS["config"]
    assert WEBHOOKS["type"] == "webhooks"
    assert config["settings"]["targetUrl"] == BASE + reverse("hubspot_webhooks")
    assert config["subscriptions"]["crmObjects"] == [
        {
            "subscriptionType": "object.propertyChange",
            "objectType": "deal",
            "propertyName": STAGE_PROPERTY,
            "active": True,
        }
    ]
