"""CRM records: value coercion and validation against the portal's property definitions, create,
update, find, archive, and the JSON HubSpot answers for a record.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Response

from sandbox.core import Reply, parse_iso
from sandbox.hubspot.graph import AssociationGraph
from sandbox.hubspot.limits import EMBEDDED_ASSOC_CAP
from sandbox.hubspot.model import (
    ASSOC_BY_ID,
    DEFAULT_PROPS,
    OBJECT_TYPE_IDS,
    always_properties,
    hs_time,
    known_type,
    lastmod_property,
    money,
    number_text,
    resolve_type,
    to_decimal,
)


def _embedded_key(otype: str) -> str:
    return "line items" if otype == "line_items" else otype


class Records(AssociationGraph):
    """Record storage shared by the objects, batch, search and association endpoints."""

    def _coerce(self, pdef: dict[str, Any], raw: Any) -> tuple[str, dict[str, Any] | None]:
        """Normalise one written value to HubSpot's stored string ('' clears). Returns (value, error)."""
        name = pdef["name"]

        def err(code: str, message: str) -> tuple[str, dict[str, Any]]:
            return "", {"isValid": False, "message": message, "error": code, "name": name}

        if raw is None:
            return "", None
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, int | float):
            text = number_text(raw)
        elif isinstance(raw, str):
            text = raw
        else:
            return err("INVALID_VALUE", f"{raw!r} is not a valid value for property {name!r}")
        if text == "":
            return "", None
        kind = pdef["type"]
        if kind == "number":
            try:
                Decimal(text.strip())
            except InvalidOperation:
                return err("INVALID_DOUBLE", f"{text!r} was not a valid number.")
            return text.strip(), None
        if kind == "bool":
            if text.lower() not in ("true", "false"):
                return err("INVALID_BOOLEAN", f"{text!r} was not a valid boolean.")
            return text.lower(), None
        if kind == "date":
            if text.isdigit():
                dt = datetime.fromtimestamp(int(text) / 1000, UTC)
                if (dt.hour, dt.minute, dt.second, dt.microsecond) != (0, 0, 0, 0):
                    return err("INVALID_DATE", f"{text} is at {dt.isoformat()}, which is not midnight UTC!")
                return dt.date().isoformat(), None
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
                return err("INVALID_DATE", f"{text!r} was not a valid date (YYYY-MM-DD or epoch ms).")
            try:
                datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                return err("INVALID_DATE", f"{text!r} was not a valid date.")
            return text, None
        if kind == "datetime":
            try:
                dt = datetime.fromtimestamp(int(text) / 1000, UTC) if text.isdigit() else parse_iso(text)
            except (ValueError, OverflowError):
                return err("INVALID_DATETIME", f"{text!r} was not a valid datetime (ISO 8601 or epoch ms).")
            return hs_time(dt), None
        if kind == "enumeration" and not pdef.get("externalOptions") and pdef.get("options"):
            allowed = {o["value"] for o in pdef["options"]}
            values = text.split(";") if pdef["fieldType"] == "checkbox" else [text]
            for value in values:
                if value not in allowed:
                    return err(
                        "INVALID_OPTION",
                        f"{value} was not one of the allowed options: {', '.join(sorted(allowed))}",
                    )
        return text, None

    def _validate(
        self, portal: dict[str, Any], otype: str, props: Any, *, internal: bool = False
    ) -> tuple[dict[str, str], list[dict[str, Any]]]:
        if props is None:
            return {}, []
        if not isinstance(props, dict):
            return {}, [
                {
                    "isValid": False,
                    "message": "properties must be an object",
                    "error": "INVALID_INPUT",
                    "name": "",
                }
            ]
        defs = portal["properties"][otype]
        out: dict[str, str] = {}
        errors: list[dict[str, Any]] = []
        for name, raw in props.items():
            pdef = defs.get(name)
            if pdef is None or pdef.get("archived"):
                errors.append(
                    {
                        "isValid": False,
                        "message": f'Property "{name}" does not exist',
                        "error": "PROPERTY_DOESNT_EXIST",
                        "name": name,
                        "localizedErrorMessage": f'Property "{name}" does not exist',
                        "portalId": portal["id"],
                    }
                )
                continue
            if pdef["modificationMetadata"]["readOnlyValue"]:
                if internal:
                    continue  # the Python API recomputes calculated values
                errors.append(
                    {
                        "isValid": False,
                        "message": f'"{name}" is a read only property; its value cannot be set.',
                        "error": "READ_ONLY_VALUE",
                        "name": name,
                    }
                )
                continue
            value, error = self._coerce(pdef, raw)
            if error:
                errors.append(error)
            else:
                out[name] = value
        return out, errors

    def _valid_values(self, portal: dict[str, Any], otype: str, props: Any) -> dict[str, str]:
        """Written values as stored, or the request ends with HubSpot's validation error."""
        values, errors = self._validate(portal, otype, props)
        if errors:
            raise Reply(self._validation_from(errors))
        return values

    def _validation_from(self, errors: list[dict[str, Any]]) -> Response:
        return self._validation(
            "Property values were not valid: " + json.dumps(errors, ensure_ascii=False),
            errors=[
                {"message": e["message"], "code": e["error"], "context": {"propertyName": [e["name"]]}}
                for e in errors
            ],
        )

    def _compute_line_item(self, portal: dict[str, Any], props: dict[str, str]) -> None:
        qty = to_decimal(props.get("quantity"), Decimal(1))
        price = to_decimal(props.get("price"), Decimal(0))
        pct = to_decimal(props.get("hs_discount_percentage"), Decimal(0))
        unit_discount = to_decimal(props.get("discount"), Decimal(0))
        pre = qty * price
        discount = (pre * pct / Decimal(100)) + unit_discount * qty
        amount = pre - discount
        props["hs_pre_discount_amount"] = money(pre)
        props["hs_total_discount"] = money(discount)
        props["amount"] = money(amount)
        rate = portal["tax_rates"].get(props.get("hs_tax_rate_group_id", ""))
        if rate is not None:
            tax = Decimal(str(rate["percentageRate"])) * Decimal(money(amount)) / Decimal(100)
            props["hs_tax_amount"] = money(tax)
            props["hs_post_tax_amount"] = money(Decimal(money(amount)) + Decimal(money(tax)))
        else:
            props.pop("hs_tax_amount", None)
            props["hs_post_tax_amount"] = money(amount)
        cost = props.get("hs_cost_of_goods_sold")
        if cost:
            props["hs_margin"] = money(amount - to_decimal(cost, Decimal(0)) * qty)

    def _create_record(
        self, portal: dict[str, Any], otype: str, values: dict[str, str], object_id: str | None = None
    ) -> dict[str, Any]:
        oid = str(object_id) if object_id is not None else self._next_id(otype)
        if oid in portal["objects"][otype]:
            raise ValueError(f"{otype} {oid} already exists in portal {portal['id']}")
        ts = hs_time(self.clock.tick())
        props = {k: v for k, v in values.items() if v != ""}
        props.setdefault("createdate", ts)
        props["hs_object_id"] = oid
        props[lastmod_property(otype)] = ts
        if otype == "line_items":
            props.setdefault("hs_line_item_currency_code", portal.get("currency", "EUR"))
            self._compute_line_item(portal, props)
        if otype == "deals":
            props.setdefault("pipeline", "default")
            props.setdefault("dealstage", "appointmentscheduled")
        rec = {
            "id": oid,
            "properties": props,
            "createdAt": ts,
            "updatedAt": ts,
            "archived": False,
            "archivedAt": None,
        }
        portal["objects"][otype][oid] = rec
        return rec

    def _update_record(
        self, portal: dict[str, Any], otype: str, rec: dict[str, Any], values: dict[str, str]
    ) -> None:
        props = rec["properties"]
        for name, value in values.items():
            if value == "":
                props.pop(name, None)
            else:
                props[name] = value
        if otype == "line_items":
            self._compute_line_item(portal, props)
        ts = hs_time(self.clock.tick())
        rec["updatedAt"] = ts
        props[lastmod_property(otype)] = ts

    def _find(
        self,
        portal: dict[str, Any],
        otype: str,
        oid: str,
        id_property: str | None = None,
        *,
        archived: bool = False,
    ) -> dict[str, Any] | None:
        objects = portal["objects"][otype]
        if id_property and id_property != "hs_object_id":
            for rec in objects.values():
                if rec["archived"] == archived and rec["properties"].get(id_property) == oid:
                    return rec
            return None
        rec = objects.get(str(oid))
        if rec is None or rec["archived"] != archived:
            return None
        return rec

    def _out(
        self,
        portal: dict[str, Any],
        otype: str,
        rec: dict[str, Any],
        props: list[str] | None = None,
        assoc: list[str] | None = None,
        *,
        all_props: bool = False,
    ) -> dict[str, Any]:
        stored = rec["properties"]
        if all_props:
            names = list(stored)
        else:
            defs = portal["properties"][otype]
            wanted = DEFAULT_PROPS[otype] if props is None else props
            names = [n for n in wanted if n in defs]
        for name in always_properties(otype):
            if name not in names:
                names.append(name)
        out: dict[str, Any] = {
            "id": rec["id"],
            "properties": {n: (stored.get(n) or None) for n in names},
            "createdAt": rec["createdAt"],
            "updatedAt": rec["updatedAt"],
            "archived": rec["archived"],
        }
        if rec["archived"]:
            out["archivedAt"] = rec["archivedAt"]
        if assoc:
            embedded: dict[str, Any] = {}
            for raw in assoc:
                to_type = resolve_type(raw)
                if to_type is None:
                    continue  # unknown association types are ignored
                entries = [
                    {"id": to_id, "type": ASSOC_BY_ID[tid][4]}
                    for to_id, tids in self._assoc_targets(portal, otype, rec["id"], to_type).items()
                    for tid in tids
                ]
                if not entries:
                    continue
                block: dict[str, Any] = {"results": entries[:EMBEDDED_ASSOC_CAP]}
                if len(entries) > EMBEDDED_ASSOC_CAP:
                    block["paging"] = {"next": {"after": str(EMBEDDED_ASSOC_CAP), "link": "?after=100"}}
                embedded[_embedded_key(to_type)] = block
            if embedded:
                out["associations"] = embedded
        return out

    def _archive(self, portal: dict[str, Any], otype: str, oid: str) -> bool:
        rec = portal["objects"][otype].get(str(oid))
        if rec is None or rec["archived"]:
            return False
        ts = hs_time(self.clock.tick())
        rec["archived"] = True
        rec["archivedAt"] = ts
        rec["updatedAt"] = ts
        return True

    def create_object(
        self,
        portal_id: int,
        otype: str,
        properties: dict[str, Any] | None = None,
        *,
        object_id: str | None = None,
    ) -> dict[str, Any]:
        t = known_type(otype)
        with self.lock:
            portal = self._get_portal(portal_id)
            values, errors = self._validate(portal, t, dict(properties or {}), internal=True)
            if errors:
                raise ValueError("; ".join(e["message"] for e in errors))
            rec = self._create_record(portal, t, values, object_id)
            return self._out(portal, t, rec, all_props=True)

    def update_object(
        self, portal_id: int, otype: str, object_id: str, properties: dict[str, Any]
    ) -> dict[str, Any]:
        t = known_type(otype)
        with self.lock:
            portal = self._get_portal(portal_id)
            rec = self._find(portal, t, str(object_id))
            if rec is None:
                raise KeyError(f"{t} {object_id} not found")
            values, errors = self._validate(portal, t, properties, internal=True)
            if errors:
                raise ValueError("; ".join(e["message"] for e in errors))
            self._update_record(portal, t, rec, values)
            return self._out(portal, t, rec, all_props=True)

    def get_object(
        self, portal_id: int, otype: str, object_id: str, *, archived: bool = False
    ) -> dict[str, Any] | None:
        """The record with every stored property and all its associations (ids per type), or None."""
        t = known_type(otype)
        with self.lock:
            portal = self._get_portal(portal_id)
            rec = self._find(portal, t, str(object_id), archived=archived)
            if rec is None:
                return None
            out = self._out(portal, t, rec, all_props=True)
            out["associations"] = {
                other: list(self._assoc_targets(portal, t, rec["id"], other))
                for other in OBJECT_TYPE_IDS
                if self._assoc_targets(portal, t, rec["id"], other)
            }
            return out
