"""CRM objects batch endpoints: ``/batch/read|create|update|archive`` (100 inputs at most)."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.hubspot.limits import BATCH_LIMIT
from sandbox.hubspot.model import SINGULAR, hs_time, request_flag
from sandbox.hubspot.records import Records


class Batch(Records):
    """Batch reads and writes."""

    def obj_batch(self, request: Request, otype: str, op: str, **_: str) -> Response:
        t = self._object_type(request, otype, write=op != "read")
        started = hs_time(self.clock.now())
        body, inputs = self._batch_inputs(request, BATCH_LIMIT, count_in_context=True)
        if any(not isinstance(i, dict) for i in inputs):
            return self._validation("Each input must be an object")
        with self.lock:
            portal = self._portal(request)
            if op == "read":
                return self._batch_read(portal, t, body, inputs, started)
            if op == "create":
                return self._batch_create(portal, t, inputs, started)
            if op == "update":
                return self._batch_update(portal, t, body, inputs, started)
            for item in inputs:
                self._archive(portal, t, str(item.get("id", "")))
            return Response(status=204)

    def _not_found_error(self, otype: str, ids: list[str], verb: str) -> dict[str, Any]:
        return {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"Could not {verb} some {SINGULAR[otype].upper()} objects, they may be deleted or not "
            "exist. Check that ids are valid.",
            "context": {"ids": ids},
        }

    def _batch_read(
        self, portal: dict[str, Any], t: str, body: dict[str, Any], inputs: list[dict[str, Any]], started: str
    ) -> Response:
        props = body.get("properties")
        if props is not None and not isinstance(props, list):
            return self._validation("properties must be a list")
        props = [str(p) for p in props] if props else None
        id_property = body.get("idProperty")
        archived = request_flag(body.get("archived"))
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        seen: set[str] = set()
        for item in inputs:
            oid = str(item.get("id", ""))
            rec = self._find(portal, t, oid, id_property, archived=archived)
            if rec is None:
                missing.append(oid)
            elif rec["id"] not in seen:
                seen.add(rec["id"])
                results.append(self._out(portal, t, rec, props))
        errors = [self._not_found_error(t, missing, "get")] if missing else []
        return self._batch_answer(results, errors, started)

    def _batch_create(
        self, portal: dict[str, Any], t: str, inputs: list[dict[str, Any]], started: str
    ) -> Response:
        prepared: list[tuple[dict[str, str], list[tuple[str, str, int]]]] = []
        for item in inputs:
            values = self._valid_values(portal, t, item.get("properties") or {})
            prepared.append((values, self._create_associations(portal, t, item.get("associations"))))
        results = []
        for values, links in prepared:
            rec = self._create_record(portal, t, values)
            for to_type, to_id, type_id in links:
                try:
                    self._assoc_add(portal, t, rec["id"], to_type, to_id, type_id)
                except (ValueError, LookupError):
                    continue
            results.append(self._out(portal, t, rec, all_props=True))
        return self._batch_answer(results, [], started, ok_status=201)

    def _batch_update(
        self, portal: dict[str, Any], t: str, body: dict[str, Any], inputs: list[dict[str, Any]], started: str
    ) -> Response:
        ids = [str(item.get("id", "")) for item in inputs]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            return self._validation(f"Duplicate IDs found in batch input: {dupes}. IDs must be unique")
        prepared: list[tuple[str, dict[str, str]]] = []
        for oid, item in zip(ids, inputs, strict=True):
            prepared.append((oid, self._valid_values(portal, t, item.get("properties") or {})))
        id_property = body.get("idProperty")
        results: list[dict[str, Any]] = []
        missing: list[str] = []
        for oid, values in prepared:
            rec = self._find(portal, t, oid, id_property)
            if rec is None:
                missing.append(oid)
                continue
            self._update_record(portal, t, rec, values)
            results.append(self._out(portal, t, rec, all_props=True))
        errors = [self._not_found_error(t, missing, "update")] if missing else []
        return self._batch_answer(results, errors, started)
