"""The deal page's "Automatisation HubSpot" panel (``/hubspot-app``): a person plays what HubSpot does.

*Exécuter l'action* runs our workflow action on the deal (``Workflows.run_workflow_action``: signed
POST to our actionUrl, then HubSpot waits for the callback); *Changer de phase* moves the deal as the
CRM UI does (``move_deal_stage``: a signed webhook to our targetUrl, retried like HubSpot). The panel
lists the deal's executions (state, outputs) and the last webhook deliveries.
"""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response


class AutomationPanel:
    """The deal page's "Automatisation HubSpot" panel: run our workflow action, move the deal."""

    def deal_automation(self: Any, request: Request, portal_id: int, deal_id: str) -> Response:
        try:
            pipelines = self.api.deal_pipelines(portal_id)
        except KeyError:
            return json_response({"error": "not found"}, 404)
        executions = self.api.workflow_executions(portal_id, deal_id)
        deal = self.api.get_object(portal_id, "deals", deal_id) or {"properties": {}}
        return json_response(
            {
                "stage": deal["properties"].get("dealstage"),
                "pipelines": [
                    {
                        "id": p["id"],
                        "label": p["label"],
                        "stages": [{"id": s["id"], "label": s["label"]} for s in p["stages"]],
                    }
                    for p in pipelines
                ],
                "executions": sorted(executions, key=lambda e: e["startedAt"], reverse=True)[:10],
                "deliveries": self.api.webhook_deliveries()[-5:],
            }
        )

    def _json_body(self: Any, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data(as_text=True) or "{}")
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def deal_workflow_action(self: Any, request: Request, portal_id: int, deal_id: str) -> Response:
        body = self._json_body(request)
        inputs = {"kind": str(body.get("kind") or "")}
        if body.get("percentage") not in (None, ""):
            inputs["percentage"] = str(body["percentage"])
        try:
            return json_response(self.api.run_workflow_action(portal_id, deal_id, inputs))
        except KeyError:
            return json_response({"error": "Cette transaction n'existe pas."}, 404)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)

    def deal_stage(self: Any, request: Request, portal_id: int, deal_id: str) -> Response:
        stage = str(self._json_body(request).get("stage") or "")
        try:
            return json_response({"event": self.api.move_deal_stage(portal_id, deal_id, stage)})
        except KeyError:
            return json_response({"error": "Cette transaction n'existe pas."}, 404)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
