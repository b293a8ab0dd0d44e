"""The CRM model: object types and their aliases, id ranges, default properties and groups, the
association types table, and the small value helpers every resource uses (HubSpot timestamps,
decimals, paging arguments, the bearer token).
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from werkzeug.wrappers import Request

OBJECT_TYPE_IDS: dict[str, str] = {
    "contacts": "0-1",
    "companies": "0-2",
    "deals": "0-3",
    "line_items": "0-8",
    "notes": "0-46",
}
SINGULAR: dict[str, str] = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "line_items": "line_item",
    "notes": "note",
}
_TYPE_ALIASES: dict[str, str] = {}
for _name, _tid in OBJECT_TYPE_IDS.items():
    _TYPE_ALIASES[_name] = _name
    _TYPE_ALIASES[_tid] = _name
    _TYPE_ALIASES[SINGULAR[_name]] = _name
_TYPE_ALIASES.update({"lineitems": "line_items", "lineitem": "line_items", "line items": "line_items"})
ID_BASES: dict[str, int] = {
    "contacts": 20100001001,
    "companies": 30100001001,
    "deals": 51200001001,
    "line_items": 40100001001,
    "notes": 60100000001,
    "tax_rates": 10000101,
}


def resolve_type(raw: str) -> str | None:
    return _TYPE_ALIASES.get(urllib.parse.unquote(raw).strip().lower())


def known_type(raw: str) -> str:
    """The object type ``raw`` names, for the Python API (an unknown one is a ``ValueError``)."""
    otype = resolve_type(raw)
    if otype is None:
        raise ValueError(f"unknown object type {raw}")
    return otype


def lastmod_property(otype: str) -> str:
    return "lastmodifieddate" if otype == "contacts" else "hs_lastmodifieddate"


def always_properties(otype: str) -> tuple[str, ...]:
    return ("createdate", lastmod_property(otype), "hs_object_id")


DEFAULT_PROPS: dict[str, list[str]] = {
    "deals": ["amount", "closedate", "dealname", "dealstage", "pipeline"],
    "companies": ["domain", "name"],
    "contacts": ["email", "firstname", "lastname"],
    "line_items": ["amount", "name", "price", "quantity"],
    "notes": [],
}
DEFAULT_GROUPS: dict[str, tuple[str, str]] = {
    "deals": ("dealinformation", "Deal information"),
    "companies": ("companyinformation", "Company information"),
    "contacts": ("contactinformation", "Contact information"),
    "line_items": ("lineiteminformation", "Line item information"),
    "notes": ("engagement", "Engagement"),
}

# (from, to, typeId, reverse typeId, label, v3 name)
_ASSOC_TABLE: list[tuple[str, str, int, int, str | None, str]] = [
    ("deals", "companies", 5, 6, "Primary", "deal_to_company"),
    ("companies", "deals", 6, 5, "Primary", "company_to_deal"),
    ("deals", "companies", 341, 342, None, "deal_to_company_unlabeled"),
    ("companies", "deals", 342, 341, None, "company_to_deal_unlabeled"),
    ("deals", "line_items", 19, 20, None, "deal_to_line_item"),
    ("line_items", "deals", 20, 19, None, "line_item_to_deal"),
    ("deals", "contacts", 3, 4, None, "deal_to_contact"),
    ("contacts", "deals", 4, 3, None, "contact_to_deal"),
    ("contacts", "companies", 1, 2, "Primary", "contact_to_company"),
    ("companies", "contacts", 2, 1, "Primary", "company_to_contact"),
    ("contacts", "companies", 279, 280, None, "contact_to_company_unlabeled"),
    ("companies", "contacts", 280, 279, None, "company_to_contact_unlabeled"),
    ("notes", "deals", 214, 213, None, "note_to_deal"),
    ("deals", "notes", 213, 214, None, "deal_to_note"),
    ("notes", "companies", 190, 189, None, "note_to_company"),
    ("companies", "notes", 189, 190, None, "company_to_note"),
    ("notes", "contacts", 202, 201, None, "note_to_contact"),
    ("contacts", "notes", 201, 202, None, "contact_to_note"),
]
ASSOC_BY_ID: dict[int, tuple[str, str, int, str | None, str]] = {
    row[2]: (row[0], row[1], row[3], row[4], row[5]) for row in _ASSOC_TABLE
}
DEFAULT_ASSOC: dict[tuple[str, str], int] = {}
for _row in _ASSOC_TABLE:
    if _row[4] is None:
        DEFAULT_ASSOC.setdefault((_row[0], _row[1]), _row[2])

# A labelled association always comes with the pair's unlabeled one (HubSpot shows both).
ASSOC_COMPANION: dict[int, int] = {5: 341, 6: 342, 1: 279, 2: 280}


def hs_time(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def to_decimal(value: str | None, default: Decimal) -> Decimal:
    if value in (None, ""):
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return default


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def number_text(value: int | float | Decimal) -> str:
    d = Decimal(str(value))
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def request_flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def paging_args(args: Any, *, default: int, maximum: int) -> tuple[int, int, str | None]:
    try:
        limit = int(args.get("limit", default))
        offset = int(args.get("after") or 0)
    except ValueError:
        return 0, 0, "limit and after must be integers"
    if limit < 1 or offset < 0:
        return 0, 0, "limit must be positive"
    return min(limit, maximum), offset, None


def paged(results: list[Any], total: int, offset: int, limit: int) -> dict[str, Any]:
    """A list answer, with HubSpot's ``paging.next`` when more results follow."""
    body: dict[str, Any] = {"results": results}
    if offset + limit < total:
        body["paging"] = {"next": {"after": str(offset + limit), "link": f"?after={offset + limit}"}}
    return body
