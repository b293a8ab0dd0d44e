"""CRM objects endpoints: read, list, create, update and archive one record."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import Reply, json_response
from sandbox.hubspot.model import paged
from sandbox.hubspot.records import Records

_NOT_AN_OBJECT = "The request body must be an object with properties"


class Objects(Records):
    """``/crm/v3/objects/{type}[/{id}]`` and its ``2026-03`` twin."""

    def obj_get(self, request: Request, otype: str, oid: str, **_: str) -> Response:
        t = self._object_type(request, otype)
        with self.lock:
            portal = self._portal(request)
            rec = self._find(
                portal,
                t,
                oid,
                request.args.get("idProperty"),
                archived=request.args.get("archived") == "true",
            )
            if rec is None:
                return self._not_found()
            return json_response(
                self._out(
                    portal,
                    t,
                    rec,
                    self._list_arg(request, "properties"),
                    self._list_arg(request, "associations"),
                )
            )

    def obj_list(self, request: Request, otype: str, **_: str) -> Response:
        t = self._object_type(request, otype)
        limit, offset = self._paging(request, default=10, maximum=100)
        archived = request.args.get("archived") == "true"
        with self.lock:
            portal = self._portal(request)
            recs = sorted(
                (r for r in portal["objects"][t].values() if r["archived"] == archived),
                key=lambda r: int(r["id"]),
            )
            props = self._list_arg(request, "properties")
            assoc = self._list_arg(request, "associations")
            results = [self._out(portal, t, r, props, assoc) for r in recs[offset : offset + limit]]
        return json_response(paged(results, len(recs), offset, limit))

    def obj_create(self, request: Request, otype: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True)
        body = self._json_object(request, _NOT_AN_OBJECT)
        with self.lock:
            portal = self._portal(request)
            rec = self._create_from_input(portal, t, body)
            return json_response(self._out(portal, t, rec, all_props=True), 201)

    def _create_from_input(self, portal: dict[str, Any], otype: str, item: dict[str, Any]) -> dict[str, Any]:
        values = self._valid_values(portal, otype, item.get("properties") or {})
        if otype == "notes" and not values.get("hs_timestamp"):
            raise Reply(
                self._validation_from(
                    [
                        {
                            "isValid": False,
                            "message": "hs_timestamp is required",
                            "error": "REQUIRED_PROPERTY",
                            "name": "hs_timestamp",
                        }
                    ]
                )
            )
        links = self._create_associations(portal, otype, item.get("associations"))
        rec = self._create_record(portal, otype, values)
        try:
            for to_type, to_id, type_id in links:
                self._assoc_add(portal, otype, rec["id"], to_type, to_id, type_id)
        except (ValueError, LookupError) as exc:
            del portal["objects"][otype][rec["id"]]
            raise Reply(self._validation(str(exc))) from None
        return rec

    def obj_update(self, request: Request, otype: str, oid: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True)
        body = self._json_object(request, _NOT_AN_OBJECT)
        with self.lock:
            portal = self._portal(request)
            rec = self._find(portal, t, oid, request.args.get("idProperty"))
            if rec is None:
                return self._not_found()
            self._update_record(portal, t, rec, self._valid_values(portal, t, body.get("properties") or {}))
            return json_response(self._out(portal, t, rec, all_props=True))

    def obj_archive(self, request: Request, otype: str, oid: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=True)
        with self.lock:
            self._archive(self._portal(request), t, oid)
        return Response(status=204)
