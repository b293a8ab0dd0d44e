"""CRM objects endpoints: read, list, create, update and archive one record."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response
from sandbox.hubspot.model import paging_args, resolve_type
from sandbox.hubspot.records import Records


class Objects(Records):
    """``/crm/v3/objects/{type}[/{id}]`` and its ``2026-03`` twin."""

    def obj_get(self, request: Request, otype: str, oid: str, **_: str) -> Response:
        t = resolve_type(otype)
        if t is None:
            return self._bad_type(otype)
        stop = self._need(request, self._read_scopes(t))
        if stop:
            return stop
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
        t = resolve_type(otype)
        if t is None:
            return self._bad_type(otype)
        stop = self._need(request, self._read_scopes(t))
        if stop:
            return stop
        limit, offset, bad = paging_args(request.args, default=10, maximum=100)
        if bad:
            return self._validation(bad)
        archived = request.args.get("archived") == "true"
        with self.lock:
            portal = self._portal(request)
            recs = sorted(
                (r for r in portal["objects"][t].values() if r["archived"] == archived),
                key=lambda r: int(r["id"]),
            )
            props = self._list_arg(request, "properties")
            assoc = self._list_arg(request, "associations")
            body: dict[str, Any] = {
                "results": [self._out(portal, t, r, props, assoc) for r in recs[offset : offset + limit]]
            }
        if offset + limit < len(recs):
            body["paging"] = {"next": {"after": str(offset + limit), "link": f"?after={offset + limit}"}}
        return json_response(body)

    def obj_create(self, request: Request, otype: str, **_: str) -> Response:
        t = resolve_type(otype)
        if t is None:
            return self._bad_type(otype)
        stop = self._need(request, self._write_scopes(t))
        if stop:
            return stop
        body, bad = self._body(request)
        if bad:
            return bad
        if not isinstance(body, dict):
            return self._validation("The request body must be an object with properties")
        with self.lock:
            portal = self._portal(request)
            rec, error = self._create_from_input(portal, t, body)
            if error is not None:
                return error
            assert rec is not None
            return json_response(self._out(portal, t, rec, all_props=True), 201)

    def _create_from_input(
        self, portal: dict[str, Any], otype: str, item: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, Response | None]:
        values, errors = self._validate(portal, otype, item.get("properties") or {})
        if errors:
            return None, self._validation_from(errors)
        if otype == "notes" and not values.get("hs_timestamp"):
            return None, self._validation_from(
                [
                    {
                        "isValid": False,
                        "message": "hs_timestamp is required",
                        "error": "REQUIRED_PROPERTY",
                        "name": "hs_timestamp",
                    }
                ]
            )
        links, message = self._parse_create_associations(portal, otype, item.get("associations"))
        if message:
            return None, self._validation(message)
        rec = self._create_record(portal, otype, values)
        try:
            for to_type, to_id, type_id in links:
                self._assoc_add(portal, otype, rec["id"], to_type, to_id, type_id)
        except (ValueError, LookupError) as exc:
            del portal["objects"][otype][rec["id"]]
            return None, self._validation(str(exc))
        return rec, None

    def obj_update(self, request: Request, otype: str, oid: str, **_: str) -> Response:
        t = resolve_type(otype)
        if t is None:
            return self._bad_type(otype)
        stop = self._need(request, self._write_scopes(t))
        if stop:
            return stop
        body, bad = self._body(request)
        if bad:
            return bad
        if not isinstance(body, dict):
            return self._validation("The request body must be an object with properties")
        with self.lock:
            portal = self._portal(request)
            rec = self._find(portal, t, oid, request.args.get("idProperty"))
            if rec is None:
                return self._not_found()
            values, errors = self._validate(portal, t, body.get("properties") or {})
            if errors:
                return self._validation_from(errors)
            self._update_record(portal, t, rec, values)
            return json_response(self._out(portal, t, rec, all_props=True))

    def obj_archive(self, request: Request, otype: str, oid: str, **_: str) -> Response:
        t = resolve_type(otype)
        if t is None:
            return self._bad_type(otype)
        stop = self._need(request, self._write_scopes(t))
        if stop:
            return stop
        with self.lock:
            self._archive(self._portal(request), t, oid)
        return Response(status=204)
