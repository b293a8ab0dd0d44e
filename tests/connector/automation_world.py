"""Helpers for the automation tests: HubSpot's workflow action and webhooks, played through the test client.

The simulator builds and signs the requests exactly as HubSpot sends them (``workflow_action_request``,
v2 + v3 signatures over our public URL); the Django test client delivers them; the simulator records
our answer (``record_action_answer``). Tasks run eagerly: ``on_commit`` callbacks are collected
during the delivery and run only after HubSpot has our answer, as a worker would run them.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from sandbox import demo
from sandbox.hubspot.signatures import v3_headers
from tests.invoice_world import InvoiceWorld


def _django_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != "content-type"}


def run_action(
    world: InvoiceWorld,
    client: Any,
    capture: Any,
    inputs: dict[str, Any],
    *,
    deal_id: str = demo.DEAL_COMPLETE_ID,
    callback_id: str | None = None,
    run_tasks: bool = True,
) -> tuple[str, Any]:
    """HubSpot runs our action on the deal: (callbackId, our HTTP answer). Then the worker steps run."""
    request = world.hubspot.workflow_action_request(demo.PORTAL_ID, deal_id, inputs, callback_id=callback_id)
    with capture(execute=False) as callbacks:
        response = client.post(
            urlsplit(request["url"]).path,
            data=request["body"],
            content_type="application/json",
            headers=_django_headers(request["headers"]),
        )
    world.hubspot.record_action_answer(request["callbackId"], response.status_code, response.json())
    if run_tasks:
        run_callbacks(capture, callbacks)
    return request["callbackId"], response


def run_callbacks(capture: Any, callbacks: list[Any]) -> None:
    with capture(execute=True):
        for callback in callbacks:
            callback()


def post_webhooks(
    client: Any, events: list[dict[str, Any]], *, secret: str | None = None, settings: Any = None
) -> Any:
    """A signed webhook batch, as HubSpot POSTs it to our targetUrl (v1 + v3)."""
    body = json.dumps(events, separators=(",", ":"))
    url = f"{settings.PUBLIC_BASE_URL}/hubspot/webhooks"
    headers = v3_headers(secret or settings.HUBSPOT_CLIENT_SECRET, "POST", url, body)
    return client.post("/hubspot/webhooks", data=body, content_type="application/json", headers=headers)


def stage_event(world: InvoiceWorld, deal_id: str, stage: str, **extra: Any) -> dict[str, Any]:
    """The event HubSpot sends when the deal enters ``stage`` (the simulator's shape)."""
    fields = {"objectTypeId": "0-3", "propertyName": "dealstage", "propertyValue": stage, **extra}
    return dict(world.hubspot.webhook_event(demo.PORTAL_ID, "object.propertyChange", deal_id, **fields))
