"""The properties API: property definitions and property groups per object type (hubspot.md §5.7)."""

from __future__ import annotations

import copy
import re
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import Reply, json_response
from sandbox.hubspot.base import HubSpotBase
from sandbox.hubspot.limits import BATCH_LIMIT
from sandbox.hubspot.model import DEFAULT_GROUPS, hs_time, known_type
from sandbox.hubspot.standard import FIELD_TYPES, FIELD_TYPES_BY_TYPE, PROPERTY_TYPES, property_definition


class Properties(HubSpotBase):
    """Properties and groups endpoints, and ``define_property`` for tests."""

    def _live_property(self, request: Request, t: str, pname: str) -> dict[str, Any]:
        pdef: dict[str, Any] | None = self._portal(request)["properties"][t].get(pname)
        if pdef is None or pdef["archived"]:
            raise Reply(self._not_found(f"Unable to find property {pname} for object type {t}"))
        return pdef

    def _live_group(self, request: Request, t: str, gname: str) -> dict[str, Any]:
        group: dict[str, Any] | None = self._portal(request)["groups"][t].get(gname)
        if group is None or group["archived"]:
            raise Reply(self._not_found(f"Unable to find property group {gname}"))
        return group

    def _valid_property(
        self, portal: dict[str, Any], otype: str, data: Any, *, existing: dict[str, Any] | None = None
    ) -> None:
        problem = self._check_property(portal, otype, data, existing=existing)
        if problem:
            raise Reply(self._validation(problem))

    def _conflict(self, message: str, name: str) -> Response:
        return self._error(
            409, message, "CONFLICT", subCategory="OBJECT_ALREADY_EXISTS", context={"name": [name]}
        )

    def _check_property(
        self, portal: dict[str, Any], otype: str, data: Any, *, existing: dict[str, Any] | None = None
    ) -> str | None:
        if not isinstance(data, dict):
            return "The property definition must be an object"
        if existing is None:
            missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not data.get(k)]
            if missing:
                return f"Missing required fields: {', '.join(missing)}"
            name = str(data["name"])
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                return f"Property name {name!r} must be lowercase letters, digits and underscores"
            if name.startswith("hs_"):
                return f"Property name {name!r} uses the reserved hs_ prefix"
        merged = {**(existing or {}), **data}
        if merged.get("type") not in PROPERTY_TYPES:
            return f"type must be one of {', '.join(PROPERTY_TYPES)} (got {merged.get('type')!r})"
        if merged.get("fieldType") not in FIELD_TYPES:
            return f"fieldType must be one of {', '.join(FIELD_TYPES)} (got {merged.get('fieldType')!r})"
        if merged["fieldType"] not in FIELD_TYPES_BY_TYPE[merged["type"]]:
            return f"fieldType {merged['fieldType']!r} is not valid for type {merged['type']!r}"
        options = merged.get("options") or []
        if not isinstance(options, list):
            return "options must be a list"
        for option in options:
            if not isinstance(option, dict) or not option.get("label") or option.get("value") in (None, ""):
                return "Each option needs a label and a value"
        if merged["type"] == "enumeration" and not options and not merged.get("externalOptions"):
            return "An enumeration property needs options"
        if "groupName" in data and data["groupName"] not in portal["groups"][otype]:
            return f"Property group {data['groupName']!r} does not exist"
        return None

    @staticmethod
    def _norm_options(options: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {
                "label": str(o["label"]),
                "value": str(o["value"]),
                "displayOrder": int(o.get("displayOrder", i)),
                "hidden": bool(o.get("hidden", False)),
                "description": str(o.get("description", "")),
            }
            for i, o in enumerate(options)
        ]

    def _new_property(self, portal: dict[str, Any], otype: str, data: dict[str, Any]) -> dict[str, Any]:
        ts = hs_time(self.clock.now())
        pdef = property_definition(
            str(data["name"]),
            str(data["label"]),
            str(data["type"]),
            str(data["fieldType"]),
            str(data["groupName"]),
            options=self._norm_options(data.get("options") or []),
            hubspot_defined=False,
            description=str(data.get("description", "")),
            created_at=ts,
        )
        pdef["displayOrder"] = int(data.get("displayOrder", -1))
        pdef["hidden"] = bool(data.get("hidden", False))
        pdef["hasUniqueValue"] = bool(data.get("hasUniqueValue", False))
        pdef["formField"] = bool(data.get("formField", True))
        if data.get("numberDisplayHint"):
            pdef["numberDisplayHint"] = str(data["numberDisplayHint"])
        portal["properties"][otype][pdef["name"]] = pdef
        return pdef

    def props_list(self, request: Request, otype: str, **_: str) -> Response:
        t = self._object_type(request, otype, schema=True)
        archived = request.args.get("archived") == "true"
        with self.lock:
            defs = self._portal(request)["properties"][t].values()
            return json_response({"results": [copy.deepcopy(d) for d in defs if d["archived"] == archived]})

    def props_get(self, request: Request, otype: str, pname: str, **_: str) -> Response:
        t = self._object_type(request, otype, schema=True)
        with self.lock:
            return json_response(copy.deepcopy(self._live_property(request, t, pname)))

    def props_create(self, request: Request, otype: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True, schema=True)
        body = self._json(request)
        with self.lock:
            portal = self._portal(request)
            self._valid_property(portal, t, body)
            existing = portal["properties"][t].get(body["name"])
            if existing is not None and not existing["archived"]:
                return self._conflict(f"A property named '{body['name']}' already exists.", body["name"])
            return json_response(copy.deepcopy(self._new_property(portal, t, body)), 201)

    def props_batch(self, request: Request, otype: str, op: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=op == "create", schema=True)
        started = hs_time(self.clock.now())
        _, inputs = self._batch_inputs(request, BATCH_LIMIT)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.lock:
            portal = self._portal(request)
            defs = portal["properties"][t]
            for item in inputs:
                if op == "read":
                    name = str(item.get("name", "")) if isinstance(item, dict) else ""
                    if name in defs and not defs[name]["archived"]:
                        results.append(copy.deepcopy(defs[name]))
                    else:
                        errors.append(
                            {
                                "status": "error",
                                "category": "OBJECT_NOT_FOUND",
                                "message": f"Unable to find property {name}",
                                "context": {"name": [name]},
                            }
                        )
                    continue
                self._valid_property(portal, t, item)
                name = item["name"]
                if name in defs and not defs[name]["archived"]:
                    errors.append(
                        {
                            "status": "error",
                            "category": "CONFLICT",
                            "subCategory": "OBJECT_ALREADY_EXISTS",
                            "message": f"A property named '{name}' already exists.",
                            "context": {"name": [name]},
                        }
                    )
                    continue
                results.append(copy.deepcopy(self._new_property(portal, t, item)))
        return self._batch_answer(results, errors, started, ok_status=201 if op == "create" else 200)

    def props_update(self, request: Request, otype: str, pname: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True, schema=True)
        body = self._json(request)
        with self.lock:
            portal = self._portal(request)
            pdef = self._live_property(request, t, pname)
            if pdef["hubspotDefined"]:
                return self._validation(f"{pname} is a HubSpot-defined property and cannot be modified")
            if not isinstance(body, dict) or ("name" in body and body["name"] != pname):
                return self._validation("The body must be an object and cannot rename the property")
            self._valid_property(portal, t, body, existing=pdef)
            for key in (
                "label",
                "description",
                "groupName",
                "type",
                "fieldType",
                "displayOrder",
                "hidden",
                "formField",
            ):
                if key in body:
                    pdef[key] = body[key]
            if "options" in body:
                pdef["options"] = self._norm_options(body["options"])
            pdef["updatedAt"] = hs_time(self.clock.now())
            return json_response(copy.deepcopy(pdef))

    def props_archive(self, request: Request, otype: str, pname: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True, schema=True)
        with self.lock:
            pdef = self._live_property(request, t, pname)
            if pdef["hubspotDefined"]:
                return self._validation(f"{pname} is a HubSpot-defined property and cannot be archived")
            pdef["archived"] = True
            pdef["archivedAt"] = hs_time(self.clock.now())
        return Response(status=204)

    def groups_list(self, request: Request, otype: str, **_: str) -> Response:
        t = self._object_type(request, otype, schema=True)
        with self.lock:
            groups = self._portal(request)["groups"][t].values()
            return json_response({"results": [copy.deepcopy(g) for g in groups if not g["archived"]]})

    def groups_get(self, request: Request, otype: str, gname: str, **_: str) -> Response:
        t = self._object_type(request, otype, schema=True)
        with self.lock:
            return json_response(copy.deepcopy(self._live_group(request, t, gname)))

    def groups_create(self, request: Request, otype: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True, schema=True)
        body = self._json(request)
        if not isinstance(body, dict) or not body.get("name") or not body.get("label"):
            return self._validation("A property group needs a name and a label")
        name = str(body["name"])
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            return self._validation(f"Group name {name!r} must be lowercase letters, digits and underscores")
        with self.lock:
            groups = self._portal(request)["groups"][t]
            if name in groups and not groups[name]["archived"]:
                return self._conflict(f"A property group named '{name}' already exists.", name)
            groups[name] = {
                "name": name,
                "label": str(body["label"]),
                "displayOrder": int(body.get("displayOrder", -1)),
                "archived": False,
            }
            return json_response(copy.deepcopy(groups[name]), 201)

    def groups_update(self, request: Request, otype: str, gname: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True, schema=True)
        body = self._json(request)
        if not isinstance(body, dict):
            return self._validation("The body must be an object")
        with self.lock:
            group = self._live_group(request, t, gname)
            if "label" in body:
                group["label"] = str(body["label"])
            if "displayOrder" in body:
                group["displayOrder"] = int(body["displayOrder"])
            return json_response(copy.deepcopy(group))

    def groups_archive(self, request: Request, otype: str, gname: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True, schema=True)
        with self.lock:
            self._live_group(request, t, gname)["archived"] = True
        return Response(status=204)

    def define_property(
        self,
        portal_id: int,
        otype: str,
        name: str,
        *,
        label: str | None = None,
        type_: str = "string",
        field_type: str = "text",
        group_name: str | None = None,
        options: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A custom property the portal already has (as if created by a HubSpot admin)."""
        t = known_type(otype)
        data = {
            "name": name,
            "label": label or name,
            "type": type_,
            "fieldType": field_type,
            "groupName": group_name or DEFAULT_GROUPS[t][0],
            "options": options or [],
        }
        with self.lock:
            portal = self._get_portal(portal_id)
            problem = self._check_property(portal, t, data)
            if problem:
                raise ValueError(problem)
            return copy.deepcopy(self._new_property(portal, t, data))
