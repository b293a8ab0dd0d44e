"""Workflows and webhooks as HubSpot runs them for our app: the custom action, its callbacks, stage changes.

- **Workflow action** (``run_workflow_action``): HubSpot POSTs the execution to the app's
  ``actionUrl`` [doc: ``callbackId``, ``origin``, ``context``, ``object``, ``inputFields``], signed
  v2 (``X-HubSpot-Signature``) and v3 [doc]. A 2xx answer's ``outputFields.hs_execution_state``
  says what happens: ``BLOCK`` waits for the callback until ``hs_expiration_duration`` (ISO 8601,
  default one week [seen]), ``SUCCESS`` / ``FAIL_CONTINUE`` end it. Connection failures, timeouts,
  429 and 5xx are retried [seen: 429 honours ``Retry-After``; 5xx assumed], other 4xx fail it.
- **Callbacks API**: ``POST /automation/v4/actions/callbacks/{callbackId}/complete`` and its
  ``/automation/actions/callbacks/2026-03/…`` twin [doc], scope ``automation`` [seen], body
  ``{"outputFields": {...}}`` → 204 [doc]; the batch form takes ``{"inputs": [{callbackId,
  outputFields}]}`` [doc]. Completing an unknown callback → 404, one no longer blocked → 400, one
  whose BLOCK answer is still on its way → accepted [assumed].
- **Stage changes** (``move_deal_stage``): the deal's ``dealstage`` changes as in the CRM UI and,
  when the app subscribes (``object.propertyChange`` on ``dealstage``, as its webhooks component
  declares), a batch of events is POSTed signed (v1 + v3) to the webhooks' ``targetUrl``. A
  delivery without a 2xx is retried [seen: up to 10 times over ~24 h] with ``attemptNumber``
  raised and the same ``eventId`` — here on ``webhook_retry_delays_s``.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response, read_json
from sandbox.hubspot.model import hs_time
from sandbox.hubspot.pipelines import Pipelines
from sandbox.hubspot.records import Records
from sandbox.hubspot.signatures import post_webhook, sign_v2, v3_headers
from sandbox.hubspot.webhooks import Webhooks

ACTION_PATH = "/hubspot/workflow-actions/create-invoice"
WEBHOOKS_PATH = "/hubspot/webhooks"
ACTION_DEFINITION_ID = 10860211
DEFAULT_BLOCK = timedelta(days=7)
WORKFLOW_DEFAULTS: dict[str, Any] = {
    "action_url": None,  # default: connector_base_url + ACTION_PATH
    "webhook_url": None,  # default: connector_base_url + WEBHOOKS_PATH
    "webhooks_active": True,  # the app's webhooks component subscribes to dealstage changes
    # HubSpot-like spacing, shortened (tests set a few tenths of a second).
    "action_retry_delays_s": [1.0, 5.0, 30.0],
    "webhook_retry_delays_s": [5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 3600.0, 3600.0, 3600.0, 3600.0],
    "timeout_s": 20.0,
}
_DURATION = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def parse_duration(text: str | None) -> timedelta | None:
    """An ISO 8601 duration as HubSpot takes it (``P1WT1H``, ``P3D``, ``PT15M``), or ``None``."""
    match = _DURATION.match(str(text or "").strip().upper())
    if not match or not any(match.groups()):
        return None
    weeks, days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return timedelta(weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds)


class Workflows(Records, Pipelines, Webhooks):
    """Workflow action executions, callback completions, stage changes and webhook deliveries."""

    def _wf(self) -> dict[str, Any]:
        wf = self.state.setdefault("workflows", {})
        wf.setdefault("settings", copy.deepcopy(WORKFLOW_DEFAULTS))
        wf.setdefault("executions", {})
        wf.setdefault("deliveries", [])
        return wf

    def workflow_settings(self, **changes: Any) -> dict[str, Any]:
        """Read, or change, where HubSpot calls us and how it retries (unknown keys: ValueError)."""
        with self.lock:
            settings = self._wf()["settings"]
            for key, value in changes.items():
                if key not in WORKFLOW_DEFAULTS:
                    raise ValueError(f"unknown workflow setting {key}")
                settings[key] = value
            return copy.deepcopy(settings)

    def _url(self, key: str, path: str) -> str:
        return str(self._wf()["settings"].get(key) or f"{self.config.connector_base_url.rstrip('/')}{path}")

    # --- the workflow action -----------------------------------------------------------------
    def workflow_action_request(
        self,
        portal_id: int,
        deal_id: str,
        input_fields: dict[str, Any],
        *,
        workflow_id: int = 192814114,
        callback_id: str | None = None,
    ) -> dict[str, Any]:
        """A workflow reaching our action for a deal: the execution is recorded (``SENDING``) and the
        request HubSpot sends is returned (``url``, ``body``, signed ``headers``) without sending it."""
        with self.lock:
            portal = self._get_portal(portal_id)
            if not portal["installed"]:
                raise ValueError(f"the app is not installed on portal {portal_id}")
            if self._find(portal, "deals", str(deal_id)) is None:
                raise KeyError(f"deal {deal_id} not found")
            enrollment = self.ids.sequence("hubspot:enrollment", start=56777914962)
            cid = callback_id or f"ap-{portal_id}-{enrollment}-11-0"
            body = {
                "callbackId": cid,
                "origin": {
                    "portalId": int(portal_id),
                    "actionDefinitionId": ACTION_DEFINITION_ID,
                    "actionDefinitionVersion": 1,
                    "extensionDefinitionId": ACTION_DEFINITION_ID,
                    "extensionDefinitionVersionId": 1,
                },
                "context": {"source": "WORKFLOWS", "workflowId": int(workflow_id)},
                "object": {"objectId": int(deal_id), "objectType": "DEAL"},
                "inputFields": {k: str(v) for k, v in input_fields.items()},
            }
            self._wf()["executions"][cid] = {
                "callbackId": cid,
                "portalId": int(portal_id),
                "dealId": str(deal_id),
                "workflowId": int(workflow_id),
                "inputFields": body["inputFields"],
                "state": "SENDING",
                "outputFields": {},
                "attempts": [],
                "expiresAt": None,
                "completedAt": None,
                "startedAt": hs_time(self.clock.now()),
            }
            url = self._url("action_url", ACTION_PATH)
        text = json.dumps(body, separators=(",", ":"))
        return {"callbackId": cid, "url": url, "body": text, "headers": self.action_headers(url, text)}

    def action_headers(self, url: str, body: str) -> dict[str, str]:
        """What HubSpot adds to an action request: the v2 signature and the v3 one [doc]."""
        secret = self.config.hubspot_client_secret
        return {
            "Content-Type": "application/json",
            "User-Agent": "HubSpot Connect 2.0 (sandbox)",
            "X-HubSpot-Signature": sign_v2(secret, "POST", url, body),
            "X-HubSpot-Signature-Version": "v2",
            **v3_headers(secret, "POST", url, body),
        }

    def record_action_answer(self, callback_id: str, status: int, answer: Any, *, final: bool = True) -> str:
        """What HubSpot does with our answer to an action request; the execution's new state.

        ``final=False``: a retryable failure that will be tried again.
        """
        with self.lock:
            execution = self._wf()["executions"][callback_id]
            execution["attempts"].append({"status": status, "at": hs_time(self.clock.now())})
            if 200 <= status < 300:
                outputs = answer.get("outputFields") if isinstance(answer, dict) else None
                self._apply_answer(execution, outputs if isinstance(outputs, dict) else {})
            elif final:
                execution["state"] = "FAILED"
                execution["completedAt"] = hs_time(self.clock.now())
            else:
                execution["state"] = "RETRYING"
            return str(execution["state"])

    def run_workflow_action(
        self,
        portal_id: int,
        deal_id: str,
        input_fields: dict[str, Any],
        *,
        workflow_id: int = 192814114,
        callback_id: str | None = None,
    ) -> dict[str, Any]:
        """Send the action request to our ``actionUrl`` (retrying as HubSpot does); the execution."""
        request = self.workflow_action_request(
            portal_id, deal_id, input_fields, workflow_id=workflow_id, callback_id=callback_id
        )
        settings = self.workflow_settings()
        delays = [0.0, *[float(d) for d in settings["action_retry_delays_s"]]]
        for attempt, delay in enumerate(delays):
            time.sleep(delay)
            status, answer = 0, None
            try:
                resp = requests.post(
                    request["url"],
                    data=request["body"].encode(),
                    headers=self.action_headers(request["url"], request["body"]),
                    timeout=float(settings["timeout_s"]),
                    allow_redirects=False,
                )
                status = resp.status_code
                try:
                    answer = resp.json()
                except ValueError:
                    answer = None
            except requests.RequestException:
                status = 0
            retry = status == 0 or status == 429 or status >= 500
            state = self.record_action_answer(
                request["callbackId"], status, answer, final=not retry or attempt + 1 == len(delays)
            )
            if state != "RETRYING":
                break
        return self.workflow_execution(request["callbackId"])

    def _apply_answer(self, execution: dict[str, Any], outputs: dict[str, Any]) -> None:
        state = str(outputs.get("hs_execution_state") or "SUCCESS").upper()
        if state == "BLOCK" and execution["completedAt"]:
            return  # completed by the callback before our BLOCK answer was read
        execution["outputFields"] = {k: v for k, v in outputs.items() if not k.startswith("hs_")}
        if state == "BLOCK":
            wait = parse_duration(outputs.get("hs_expiration_duration")) or DEFAULT_BLOCK
            execution["state"] = "BLOCKED"
            execution["expiresAt"] = (self.clock.now() + wait).timestamp()
            return
        execution["state"] = state if state in ("SUCCESS", "FAIL_CONTINUE") else "FAILED"
        execution["completedAt"] = hs_time(self.clock.now())

    def _expire(self, execution: dict[str, Any]) -> None:
        if execution["state"] == "BLOCKED" and self.clock.now().timestamp() >= execution["expiresAt"]:
            execution["state"] = "EXPIRED"
            execution["completedAt"] = hs_time(self.clock.now())

    def workflow_execution(self, callback_id: str) -> dict[str, Any]:
        with self.lock:
            execution = self._wf()["executions"][callback_id]
            self._expire(execution)
            return copy.deepcopy(execution)

    def workflow_executions(
        self, portal_id: int | None = None, deal_id: str | None = None
    ) -> list[dict[str, Any]]:
        with self.lock:
            found = []
            for execution in self._wf()["executions"].values():
                if portal_id is not None and execution["portalId"] != int(portal_id):
                    continue
                if deal_id is not None and execution["dealId"] != str(deal_id):
                    continue
                self._expire(execution)
                found.append(copy.deepcopy(execution))
            return found

    # --- the callbacks API --------------------------------------------------------------------
    def _complete(self, portal_id: str, callback_id: str, outputs: Any) -> tuple[int, str]:
        execution = self._wf()["executions"].get(callback_id)
        if execution is None or str(execution["portalId"]) != portal_id:
            return 404, f"No blocked action execution with callbackId {callback_id}"
        self._expire(execution)
        # [assumed] HubSpot knows the callbackId from the moment it sends the request, so a worker
        # quicker than the BLOCK answer's trip back may complete it already.
        if execution["state"] not in ("BLOCKED", "SENDING", "RETRYING"):
            return 400, f"Callback {callback_id} is not blocked (state {execution['state']})"
        if not isinstance(outputs, dict) or not all(isinstance(k, str) for k in outputs):
            return 400, "outputFields must be an object of output field values"
        state = str(outputs.get("hs_execution_state") or "SUCCESS").upper()
        if state not in ("SUCCESS", "FAIL_CONTINUE"):
            return 400, f"hs_execution_state {state} is not SUCCESS or FAIL_CONTINUE"
        execution["outputFields"] = {k: v for k, v in outputs.items() if not k.startswith("hs_")}
        execution["state"] = state
        execution["completedAt"] = hs_time(self.clock.now())
        return 204, ""

    def callback_complete(self, request: Request, callback_id: str, **_: str) -> Response:
        self._require(request, ["automation"])
        body = self._json(request)
        with self.lock:
            status, message = self._complete(
                self._auth(request)["portal"],
                callback_id,
                body.get("outputFields") if isinstance(body, dict) else None,
            )
        if status == 204:
            return Response(status=204)
        return self._not_found(message) if status == 404 else self._validation(message)

    def callback_complete_batch(self, request: Request, **_: str) -> Response:
        self._require(request, ["automation"])
        body = self._json(request)
        inputs = (body or {}).get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not inputs or len(inputs) > 100:
            return self._validation("inputs must be a list of 1 to 100 callbacks")
        errors = []
        with self.lock:
            portal = self._auth(request)["portal"]
            for item in inputs:
                item = item if isinstance(item, dict) else {}
                status, message = self._complete(
                    portal, str(item.get("callbackId")), item.get("outputFields")
                )
                if status != 204:
                    errors.append(message)
        return self._validation("; ".join(errors)) if errors else Response(status=204)

    # --- stage changes and webhook deliveries ------------------------------------------------
    def move_deal_stage(self, portal_id: int, deal_id: str, stage_id: str) -> dict[str, Any] | None:
        """Drag the deal to ``stage_id`` (as in the CRM UI); the webhook event sent, if subscribed."""
        events = self.move_deals_stage(portal_id, [str(deal_id)], stage_id)
        return events[0] if events else None

    def move_deals_stage(self, portal_id: int, deal_ids: list[str], stage_id: str) -> list[dict[str, Any]]:
        """Several deals to one stage: one webhook batch of their events (HubSpot batches ≤ 100)."""
        with self.lock:
            portal = self._get_portal(portal_id)
            pipeline = self.stage_pipeline(portal, stage_id)
            if pipeline is None:
                raise ValueError(f"no pipeline of portal {portal_id} has the stage {stage_id}")
            changed = []
            for deal_id in deal_ids:
                rec = self._find(portal, "deals", str(deal_id))
                if rec is None:
                    raise KeyError(f"deal {deal_id} not found")
                if rec["properties"].get("dealstage") != stage_id:
                    self._update_record(portal, "deals", rec, {"dealstage": stage_id, "pipeline": pipeline})
                    changed.append(str(deal_id))
            if not (portal["installed"] and self._wf()["settings"]["webhooks_active"]) or not changed:
                return []
            events = [
                self.webhook_event(
                    int(portal_id),
                    "object.propertyChange",
                    deal_id,
                    objectTypeId="0-3",
                    propertyName="dealstage",
                    propertyValue=stage_id,
                    changeFlag="UPDATED",
                )
                for deal_id in changed
            ]
        for start in range(0, len(events), 100):
            self.deliver_webhooks(events[start : start + 100])
        return events

    def deliver_webhooks(self, events: list[dict[str, Any]]) -> int:
        """Queue a signed delivery of ``events`` (retried in the background); its delivery id."""
        with self.lock:
            deliveries = self._wf()["deliveries"]
            delivery: dict[str, Any] = {
                "id": len(deliveries) + 1,
                "token": uuid.uuid4().hex,  # a reset sandbox reuses ids; a thread must not mix them up
                "eventIds": [e["eventId"] for e in events],
                "state": "PENDING",
                "attempts": [],
            }
            deliveries.append(delivery)
            settings = dict(self._wf()["settings"])
            url = self._url("webhook_url", WEBHOOKS_PATH)
        thread = threading.Thread(
            target=self._deliver, args=(delivery["token"], url, copy.deepcopy(events), settings), daemon=True
        )
        thread.start()
        return int(delivery["id"])

    def _deliver(self, token: str, url: str, events: list[dict[str, Any]], settings: dict[str, Any]) -> None:
        delays = [0.0, *[float(d) for d in settings["webhook_retry_delays_s"]]]
        for attempt, delay in enumerate(delays):
            time.sleep(delay)
            for event in events:
                event["attemptNumber"] = attempt
            status, note = 0, ""
            try:
                status = post_webhook(
                    url, events, client_secret=self.config.hubspot_client_secret
                ).status_code
            except requests.RequestException as exc:
                note = type(exc).__name__
            with self.lock:
                matches = [d for d in self._wf()["deliveries"] if d["token"] == token]
                if not matches:  # the sandbox was reset meanwhile
                    return
                delivery = matches[0]
                delivery["attempts"].append(
                    {"status": status, "at": hs_time(self.clock.now()), "error": note}
                )
                if 200 <= status < 300:
                    delivery["state"] = "DELIVERED"
                    return
                delivery["state"] = "RETRYING" if attempt + 1 < len(delays) else "FAILED"

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._wf()["deliveries"])

    def wait_for_webhooks(self, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until no delivery is pending or retrying; the deliveries."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            deliveries = self.webhook_deliveries()
            if all(d["state"] in ("DELIVERED", "FAILED") for d in deliveries):
                return deliveries
            time.sleep(0.05)
        raise TimeoutError("webhook deliveries still pending")

    # --- control routes (/_sim/hubspot) ---------------------------------------------------------
    def ctl_workflow_settings(self, request: Request) -> Response:
        try:
            body = read_json(request) if request.method == "POST" else {}
            return json_response(self.workflow_settings(**(body if isinstance(body, dict) else {})))
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)

    def ctl_workflow_action(self, request: Request, portal_id: int, oid: str) -> Response:
        try:
            body = read_json(request)
            body = body if isinstance(body, dict) else {}
            raw_inputs = body.get("inputFields")
            inputs: dict[str, Any] = raw_inputs if isinstance(raw_inputs, dict) else {}
            return json_response(self.run_workflow_action(portal_id, oid, inputs), 201)
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)

    def ctl_deal_stage(self, request: Request, portal_id: int, oid: str) -> Response:
        try:
            body = read_json(request)
            stage = str((body if isinstance(body, dict) else {}).get("stage") or "")
            return json_response({"event": self.move_deal_stage(portal_id, oid, stage)})
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)

    def ctl_workflow_executions(self, request: Request) -> Response:
        return json_response({"results": self.workflow_executions()})

    def ctl_webhook_deliveries(self, request: Request) -> Response:
        return json_response({"results": self.webhook_deliveries()})
