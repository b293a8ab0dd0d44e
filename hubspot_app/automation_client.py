"""HubSpot calls of the automation: complete a blocked workflow action, list the deal pipelines.

Like ``hubspot_app.crm`` (a sibling it does not import), every function takes a client with
``request(method, path, ...)`` (``hubspot_app.client.HubSpotClient``: token, rate limiter and error
mapping in one place).

HubSpot facts (see README "Automation"):

- [doc] A custom action that answers ``hs_execution_state: BLOCK`` is resumed by
  ``POST /automation/actions/callbacks/2026-03/{callbackId}/complete`` (legacy
  ``/automation/v4/actions/callbacks/{callbackId}/complete``) with ``{"outputFields": {...}}``;
  HubSpot answers 204 without a body. ``hs_execution_state`` in the output fields says how the
  workflow goes on: ``SUCCESS``, or ``FAIL_CONTINUE`` (the workflow continues; it can branch on
  the outputs).
- [seen] the completion needs the ``automation`` scope.
- [assumed] completing a callback that is no longer blocked (already completed, or expired) is
  refused with a 4xx: we record it and stop, since the workflow has moved on either way.
- [doc] ``GET /crm/pipelines/2026-03/deals`` lists the deal pipelines, each with its ``stages``
  (``id``, ``label``, ``displayOrder``); it needs the deals read scope [assumed].
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol
from urllib.parse import quote


class Requester(Protocol):
    """``hubspot_app.client.HubSpotClient``'s one method (as ``hubspot_app.crm`` uses it)."""

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any: ...


CALLBACKS_PATH = "/automation/actions/callbacks/2026-03"
PIPELINES_PATH = "/crm/pipelines/2026-03"


def complete_action_callback(client: Requester, callback_id: str, output_fields: dict[str, str]) -> None:
    """Resume the blocked workflow action ``callback_id`` with ``output_fields``."""
    client.request(
        "POST",
        f"{CALLBACKS_PATH}/{quote(callback_id, safe='')}/complete",
        json={"outputFields": output_fields},
    )


@dataclasses.dataclass(frozen=True)
class Stage:
    id: str
    label: str


@dataclasses.dataclass(frozen=True)
class Pipeline:
    id: str
    label: str
    stages: tuple[Stage, ...]


def list_deal_pipelines(client: Requester) -> list[Pipeline]:
    """The portal's deal pipelines and their stages, in HubSpot's display order."""
    body: Any = client.request("GET", f"{PIPELINES_PATH}/deals") or {}
    pipelines = []
    for raw in sorted(
        body.get("results") or [], key=lambda p: (p.get("displayOrder", 0), str(p.get("label")))
    ):
        if raw.get("archived"):
            continue
        stages = tuple(
            Stage(str(s.get("id")), str(s.get("label") or s.get("id")))
            for s in sorted(raw.get("stages") or [], key=lambda s: s.get("displayOrder", 0))
            if not s.get("archived")
        )
        pipelines.append(Pipeline(str(raw.get("id")), str(raw.get("label") or raw.get("id")), stages))
    return pipelines
