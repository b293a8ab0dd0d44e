"""HubSpot calls our automation endpoints: the workflow action's ``actionUrl``, the webhooks' ``targetUrl``.

Thin: check the size, verify the v3 signature (over ``PUBLIC_BASE_URL`` + path + query, the raw
body and a timestamp under 5 minutes old, compared in constant time — ``hubspot_app.signature``),
parse, call one service, answer JSON. Non-atomic on purpose (``ATOMIC_REQUESTS`` is off): the
services commit each record themselves, so a later failure does not roll a recorded delivery back.

HubSpot facts (README "Automation"):

- [doc] The action request body: ``callbackId``, ``origin`` (``portalId``, ``actionDefinitionId``,
  ``actionDefinitionVersion``, …), ``context`` (``source: WORKFLOWS``, ``workflowId``),
  ``object`` (``objectId``, ``objectType``: ``DEAL``), ``inputFields`` (``kind``, ``percentage``).
- [doc] The custom action guide names the v2 signature for action requests; requests to OAuth
  apps also carry ``X-HubSpot-Signature-v3`` and ``X-HubSpot-Request-Timestamp`` [doc: changelog
  "Introducing version 3 of webhook signatures"], which is the one we accept (it is timestamped).
- [doc] The answer is ``{"outputFields": {...}}``; ``hs_execution_state: BLOCK`` (with
  ``hs_expiration_duration``, ISO 8601) keeps the workflow waiting for the callback completion.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connector.automation.runs import automation_action_accept
from connector.automation.stage_rule import webhook_batch_receive
from hubspot_app.signature import SignatureError, verify_v3

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
MAX_CALLBACK_ID = 200


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JsonResponse:
        return JsonResponse({"error": {"code": self.code, "message": self.message}}, status=self.status)


def _verified_json(request: HttpRequest) -> Any:
    """The body as JSON, once its size and HubSpot's v3 signature are checked (else ``_Refused``)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise _Refused(413, "payload_too_large", "The body is over 1 MB.")
    signature = request.headers.get("X-HubSpot-Signature-v3")
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp")
    if not signature or not timestamp:
        raise _Refused(
            400, "missing_signature", "X-HubSpot-Signature-v3 and X-HubSpot-Request-Timestamp are required."
        )
    body = request.body
    try:
        verify_v3(
            secret=settings.HUBSPOT_CLIENT_SECRET,
            method=request.method or "POST",
            uri=settings.PUBLIC_BASE_URL + request.get_full_path(),
            body=body,
            timestamp=timestamp,
            signature=signature,
        )
    except SignatureError as exc:
        logger.warning("%s: signature refused: %s", request.path, exc)
        raise _Refused(401, "invalid_signature", "The HubSpot signature is not valid.") from exc
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refused(400, "bad_json", "The body is not JSON.") from exc


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


@csrf_exempt
@require_POST
def workflow_action(request: HttpRequest) -> JsonResponse:
    """The "Créer une facture Qonto" action: BLOCK, or the outcome when there is nothing to wait for."""
    try:
        data = _verified_json(request)
        if not isinstance(data, dict):
            raise _Refused(400, "bad_request", "The body must be a JSON object.")
        callback_id = str(data.get("callbackId") or "")
        origin = _object(data, "origin")
        portal = str(origin.get("portalId") or "")
        if (
            not callback_id
            or len(callback_id) > MAX_CALLBACK_ID
            or not portal.isascii()
            or not portal.isdecimal()
        ):
            raise _Refused(400, "bad_request", "callbackId and origin.portalId are required.")
    except _Refused as refused:
        return refused.response()
    obj = _object(data, "object")
    context = _object(data, "context")
    outputs = automation_action_accept(
        portal_id=int(portal),
        callback_id=callback_id,
        object_type=str(obj.get("objectType") or ""),
        object_id=str(obj.get("objectId") or ""),
        input_fields=data.get("inputFields"),
        workflow_id=str(context.get("workflowId") or ""),
    )
    return JsonResponse({"outputFields": outputs})


@csrf_exempt
@require_POST
def webhooks(request: HttpRequest) -> JsonResponse:
    """A batch of webhook events (a JSON array): recorded, deduplicated, matched to the stage rules."""
    try:
        events = _verified_json(request)
        if not isinstance(events, list):
            raise _Refused(400, "bad_request", "The body must be a JSON array of events.")
    except _Refused as refused:
        return refused.response()
    summary = webhook_batch_receive(events=events)
    return JsonResponse(
        {
            "received": summary.received,
            "duplicates": summary.duplicates,
            "invalid": summary.invalid,
            "runs": len(summary.runs),
        }
    )
