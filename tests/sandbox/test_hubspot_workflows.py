"""Contract tests of the HubSpot simulator's automation parts: pipelines, the workflow action and its
callbacks, stage changes and their webhook deliveries (README "Automation", sandbox/hubspot/workflows.py).

Our product is replaced by a tiny recording server, so what HubSpot sends (body, signatures, retries)
is checked on the wire; signatures are recomputed here with hmac/hashlib.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sandbox import demo
from sandbox.core import SandboxConfig
from sandbox.hubspot.workflows import parse_duration
from sandbox.testing import RunningSandbox, start_sandbox


class Recorder:
    """Stands in for our product: records each request and answers from a script."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, Any]] = []
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.socket.getsockname()[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        body = request.get_data(as_text=True)
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        status, answer = self.answers.pop(0) if self.answers else (200, {})
        return Response(json.dumps(answer), status=status, content_type="application/json")(
            environ, start_response
        )


@pytest.fixture(scope="module")
def sb() -> Iterator[RunningSandbox]:
    running = start_sandbox(SandboxConfig(port=0))
    yield running
    running.stop()


@pytest.fixture
def hub(sb: RunningSandbox) -> Any:
    sb.sandbox.reset()
    hubspot = sb.provider("hubspot")
    hubspot.install(demo.PORTAL_ID)  # the app is installed (the demo portal starts without it)
    return hubspot


@pytest.fixture
def product(hub: Any) -> Iterator[Recorder]:
    recorder = Recorder()
    hub.workflow_settings(
        action_url=f"{recorder.url}/hubspot/workflow-actions/create-invoice",
        webhook_url=f"{recorder.url}/hubspot/webhooks",
        action_retry_delays_s=[0.05, 0.05],
        webhook_retry_delays_s=[0.05, 0.05, 0.05],
    )
    yield recorder
    recorder.server.shutdown()


def v3(secret: str, method: str, url: str, body: str, ts: str) -> str:
    mac = hmac.new(secret.encode(), f"{method}{url}{body}{ts}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def api(
    sb: RunningSandbox, hub: Any, method: str, path: str, *, scopes: list[str] | None = None, **kw: Any
) -> Any:
    access, _ = hub.install(demo.PORTAL_ID, scopes=scopes) if scopes else hub.install(demo.PORTAL_ID)
    return requests.request(
        method, f"{sb.url}/hubspot{path}", headers={"Authorization": f"Bearer {access}"}, timeout=5, **kw
    )


def test_iso_durations() -> None:
    assert parse_duration("P1WT1H") == timedelta(weeks=1, hours=1)
    assert parse_duration("P3D") == timedelta(days=3)
    assert parse_duration("PT15M") == timedelta(minutes=15)
    assert parse_duration("3 days") is None
    assert parse_duration("P") is None


def test_pipelines_on_both_paths(sb: RunningSandbox, hub: Any) -> None:
    hub.add_pipeline(demo.PORTAL_ID, "Renouvellements", [("901", "Devis signé")], pipeline_id="777")
    for path in ("/crm/v3/pipelines/deals", "/crm/pipelines/2026-03/deals"):
        body = api(sb, hub, "GET", path).json()
        assert [p["id"] for p in body["results"]] == ["default", "777"]
        default = body["results"][0]
        assert default["label"] == "Sales Pipeline"
        assert [s["id"] for s in default["stages"]][-2:] == ["closedwon", "closedlost"]
        assert {"id", "label", "displayOrder", "archived", "metadata"} <= set(default["stages"][0])
    assert (
        api(sb, hub, "GET", "/crm/pipelines/2026-03/deals/777").json()["stages"][0]["label"] == "Devis signé"
    )
    assert api(sb, hub, "GET", "/crm/pipelines/2026-03/deals/nope").status_code == 404
    hub.workflow_settings(webhooks_active=False)
    assert hub.move_deal_stage(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, "901") is None  # no subscription
    assert hub.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID)["properties"]["pipeline"] == "777"
    with pytest.raises(ValueError, match="must be new"):
        hub.add_pipeline(demo.PORTAL_ID, "Doublon", [("closedwon", "Conclu")])


def test_the_action_request_is_signed_and_shaped_like_hubspots(
    sb: RunningSandbox, hub: Any, product: Recorder
) -> None:
    product.answers = [
        (200, {"outputFields": {"hs_execution_state": "BLOCK", "hs_expiration_duration": "P1D"}})
    ]
    execution = hub.run_workflow_action(
        demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, {"kind": "deposit", "percentage": 50}
    )
    assert execution["state"] == "BLOCKED"
    [sent] = product.requests
    body = json.loads(sent["body"])
    assert body["callbackId"] == execution["callbackId"]
    assert body["origin"]["portalId"] == demo.PORTAL_ID
    assert body["context"] == {"source": "WORKFLOWS", "workflowId": 192814114}
    assert body["object"] == {"objectId": int(demo.DEAL_COMPLETE_ID), "objectType": "DEAL"}
    assert body["inputFields"] == {"kind": "deposit", "percentage": "50"}
    url = f"{product.url}/hubspot/workflow-actions/create-invoice"
    secret = sb.sandbox.config.hubspot_client_secret
    headers = sent["headers"]
    assert headers["X-Hubspot-Signature-V3"] == v3(
        secret, "POST", url, sent["body"], headers["X-Hubspot-Request-Timestamp"]
    )
    assert headers["X-Hubspot-Signature-Version"] == "v2"
    assert (
        headers["X-Hubspot-Signature"]
        == hashlib.sha256(f"{secret}POST{url}{sent['body']}".encode()).hexdigest()
    )


def test_the_action_is_retried_on_5xx_and_failed_on_4xx(hub: Any, product: Recorder) -> None:
    product.answers = [
        (503, {}),
        (200, {"outputFields": {"hs_execution_state": "FAIL_CONTINUE", "qonto_result": "failed"}}),
    ]
    execution = hub.run_workflow_action(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, {"kind": "full"})
    assert [a["status"] for a in execution["attempts"]] == [503, 200]
    assert execution["state"] == "FAIL_CONTINUE"
    assert execution["outputFields"] == {"qonto_result": "failed"}
    bodies = [json.loads(r["body"]) for r in product.requests]
    assert bodies[0]["callbackId"] == bodies[1]["callbackId"]  # a retry keeps the callbackId

    product.answers = [(400, {"error": "bad"})]
    failed = hub.run_workflow_action(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, {"kind": "full"})
    assert (failed["state"], len(failed["attempts"])) == ("FAILED", 1)


def test_callbacks_complete_once_with_the_automation_scope(
    sb: RunningSandbox, hub: Any, product: Recorder
) -> None:
    product.answers = [(200, {"outputFields": {"hs_execution_state": "BLOCK"}})]
    cid = hub.run_workflow_action(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, {"kind": "full"})["callbackId"]
    done = {"outputFields": {"hs_execution_state": "SUCCESS", "qonto_result": "success"}}
    no_scope = api(sb, hub, "POST", f"/automation/actions/callbacks/2026-03/{cid}/complete",
                   scopes=["oauth", "crm.objects.deals.read"], json=done)  # fmt: skip
    assert (no_scope.status_code, no_scope.json()["category"]) == (403, "MISSING_SCOPES")
    ok = api(sb, hub, "POST", f"/automation/actions/callbacks/2026-03/{cid}/complete", json=done)
    assert (ok.status_code, ok.content) == (204, b"")
    execution = hub.workflow_execution(cid)
    assert (execution["state"], execution["outputFields"]) == ("SUCCESS", {"qonto_result": "success"})
    again = api(sb, hub, "POST", f"/automation/v4/actions/callbacks/{cid}/complete", json=done)
    assert again.status_code == 400
    assert "not blocked" in again.json()["message"]
    unknown = api(sb, hub, "POST", "/automation/v4/actions/callbacks/ap-1-2-3/complete", json=done)
    assert unknown.status_code == 404


def test_a_blocked_execution_expires(sb: RunningSandbox, hub: Any, product: Recorder) -> None:
    product.answers = [
        (200, {"outputFields": {"hs_execution_state": "BLOCK", "hs_expiration_duration": "PT1H"}})
    ]
    cid = hub.run_workflow_action(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, {"kind": "full"})["callbackId"]
    sb.sandbox.clock.advance(3601)
    assert hub.workflow_execution(cid)["state"] == "EXPIRED"
    sb.sandbox.clock.reset()


def test_a_stage_change_is_delivered_signed_and_retried_with_the_same_event(
    sb: RunningSandbox, hub: Any, product: Recorder
) -> None:
    product.answers = [(500, {}), (200, {})]
    event = hub.move_deal_stage(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, "contractsent")
    assert event["subscriptionType"] == "object.propertyChange"
    assert (event["propertyName"], event["propertyValue"], event["objectTypeId"]) == (
        "dealstage",
        "contractsent",
        "0-3",
    )
    [delivery] = hub.wait_for_webhooks()
    assert delivery["state"] == "DELIVERED"
    assert [a["status"] for a in delivery["attempts"]] == [500, 200]
    first, second = (json.loads(r["body"]) for r in product.requests)
    assert first[0]["eventId"] == second[0]["eventId"] == event["eventId"]
    assert (first[0]["attemptNumber"], second[0]["attemptNumber"]) == (0, 1)
    sent = product.requests[1]
    url = f"{product.url}/hubspot/webhooks"
    secret = sb.sandbox.config.hubspot_client_secret
    assert sent["headers"]["X-Hubspot-Signature-V3"] == v3(
        secret, "POST", url, sent["body"], sent["headers"]["X-Hubspot-Request-Timestamp"]
    )
    assert (
        hub.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID)["properties"]["dealstage"]
        == "contractsent"
    )
    # Already in that stage: no change, no event.
    assert hub.move_deal_stage(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, "contractsent") is None


def test_a_batch_gives_up_after_the_last_retry_and_unknown_stages_are_refused(
    hub: Any, product: Recorder
) -> None:
    product.answers = [(500, {})] * 4
    hub.move_deals_stage(demo.PORTAL_ID, [demo.DEAL_COMPLETE_ID, demo.DEAL_AMOUNT_ONLY_ID], "closedlost")
    [delivery] = hub.wait_for_webhooks()
    assert (delivery["state"], len(delivery["attempts"]), len(delivery["eventIds"])) == ("FAILED", 4, 2)
    with pytest.raises(ValueError, match="no pipeline"):
        hub.move_deal_stage(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, "nope")


def test_no_webhook_without_the_app(hub: Any, product: Recorder) -> None:
    hub.uninstall(demo.PORTAL_ID)
    assert hub.move_deal_stage(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, "closedlost") is None
    assert hub.webhook_deliveries() == []


def test_a_callback_completed_before_the_block_answer_is_read_stays_completed(
    sb: RunningSandbox, hub: Any
) -> None:
    request = hub.workflow_action_request(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID, {"kind": "full"})
    done = {"outputFields": {"hs_execution_state": "FAIL_CONTINUE", "qonto_result": "failed"}}
    path = f"/automation/actions/callbacks/2026-03/{request['callbackId']}/complete"
    assert api(sb, hub, "POST", path, json=done).status_code == 204
    assert hub.record_action_answer(
        request["callbackId"], 200, {"outputFields": {"hs_execution_state": "BLOCK"}}
    ) == ("FAIL_CONTINUE")


def test_a_person_plays_the_automation_on_the_deal_page(
    sb: RunningSandbox, hub: Any, product: Recorder
) -> None:
    base = f"{sb.url}/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/{demo.DEAL_COMPLETE_ID}"
    page = requests.get(base, timeout=5).text
    assert "Automatisation HubSpot (simulée)" in page
    assert 'id="wf-run"' in page
    product.answers = [(200, {"outputFields": {"hs_execution_state": "BLOCK"}}), (200, {})]
    run = requests.post(f"{base}/workflow-action", json={"kind": "deposit", "percentage": "40"}, timeout=10)
    assert (run.status_code, run.json()["state"]) == (200, "BLOCKED")
    assert json.loads(product.requests[0]["body"])["inputFields"] == {"kind": "deposit", "percentage": "40"}
    moved = requests.post(f"{base}/stage", json={"stage": "closedlost"}, timeout=10).json()
    assert moved["event"]["propertyValue"] == "closedlost"
    hub.wait_for_webhooks()
    panel = requests.get(f"{base}/automation.json", timeout=5).json()
    assert panel["stage"] == "closedlost"
    assert [e["state"] for e in panel["executions"]] == ["BLOCKED"]
    assert panel["deliveries"][0]["state"] == "DELIVERED"
    assert "closedwon" in [s["id"] for s in panel["pipelines"][0]["stages"]]
    assert requests.post(f"{base}/stage", json={"stage": "nope"}, timeout=5).status_code == 400
