"""The association graph: which record is associated with which, by association type, in both directions."""

from __future__ import annotations

from typing import Any

from sandbox.core import Reply
from sandbox.hubspot.base import HubSpotBase
from sandbox.hubspot.model import ASSOC_BY_ID, ASSOC_COMPANION, DEFAULT_ASSOC, SINGULAR, resolve_type


class AssociationGraph(HubSpotBase):
    """Storing and reading associations (the endpoints are in ``associations``)."""

    def _assoc_targets(
        self, portal: dict[str, Any], otype: str, oid: str, to_type: str
    ) -> dict[str, list[int]]:
        """{to_id: [typeIds]} for live targets, labelled (primary) types first."""
        raw = portal["assoc"].get(f"{otype}:{oid}", {}).get(to_type, {})
        objects = portal["objects"][to_type]
        out: dict[str, list[int]] = {}
        for to_id, tids in raw.items():
            target = objects.get(to_id)
            if target is None or target["archived"]:
                continue
            out[to_id] = sorted(tids, key=lambda t: (ASSOC_BY_ID[t][3] is None, t))
        return out

    def _assoc_put_one(
        self, portal: dict[str, Any], ftype: str, fid: str, ttype: str, tid_: str, type_id: int
    ) -> None:
        bucket = portal["assoc"].setdefault(f"{ftype}:{fid}", {}).setdefault(ttype, {})
        types = bucket.setdefault(tid_, [])
        if type_id not in types:
            types.append(type_id)

    def _assoc_drop_one(
        self, portal: dict[str, Any], ftype: str, fid: str, ttype: str, tid_: str, type_id: int
    ) -> None:
        bucket = portal["assoc"].get(f"{ftype}:{fid}", {}).get(ttype, {})
        types = bucket.get(tid_)
        if types and type_id in types:
            types.remove(type_id)
            if not types:
                del bucket[tid_]

    def _assoc_add(
        self, portal: dict[str, Any], ftype: str, fid: str, ttype: str, tid_: str, type_id: int
    ) -> None:
        """Associate (both directions). Raises ValueError on an impossible association."""
        spec = ASSOC_BY_ID.get(type_id)
        if spec is None or (spec[0], spec[1]) != (ftype, ttype):
            raise ValueError(f"association type {type_id} does not go from {ftype} to {ttype}")
        for t, i in ((ftype, fid), (ttype, tid_)):
            rec = portal["objects"][t].get(str(i))
            if rec is None or rec["archived"]:
                raise LookupError(f"{SINGULAR[t]} {i} not found")
        # A line item has a single parent deal.
        if {ftype, ttype} == {"deals", "line_items"}:
            item, deal = (fid, tid_) if ftype == "line_items" else (tid_, fid)
            parents = self._assoc_targets(portal, "line_items", item, "deals")
            if any(p != deal for p in parents):
                raise ValueError(f"line item {item} is already associated with another deal")
        if spec[3] == "Primary":
            # One primary per record: move it.
            for other, tids in list(self._assoc_targets(portal, ftype, fid, ttype).items()):
                if type_id in tids and other != tid_:
                    self._assoc_drop_one(portal, ftype, fid, ttype, other, type_id)
                    self._assoc_drop_one(portal, ttype, other, ftype, fid, spec[2])
        for t_id in [type_id] + ([ASSOC_COMPANION[type_id]] if type_id in ASSOC_COMPANION else []):
            self._assoc_put_one(portal, ftype, fid, ttype, tid_, t_id)
            self._assoc_put_one(portal, ttype, tid_, ftype, fid, ASSOC_BY_ID[t_id][2])

    def _assoc_remove(self, portal: dict[str, Any], ftype: str, fid: str, ttype: str, tid_: str) -> None:
        for t_id in list(portal["assoc"].get(f"{ftype}:{fid}", {}).get(ttype, {}).get(tid_, [])):
            self._assoc_drop_one(portal, ftype, fid, ttype, tid_, t_id)
            self._assoc_drop_one(portal, ttype, tid_, ftype, fid, ASSOC_BY_ID[t_id][2])

    @staticmethod
    def _assoc_types_out(tids: list[int]) -> list[dict[str, Any]]:
        return [{"category": "HUBSPOT_DEFINED", "typeId": t, "label": ASSOC_BY_ID[t][3]} for t in tids]

    def _create_associations(
        self, portal: dict[str, Any], otype: str, raw: Any
    ) -> list[tuple[str, str, int]]:
        """A create body's ``associations``, or the request ends with a 400."""
        links, message = self._parse_create_associations(portal, otype, raw)
        if message:
            raise Reply(self._validation(message))
        return links

    def _parse_create_associations(
        self, portal: dict[str, Any], otype: str, raw: Any
    ) -> tuple[list[tuple[str, str, int]], str | None]:
        """[(to_type, to_id, typeId)] from a create body's ``associations``, or an error message."""
        if raw is None:
            return [], None
        if not isinstance(raw, list):
            return [], "associations must be a list"
        out: list[tuple[str, str, int]] = []
        for item in raw:
            try:
                to_id = str(item["to"]["id"])
                types = item["types"]
            except (KeyError, TypeError):
                return [], "each association needs to.id and types"
            for t in types:
                try:
                    type_id = int(t["associationTypeId"])
                except (KeyError, TypeError, ValueError):
                    return [], "each association type needs associationTypeId"
                if t.get("associationCategory", "HUBSPOT_DEFINED") != "HUBSPOT_DEFINED":
                    return [], f"unknown association category {t.get('associationCategory')!r}"
                spec = ASSOC_BY_ID.get(type_id)
                if spec is None or spec[0] != otype:
                    return [], f"association type id {type_id} is not valid for {SINGULAR[otype]} objects"
                target = portal["objects"][spec[1]].get(to_id)
                if target is None or target["archived"]:
                    return [], f"{SINGULAR[spec[1]]} {to_id} does not exist"
                out.append((spec[1], to_id, type_id))
        return out, None

    def associate(
        self,
        portal_id: int,
        from_type: str,
        from_id: str,
        to_type: str,
        to_id: str,
        type_id: int | None = None,
    ) -> None:
        f, t = resolve_type(from_type), resolve_type(to_type)
        if f is None or t is None:
            raise ValueError("unknown object type")
        with self.lock:
            self._assoc_add(
                self._get_portal(portal_id), f, str(from_id), t, str(to_id), type_id or DEFAULT_ASSOC[(f, t)]
            )
