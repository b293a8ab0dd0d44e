"""Association endpoints: v4 (and ``2026-03``) list, create (default or labelled), delete, batch
read and labels, and the legacy v3 shape under ``/crm/v3/objects/.../associations``.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import Reply, json_response
from sandbox.hubspot.limits import ASSOC_BATCH_LIMIT
from sandbox.hubspot.model import (
    ASSOC_BY_ID,
    DEFAULT_ASSOC,
    OBJECT_TYPE_IDS,
    SINGULAR,
    hs_time,
    paged,
    resolve_type,
)
from sandbox.hubspot.records import Records


class Associations(Records):
    """The association endpoints."""

    def _assoc_types(
        self, request: Request, otype: str, totype: str, *, write: bool = False
    ) -> tuple[str, str]:
        """(from type, to type) of the path, once the token may read both (or write the first)."""
        f, t = resolve_type(otype), resolve_type(totype)
        if f is None:
            raise Reply(self._bad_type(otype))
        if t is None:
            raise Reply(self._bad_type(totype))
        self._require(request, self._write_scopes(f) if write else self._read_scopes(f))
        if not write:
            self._require(request, self._read_scopes(t))
        return f, t

    def _targets_of(self, request: Request, f: str, oid: str, t: str) -> dict[str, list[int]]:
        """The live targets of a record that must exist (else HubSpot's 404)."""
        portal = self._portal(request)
        if self._find(portal, f, oid) is None:
            raise Reply(self._not_found(f"{SINGULAR[f]} {oid} not found"))
        return self._assoc_targets(portal, f, oid, t)

    def assoc_v4_list(self, request: Request, otype: str, oid: str, totype: str, **_: str) -> Response:
        f, t = self._assoc_types(request, otype, totype)
        limit, offset = self._paging(request, default=500, maximum=500)
        with self.lock:
            targets = list(self._targets_of(request, f, oid, t).items())
        results = [
            {"toObjectId": int(to_id), "associationTypes": self._assoc_types_out(tids)}
            for to_id, tids in targets[offset : offset + limit]
        ]
        return json_response(paged(results, len(targets), offset, limit))

    def assoc_v3_list(self, request: Request, otype: str, oid: str, totype: str, **_: str) -> Response:
        f, t = self._assoc_types(request, otype, totype)
        with self.lock:
            results = [
                {"id": to_id, "type": ASSOC_BY_ID[tid][4]}
                for to_id, tids in self._targets_of(request, f, oid, t).items()
                for tid in tids
            ]
        return json_response({"results": results})

    def _assoc_write(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, type_ids: list[int]
    ) -> None:
        f, t = self._assoc_types(request, otype, totype, write=True)
        with self.lock:
            portal = self._portal(request)
            try:
                for type_id in type_ids:
                    self._assoc_add(portal, f, oid, t, toid, type_id)
            except LookupError as exc:
                raise Reply(self._not_found(str(exc))) from None
            except ValueError as exc:
                raise Reply(self._validation(str(exc))) from None

    def assoc_v4_put_default(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, **_: str
    ) -> Response:
        f, t = resolve_type(otype), resolve_type(totype)
        if f is None or t is None or (f, t) not in DEFAULT_ASSOC:
            return self._validation(f"No default association from {otype} to {totype}")
        started = hs_time(self.clock.now())
        type_id = DEFAULT_ASSOC[(f, t)]
        self._assoc_write(request, otype, oid, totype, toid, [type_id])
        spec = ASSOC_BY_ID[type_id]
        return json_response(
            {
                "status": "COMPLETE",
                "results": [
                    {
                        "from": {"id": oid},
                        "to": {"id": toid},
                        "associationSpec": {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": type_id,
                        },
                    },
                    {
                        "from": {"id": toid},
                        "to": {"id": oid},
                        "associationSpec": {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": spec[2],
                        },
                    },
                ],
                "startedAt": started,
                "completedAt": hs_time(self.clock.now()),
            }
        )

    def assoc_v4_put(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, **_: str
    ) -> Response:
        body = self._json(request)
        if not isinstance(body, list) or not body:
            return self._validation("The body must be a non-empty list of association specs")
        type_ids: list[int] = []
        for spec in body:
            if not isinstance(spec, dict) or spec.get("associationCategory") != "HUBSPOT_DEFINED":
                return self._validation("associationCategory must be HUBSPOT_DEFINED in the sandbox")
            try:
                type_ids.append(int(spec["associationTypeId"]))
            except (KeyError, TypeError, ValueError):
                return self._validation("associationTypeId is required")
        self._assoc_write(request, otype, oid, totype, toid, type_ids)
        f, t = resolve_type(otype) or "", resolve_type(totype) or ""
        with self.lock:
            tids = self._assoc_targets(self._portal(request), f, oid, t).get(toid, [])
        return json_response(
            {
                "fromObjectTypeId": OBJECT_TYPE_IDS[f],
                "fromObjectId": int(oid),
                "toObjectTypeId": OBJECT_TYPE_IDS[t],
                "toObjectId": int(toid),
                "labels": [ASSOC_BY_ID[x][3] for x in tids if ASSOC_BY_ID[x][3]],
            }
        )

    def assoc_v3_put(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, atype: str
    ) -> Response:
        f, t = resolve_type(otype), resolve_type(totype)
        type_id = next((tid for tid, spec in ASSOC_BY_ID.items() if spec[4] == atype), None)
        if type_id is None and atype.isdigit():
            type_id = int(atype)
        if f is None or t is None or type_id is None:
            return self._validation(f"Unknown association type {atype}")
        self._assoc_write(request, otype, oid, totype, toid, [type_id])
        with self.lock:
            portal = self._portal(request)
            rec = self._find(portal, f, oid)
            assert rec is not None
            return json_response(self._out(portal, f, rec, assoc=[t]))

    def _assoc_delete(self, request: Request, otype: str, oid: str, totype: str, toid: str) -> Response:
        f, t = self._assoc_types(request, otype, totype, write=True)
        with self.lock:
            self._assoc_remove(self._portal(request), f, oid, t, toid)
        return Response(status=204)

    def assoc_v4_delete(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, **_: str
    ) -> Response:
        return self._assoc_delete(request, otype, oid, totype, toid)

    def assoc_v3_delete(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, atype: str
    ) -> Response:
        return self._assoc_delete(request, otype, oid, totype, toid)

    def assoc_batch_read(self, request: Request, otype: str, totype: str, **_: str) -> Response:
        f, t = self._assoc_types(request, otype, totype)
        started = hs_time(self.clock.now())
        _, inputs = self._batch_inputs(request, ASSOC_BATCH_LIMIT)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        with self.lock:
            portal = self._portal(request)
            for item in inputs:
                oid = str(item.get("id", "")) if isinstance(item, dict) else ""
                targets = self._assoc_targets(portal, f, oid, t) if self._find(portal, f, oid) else {}
                if not targets:
                    errors.append(
                        {
                            "status": "error",
                            "category": "OBJECT_NOT_FOUND",
                            "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
                            "context": {"fromObjectId": [oid]},
                            "message": f"No {SINGULAR[t]} is associated with {SINGULAR[f]} {oid}.",
                        }
                    )
                    continue
                results.append(
                    {
                        "from": {"id": oid},
                        "to": [
                            {"toObjectId": int(to_id), "associationTypes": self._assoc_types_out(tids)}
                            for to_id, tids in targets.items()
                        ],
                    }
                )
        return self._batch_answer(results, errors, started)

    def assoc_labels(self, request: Request, otype: str, totype: str, **_: str) -> Response:
        f, t = self._assoc_types(request, otype, totype)
        return json_response(
            {
                "results": [
                    {"category": "HUBSPOT_DEFINED", "typeId": tid, "label": spec[3]}
                    for tid, spec in ASSOC_BY_ID.items()
                    if (spec[0], spec[1]) == (f, t)
                ]
            }
        )
