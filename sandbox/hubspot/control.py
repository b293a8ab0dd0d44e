"""The control routes under ``/_sim/hubspot`` (no auth; never part of HubSpot)."""

from __future__ import annotations

from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response, read_json
from sandbox.hubspot.demo_data import DemoSeed
from sandbox.hubspot.install import Install
from sandbox.hubspot.notes import Notes
from sandbox.hubspot.oauth import ACCESS_TOKEN_TTL_S
from sandbox.hubspot.scopes import APP_SCOPES
from sandbox.hubspot.workflows import Workflows


class Control(DemoSeed, Install, Notes, Workflows):
    """The Python API over HTTP."""

    def _ctl_body(self, request: Request) -> dict[str, Any]:
        try:
            body = read_json(request)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def ctl_summary(self, request: Request) -> Response:
        with self.lock:
            portals = [
                {
                    "id": p["id"],
                    "name": p["name"],
                    "domain": p["domain"],
                    "installed": p["installed"],
                    "scopes": p["scopes"],
                    "counts": {t: len(objs) for t, objs in p["objects"].items()},
                }
                for p in self.state["portals"].values()
            ]
            settings = dict(self.state["settings"])
        return json_response({"portals": portals, "settings": settings, "app_scopes": APP_SCOPES})

    def ctl_settings(self, request: Request) -> Response:
        body = self._ctl_body(request)
        if "rotate_refresh_tokens" in body:
            self.set_rotate_refresh_tokens(bool(body["rotate_refresh_tokens"]))
        if "notes_require_contacts_scope" in body:
            self.set_notes_require_contacts_scope(bool(body["notes_require_contacts_scope"]))
        for key in ("hubspot_rate_limit", "hubspot_search_rate_limit"):
            if key in body:
                setattr(self.config, key, int(body[key]))
        with self.lock:
            settings = dict(self.state["settings"])
        settings["hubspot_rate_limit"] = self.config.hubspot_rate_limit
        settings["hubspot_search_rate_limit"] = self.config.hubspot_search_rate_limit
        return json_response(settings)

    def ctl_create_portal(self, request: Request) -> Response:
        body = self._ctl_body(request)
        try:
            users = [(int(u["id"]), str(u["email"])) for u in body["users"]] if body.get("users") else None
            portal = self.create_portal(
                int(body["portal_id"]), domain=body.get("domain"), name=body.get("name"), users=users
            )
        except (KeyError, ValueError, TypeError) as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(portal, 201)

    def ctl_install(self, request: Request, portal_id: int) -> Response:
        body = self._ctl_body(request)
        try:
            access, refresh = self.install(portal_id, body.get("scopes"), user_id=body.get("user_id"))
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)
        return json_response(
            {"access_token": access, "refresh_token": refresh, "expires_in": ACCESS_TOKEN_TTL_S}
        )

    def ctl_uninstall(self, request: Request, portal_id: int) -> Response:
        try:
            self.uninstall(portal_id)
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)
        return json_response({"uninstalled": portal_id})

    def ctl_expire_tokens(self, request: Request, portal_id: int) -> Response:
        return json_response({"expired": self.expire_tokens(portal_id)})

    def _ctl_create(self, portal_id: int, fn: Any, **kwargs: Any) -> Response:
        try:
            return json_response(fn(portal_id, **kwargs), 201)
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)
        except (ValueError, TypeError, LookupError) as exc:
            return json_response({"error": str(exc)}, 400)

    def ctl_create_company(self, request: Request, portal_id: int) -> Response:
        body = self._ctl_body(request)
        return self._ctl_create(
            portal_id, self.create_company, properties=body.get("properties"), object_id=body.get("id")
        )

    def ctl_create_deal(self, request: Request, portal_id: int) -> Response:
        body = self._ctl_body(request)
        return self._ctl_create(
            portal_id,
            self.create_deal,
            properties=body.get("properties"),
            company_id=body.get("company_id"),
            line_items=body.get("line_items") or [],
            object_id=body.get("id"),
        )

    def ctl_create_line_item(self, request: Request, portal_id: int) -> Response:
        body = self._ctl_body(request)
        return self._ctl_create(
            portal_id,
            self.create_line_item,
            deal_id=body.get("deal_id"),
            properties=body.get("properties"),
            object_id=body.get("id"),
        )

    def ctl_bulk_deals(self, request: Request, portal_id: int) -> Response:
        body = self._ctl_body(request)
        try:
            ids = self.bulk_create_deals(
                portal_id,
                int(body.get("n", 0)),
                company_id=body.get("company_id"),
                amount=str(body.get("amount", "1000")),
            )
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)
        return json_response(
            {"count": len(ids), "first_id": ids[0] if ids else None, "last_id": ids[-1] if ids else None}
        )

    def ctl_add_tax_rate(self, request: Request, portal_id: int) -> Response:
        body = self._ctl_body(request)
        return self._ctl_create(
            portal_id,
            self.add_tax_rate,
            name=str(body.get("name", "")),
            percentage=float(body.get("percentageRate", 0)),
            rate_id=body.get("id"),
            active=bool(body.get("active", True)),
        )

    def ctl_define_property(self, request: Request, portal_id: int, otype: str) -> Response:
        body = self._ctl_body(request)
        return self._ctl_create(
            portal_id,
            self.define_property,
            otype=otype,
            name=str(body.get("name", "")),
            label=body.get("label"),
            type_=str(body.get("type", "string")),
            field_type=str(body.get("fieldType", "text")),
            group_name=body.get("groupName"),
            options=body.get("options"),
        )

    def ctl_get_object(self, request: Request, portal_id: int, otype: str, oid: str) -> Response:
        try:
            rec = self.get_object(portal_id, otype, oid, archived=request.args.get("archived") == "true")
        except (KeyError, ValueError) as exc:
            return json_response({"error": str(exc)}, 404)
        return json_response(rec) if rec else json_response({"error": "not found"}, 404)

    def ctl_update_object(self, request: Request, portal_id: int, otype: str, oid: str) -> Response:
        body = self._ctl_body(request)
        try:
            return json_response(self.update_object(portal_id, otype, oid, body.get("properties") or {}))
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)

    def ctl_delete_deal(self, request: Request, portal_id: int, oid: str) -> Response:
        try:
            return json_response({"deleted": self.delete_deal(portal_id, oid)})
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)

    def ctl_notes(self, request: Request, portal_id: int, oid: str) -> Response:
        try:
            return json_response({"results": self.notes_for_deal(portal_id, oid)})
        except KeyError as exc:
            return json_response({"error": str(exc)}, 404)

    def ctl_calls(self, request: Request, portal_id: int) -> Response:
        entries = self.calls(
            portal_id, method=request.args.get("method"), path_contains=request.args.get("path")
        )
        return json_response(
            {
                "count": len(entries),
                "calls": [
                    {"method": e.method, "path": e.path, "status": e.status, "at": e.at} for e in entries
                ],
            }
        )

    def ctl_webhook(self, request: Request) -> Response:
        body = self._ctl_body(request)
        events = body.get("events") or []
        try:
            resp = self.send_webhook(events, body.get("url"))
        except requests.RequestException as exc:
            return json_response({"error": str(exc)}, 502)
        return json_response({"status": resp.status_code, "body": resp.text[:2000]})
