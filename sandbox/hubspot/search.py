"""CRM search (``POST .../{type}/search``): filter groups, operators, sorts, query, paging and the
10,000-result cap (hubspot.md §5.6).
"""

from __future__ import annotations

import fnmatch
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response, parse_iso
from sandbox.hubspot.limits import SEARCH_MAX_LIMIT, SEARCH_MAX_RESULTS
from sandbox.hubspot.model import resolve_type
from sandbox.hubspot.records import Records


class Search(Records):
    """The search endpoint."""

    _OPERATORS = frozenset(
        {
            "EQ",
            "NEQ",
            "LT",
            "LTE",
            "GT",
            "GTE",
            "BETWEEN",
            "IN",
            "NOT_IN",
            "HAS_PROPERTY",
            "NOT_HAS_PROPERTY",
            "CONTAINS_TOKEN",
            "NOT_CONTAINS_TOKEN",
        }
    )

    def obj_search(self, request: Request, otype: str, **_: str) -> Response:
        t = self._object_type(request, otype)
        body = self._json(request) or {}
        if not isinstance(body, dict):
            return self._validation("The search body must be an object")
        limit = body.get("limit", 10)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0 or limit > SEARCH_MAX_LIMIT:
            return self._validation(f"limit must be between 0 and {SEARCH_MAX_LIMIT}")
        try:
            offset = int(body.get("after") or 0)
        except (TypeError, ValueError):
            return self._validation("after must be a paging cursor returned by a previous search")
        if offset + limit > SEARCH_MAX_RESULTS:
            return self._validation(f"Search results are limited to {SEARCH_MAX_RESULTS} records per query")
        groups = body.get("filterGroups") or []
        problem = self._check_filter_groups(groups)
        if problem:
            return self._validation(problem)
        sorts = body.get("sorts") or []
        if not isinstance(sorts, list):
            return self._validation("sorts must be a list")
        props = body.get("properties")
        if props is not None and not isinstance(props, list):
            return self._validation("properties must be a list")
        query = str(body.get("query") or "").strip().casefold()
        with self.lock:
            portal = self._portal(request)
            defs = portal["properties"][t]
            matches = [
                rec
                for rec in portal["objects"][t].values()
                if not rec["archived"]
                and (not groups or any(self._match_group(portal, t, rec, g) for g in groups))
                and (not query or any(query in str(v).casefold() for v in rec["properties"].values()))
            ]
            matches.sort(key=lambda r: int(r["id"]))
            for sort in reversed(sorts):
                if isinstance(sort, str):
                    name, descending = sort.lstrip("-"), sort.startswith("-")
                else:
                    name = str(sort.get("propertyName", ""))
                    descending = str(sort.get("direction", "ASCENDING")).upper() == "DESCENDING"
                pdef = defs.get(name)
                present = [r for r in matches if r["properties"].get(name) not in (None, "")]
                absent = [r for r in matches if r["properties"].get(name) in (None, "")]
                present.sort(key=_record_sort_key(pdef, name), reverse=descending)
                matches = present + absent
            page = matches[offset : offset + limit]
            out_props = [str(p) for p in props] if props else None
            result: dict[str, Any] = {
                "total": len(matches),
                "results": [self._out(portal, t, r, out_props) for r in page],
            }
        if offset + limit < min(len(matches), SEARCH_MAX_RESULTS):
            result["paging"] = {"next": {"after": str(offset + limit)}}
        return json_response(result)

    def _check_filter_groups(self, groups: Any) -> str | None:
        if not isinstance(groups, list):
            return "filterGroups must be a list"
        if len(groups) > 5:
            return "A search may have at most 5 filterGroups"
        total = 0
        for group in groups:
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list):
                return "Each filter group needs a filters list"
            if len(filters) > 10:
                return "A filter group may have at most 10 filters"
            total += len(filters)
            for f in filters:
                if not isinstance(f, dict) or not f.get("propertyName"):
                    return "Each filter needs a propertyName"
                op = f.get("operator", "EQ")
                if op not in self._OPERATORS:
                    return f"Unknown operator {op!r}"
                if op in ("IN", "NOT_IN") and not isinstance(f.get("values"), list):
                    return f"{op} needs a values list"
                if op == "BETWEEN" and ("value" not in f or "highValue" not in f):
                    return "BETWEEN needs value and highValue"
                if op in ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN") and (
                    "value" not in f
                ):
                    return f"{op} needs a value"
        if total > 25:
            return "A search may have at most 25 filters in total"
        return None

    def _match_group(
        self, portal: dict[str, Any], otype: str, rec: dict[str, Any], group: dict[str, Any]
    ) -> bool:
        return all(self._match_filter(portal, otype, rec, f) for f in group["filters"])

    def _match_filter(
        self, portal: dict[str, Any], otype: str, rec: dict[str, Any], f: dict[str, Any]
    ) -> bool:
        name = str(f["propertyName"])
        op = f.get("operator", "EQ")
        if name.startswith("associations."):
            to_type = resolve_type(name.split(".", 1)[1])
            ids = set(self._assoc_targets(portal, otype, rec["id"], to_type)) if to_type else set()
            wanted = {str(v) for v in (f.get("values") or [f.get("value")])}
            hit = bool(ids & wanted)
            return not hit if op in ("NEQ", "NOT_IN") else hit
        pdef = portal["properties"][otype].get(name)
        stored = rec["properties"].get(name) or None
        if op == "HAS_PROPERTY":
            return stored is not None
        if op == "NOT_HAS_PROPERTY":
            return stored is None
        if op in ("IN", "NOT_IN"):
            hit = stored is not None and any(_equal(pdef, stored, v) for v in f["values"])
            return hit if op == "IN" else not hit
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            pattern = str(f.get("value", "")).casefold()
            text = (stored or "").casefold()
            tokens = [tok for tok in re.split(r"[^\w@.\-]+", text) if tok]
            hit = stored is not None and (
                fnmatch.fnmatchcase(text, pattern) or any(fnmatch.fnmatchcase(tok, pattern) for tok in tokens)
            )
            return hit if op == "CONTAINS_TOKEN" else not hit
        if op == "EQ":
            return stored is not None and _equal(pdef, stored, f["value"])
        if op == "NEQ":
            return not (stored is not None and _equal(pdef, stored, f["value"]))
        if stored is None:
            return False
        a = _sort_key(pdef, stored)
        b = _sort_key(pdef, f["value"])
        if a[0] != b[0]:
            return False
        if op == "BETWEEN":
            c = _sort_key(pdef, f["highValue"])
            return c[0] == a[0] and b[1] <= a[1] <= c[1]
        return {"LT": a[1] < b[1], "LTE": a[1] <= b[1], "GT": a[1] > b[1], "GTE": a[1] >= b[1]}[op]


def _sort_key(pdef: dict[str, Any] | None, value: Any) -> tuple[int, Any]:
    """(kind, comparable): numbers and dates compare as numbers, the rest case-insensitively."""
    text = str(value).strip()
    kind = pdef["type"] if pdef else "string"
    if kind == "number":
        try:
            return 0, Decimal(text)
        except InvalidOperation:
            return 1, text.casefold()
    if kind in ("date", "datetime"):
        try:
            if text.lstrip("-").isdigit():
                return 0, Decimal(text)
            return 0, Decimal(int(parse_iso(text).timestamp() * 1000))
        except (ValueError, OverflowError):
            return 1, text.casefold()
    return 1, text.casefold()


def _record_sort_key(pdef: dict[str, Any] | None, name: str) -> Any:
    def key(rec: dict[str, Any]) -> tuple[int, Any]:
        return _sort_key(pdef, rec["properties"][name])

    return key


def _equal(pdef: dict[str, Any] | None, stored: str, value: Any) -> bool:
    if pdef and pdef["type"] == "enumeration" and pdef["fieldType"] == "checkbox":
        return str(value) in stored.split(";")
    return _sort_key(pdef, stored) == _sort_key(pdef, value)
