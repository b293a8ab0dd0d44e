"""Deal pipelines (``/crm/v3/pipelines/deals`` and ``/crm/pipelines/2026-03/deals``).

HubSpot [doc]: ``GET …/pipelines/{objectType}`` → ``{"results": [{id, label, displayOrder, archived,
stages: [{id, label, displayOrder, archived, metadata: {probability, isClosed}}]}]}``;
``GET …/pipelines/{objectType}/{pipelineId}`` → one pipeline (404 when unknown). A new portal has
the "Sales Pipeline" (``default``) with the standard stages. Stage ids are unique among a portal's
deal pipelines [assumed]; every stage is an option of the ``dealstage`` property, every pipeline an
option of ``pipeline`` (HubSpot lists them there too [seen]).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response
from sandbox.hubspot.base import HubSpotBase
from sandbox.hubspot.model import hs_time
from sandbox.hubspot.standard import DEAL_STAGES

_CLOSED = {"closedwon": ("1.0", "true"), "closedlost": ("0.0", "true")}


def _default_pipeline() -> dict[str, Any]:
    return {
        "id": "default",
        "label": "Sales Pipeline",
        "displayOrder": 0,
        "archived": False,
        "stages": [
            {
                "id": sid,
                "label": label,
                "displayOrder": i,
                "archived": False,
                "metadata": {
                    "probability": _CLOSED.get(sid, (f"{0.2 * (i + 1):.1f}", "false"))[0],
                    "isClosed": _CLOSED.get(sid, ("", "false"))[1],
                },
            }
            for i, (sid, label) in enumerate(DEAL_STAGES)
        ],
    }


class Pipelines(HubSpotBase):
    """Deal pipelines and their stages."""

    def _pipelines(self, portal: dict[str, Any]) -> list[dict[str, Any]]:
        return portal.setdefault("pipelines", [_default_pipeline()])  # portals made before they existed

    def _pipeline_out(self, pipeline: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(pipeline)
        out.setdefault("createdAt", "2020-01-01T00:00:00.000Z")
        out.setdefault("updatedAt", out["createdAt"])
        for stage in out["stages"]:
            stage.setdefault("createdAt", out["createdAt"])
            stage.setdefault("updatedAt", out["createdAt"])
        return out

    def pipelines_list(self, request: Request, otype: str, **_: str) -> Response:
        if otype not in ("deals", "0-3", "deal"):
            return self._validation(f"Pipelines are simulated for deals only, not {otype}")
        self._require(request, ["crm.objects.deals.read"])
        with self.lock:
            portal = self._portal(request)
            results = [self._pipeline_out(p) for p in self._pipelines(portal) if not p["archived"]]
        return json_response({"results": results})

    def pipelines_get(self, request: Request, otype: str, pipeline_id: str, **_: str) -> Response:
        if otype not in ("deals", "0-3", "deal"):
            return self._validation(f"Pipelines are simulated for deals only, not {otype}")
        self._require(request, ["crm.objects.deals.read"])
        with self.lock:
            portal = self._portal(request)
            for pipeline in self._pipelines(portal):
                if pipeline["id"] == pipeline_id and not pipeline["archived"]:
                    return json_response(self._pipeline_out(pipeline))
        return self._not_found(f"Unable to find pipeline {pipeline_id}")

    # --- Python API -------------------------------------------------------------------------
    def deal_pipelines(self, portal_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(self._pipelines(self._get_portal(portal_id)))

    def add_pipeline(
        self, portal_id: int, label: str, stages: Iterable[tuple[str, str]], *, pipeline_id: str | None = None
    ) -> dict[str, Any]:
        """A new deal pipeline with ``stages`` ((id, label) pairs; ids unique in the portal)."""
        with self.lock:
            portal = self._get_portal(portal_id)
            pipelines = self._pipelines(portal)
            known = {s["id"] for p in pipelines for s in p["stages"]}
            stage_list = list(stages)
            clash = [sid for sid, _ in stage_list if sid in known]
            if clash or not stage_list:
                raise ValueError(f"stage ids must be new and given: {clash or 'none'}")
            pid = pipeline_id or str(self.ids.sequence("hubspot:pipeline", start=700000001))
            pipeline = {
                "id": pid,
                "label": label,
                "displayOrder": len(pipelines),
                "archived": False,
                "createdAt": hs_time(self.clock.now()),
                "stages": [
                    {"id": sid, "label": slabel, "displayOrder": i, "archived": False, "metadata": {}}
                    for i, (sid, slabel) in enumerate(stage_list)
                ],
            }
            pipelines.append(pipeline)
            defs = portal["properties"]["deals"]
            for name, values in (("pipeline", [(pid, label)]), ("dealstage", stage_list)):
                options = defs[name]["options"]
                for value, option_label in values:
                    options.append(
                        {
                            "label": option_label,
                            "value": value,
                            "displayOrder": len(options),
                            "hidden": False,
                            "description": "",
                        }
                    )
            return copy.deepcopy(pipeline)

    def stage_pipeline(self, portal: dict[str, Any], stage_id: str) -> str | None:
        """The pipeline holding ``stage_id`` (``None`` when no pipeline has it)."""
        for pipeline in self._pipelines(portal):
            if any(s["id"] == stage_id for s in pipeline["stages"]):
                return str(pipeline["id"])
        return None
