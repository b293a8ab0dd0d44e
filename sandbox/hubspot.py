"""HubSpot simulator: the API under ``/hubspot`` and the web app under ``/hubspot-app``.

``HubSpotApi`` reproduces what the connector uses from ``api.hubapi.com`` (``spec/hubspot.md`` §10):
OAuth tokens (code exchange, refresh, introspect, revoke), the uninstall call, CRM objects
(deals, companies, line items, notes, contacts) under the v3 and ``2026-03`` paths, associations
v4, the properties API, search (with its own 5 req/s limiter), the tax-rate library and the
110 requests / 10 s limiter per (app, portal) with HubSpot's headers and 429 body.

``HubSpotWebApp`` stands in for ``app.hubspot.com``: the OAuth consent page, an index of the demo
deals, and a deal page whose right sidebar renders our card from the card API through a proxy
that signs each call the way ``hubspot.fetch`` does (v3 signature, ``appId`` and the card's
``portalId`` / ``userId`` / ``userEmail`` / ``dealId`` in the query string).

Module helpers ``sign_v1`` / ``sign_v2`` / ``sign_v3``, ``v3_signing_uri`` and ``post_webhook``
let tests exercise the product's verifiers. Everything is in memory, guarded by one lock shared by
both providers, and can be dumped to / loaded from JSON.
"""

from __future__ import annotations

import base64
import copy
import fnmatch
import hashlib
import hmac
import html
import json
import re
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox import demo
from sandbox import templates_hubspot as tpl
from sandbox.core import (
    LoggedRequest,
    Provider,
    Sandbox,
    SandboxConfig,
    SlidingWindowLimiter,
    json_response,
    parse_iso,
    read_json,
)

# --- The app's declared scopes (app-hsmeta.json → config.auth) ---------------------------------
# Required: hubspot.md §2.4 minus `timeline` and `crm.objects.contacts.read`, plus
# `crm.schemas.companies.read` (the SIRET property picker lists company properties) — the same list
# as hubspot_app/card/src/app/app-hsmeta.json (a test compares them). Optional: `companies.write`
# (§2.4: write a tax id back) and `contacts.write`, which HubSpot's notes API requires (its docs list
# only the contacts scopes for notes; decision 4 writes one note per invoice).
APP_SCOPES: dict[str, list[str]] = {
    "required": [
        "oauth",
        "crm.objects.deals.read",
        "crm.objects.deals.write",
        "crm.objects.companies.read",
        "crm.objects.line_items.read",
        "crm.schemas.deals.read",
        "crm.schemas.deals.write",
        "crm.schemas.companies.read",
        "crm.schemas.companies.write",
        "tax_rates.read",
    ],
    "optional": ["crm.objects.companies.write", "crm.objects.contacts.write"],
}
DECLARED_SCOPES: frozenset[str] = frozenset(APP_SCOPES["required"] + APP_SCOPES["optional"])

SCOPE_LABELS_FR: dict[str, str] = {
    "oauth": "Identifier votre compte HubSpot",
    "crm.objects.deals.read": "Lire les transactions",
    "crm.objects.deals.write": "Mettre à jour les transactions (champs Qonto)",
    "crm.objects.companies.read": "Lire les entreprises",
    "crm.objects.companies.write": "Mettre à jour les entreprises (numéro SIRET)",
    "crm.objects.line_items.read": "Lire les lignes de produits",
    "crm.objects.contacts.write": "Ajouter des notes sur les transactions",
    "crm.schemas.deals.read": "Lire les propriétés des transactions",
    "crm.schemas.deals.write": "Créer les propriétés Qonto des transactions",
    "crm.schemas.companies.read": "Lire les propriétés des entreprises (choix du champ SIRET)",
    "crm.schemas.companies.write": "Créer la propriété SIRET des entreprises",
    "tax_rates.read": "Lire la bibliothèque de taux de TVA",
}

ACCESS_TOKEN_TTL_S = 1800
AUTH_CODE_TTL_S = 300
BATCH_LIMIT = 100
ASSOC_BATCH_LIMIT = 1000
SEARCH_MAX_LIMIT = 200
SEARCH_MAX_RESULTS = 10_000
EMBEDDED_ASSOC_CAP = 100
MAX_URL_LENGTH = 8192
CARD_FETCH_MAX_BYTES = 1_000_000
CARD_FETCH_CONCURRENCY = 20
DATA_CENTRE = "na1"
_VERSIONS = "any('2026-03', '2026-09')"

# --- Signatures (hubspot.md §4) ------------------------------------------------------------------

_V3_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_V3_RE = re.compile("|".join(_V3_DECODED), re.IGNORECASE)


def _text(body: str | bytes) -> str:
    return body.decode("utf-8") if isinstance(body, bytes) else body


def sign_v1(secret: str, body: str | bytes) -> str:
    """v1: SHA-256 of ``secret + body`` as lowercase hex (webhooks)."""
    return hashlib.sha256(f"{secret}{_text(body)}".encode()).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: str | bytes) -> str:
    """v2: SHA-256 of ``secret + METHOD + uri + body`` as lowercase hex."""
    return hashlib.sha256(f"{secret}{method}{uri}{_text(body)}".encode()).hexdigest()


def sign_v3(secret: str, method: str, uri: str, body: str | bytes, timestamp: str | int) -> str:
    """v3: base64 HMAC-SHA256 (key = client secret) of ``METHOD + uri + body + timestamp``.

    Like HubSpot's SDK this signs ``uri`` as given; callers signing a URL the way HubSpot does
    pass it through ``v3_signing_uri`` first.
    """
    mac = hmac.new(secret.encode(), f"{method}{uri}{_text(body)}{timestamp}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def v3_signing_uri(url: str) -> str:
    """The URL HubSpot signs in v3: the escapes ``%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B``
    decoded (so ``userEmail=a%40b.fr`` is signed as ``userEmail=a@b.fr``)."""
    return _V3_RE.sub(lambda m: _V3_DECODED[m.group(0).upper()], url)


def v3_headers(
    secret: str, method: str, url: str, body: str | bytes, timestamp_ms: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    return {
        "X-HubSpot-Signature-v3": sign_v3(secret, method.upper(), v3_signing_uri(url), body, ts),
        "X-HubSpot-Request-Timestamp": ts,
    }


def post_webhook(
    url: str,
    events: list[dict[str, Any]],
    *,
    client_secret: str = SandboxConfig.hubspot_client_secret,
    timeout: float = 10.0,
    timestamp_ms: int | None = None,
) -> requests.Response:
    """POST a webhook batch (a JSON array) signed v1 (``X-HubSpot-Signature``) and v3, as HubSpot does."""
    body = json.dumps(events, separators=(",", ":"), ensure_ascii=False)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "HubSpot Webhooks (sandbox)",
        "X-HubSpot-Signature": sign_v1(client_secret, body),
        "X-HubSpot-Signature-Version": "v1",
        **v3_headers(client_secret, "POST", url, body, timestamp_ms),
    }
    return requests.post(
        url, data=body.encode("utf-8"), headers=headers, timeout=timeout, allow_redirects=False
    )


# --- CRM model -----------------------------------------------------------------------------------

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


def _lastmod(otype: str) -> str:
    return "lastmodifieddate" if otype == "contacts" else "hs_lastmodifieddate"


def _always(otype: str) -> tuple[str, ...]:
    return ("createdate", _lastmod(otype), "hs_object_id")


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
LINE_ITEM_COMPUTED = (
    "amount",
    "hs_pre_discount_amount",
    "hs_total_discount",
    "hs_tax_amount",
    "hs_post_tax_amount",
)

DEAL_STAGES = [
    ("appointmentscheduled", "Rendez-vous programmé"),
    ("qualifiedtobuy", "Qualifié pour l'achat"),
    ("presentationscheduled", "Présentation programmée"),
    ("decisionmakerboughtin", "Décideur convaincu"),
    ("contractsent", "Contrat envoyé"),
    ("closedwon", "Conclu gagné"),
    ("closedlost", "Conclu perdu"),
]
CURRENCIES = ["EUR", "USD", "GBP", "CHF"]
PROPERTY_TYPES = ("string", "number", "date", "datetime", "enumeration", "bool", "phone_number")
FIELD_TYPES = (
    "text",
    "textarea",
    "number",
    "date",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "html",
    "file",
    "phonenumber",
    "calculation_equation",
)
_FIELD_TYPES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "string": ("text", "textarea", "html", "file", "phonenumber", "calculation_equation"),
    "number": ("number", "calculation_equation"),
    "date": ("date",),
    "datetime": ("date",),
    "enumeration": ("select", "radio", "checkbox", "booleancheckbox", "calculation_equation"),
    "bool": ("booleancheckbox", "calculation_equation"),
    "phone_number": ("phonenumber", "text"),
}
_HUBSPOT_DEFINED_AT = "2020-01-01T00:00:00.000Z"

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


def _embedded_key(otype: str) -> str:
    return "line items" if otype == "line_items" else otype


def _ts(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _dec(value: str | None, default: Decimal) -> Decimal:
    if value in (None, ""):
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return default


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _num_text(value: int | float | Decimal) -> str:
    d = Decimal(str(value))
    if d == d.to_integral_value():
        return str(d.quantize(Decimal(1)))
    return format(d.normalize(), "f")


def _prop_def(
    name: str,
    label: str,
    type_: str,
    field_type: str,
    group: str,
    *,
    options: list[dict[str, Any]] | None = None,
    hubspot_defined: bool = True,
    read_only: bool = False,
    calculated: bool = False,
    external_options: bool = False,
    description: str = "",
    created_at: str = _HUBSPOT_DEFINED_AT,
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "description": description,
        "groupName": group,
        "options": options or [],
        "displayOrder": -1,
        "calculated": calculated,
        "externalOptions": external_options,
        "hasUniqueValue": name == "hs_object_id",
        "hidden": False,
        "hubspotDefined": hubspot_defined,
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": read_only,
        },
        "formField": not read_only,
        "dataSensitivity": "non_sensitive",
        "createdAt": created_at,
        "updatedAt": created_at,
        "archived": False,
    }


def _options(values: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"label": label, "value": value, "displayOrder": i, "hidden": False, "description": ""}
        for i, (value, label) in enumerate(values)
    ]


# name, label, type, fieldType, extra
_STANDARD: dict[str, list[tuple[str, str, str, str, dict[str, Any]]]] = {
    "deals": [
        ("dealname", "Deal Name", "string", "text", {}),
        ("amount", "Amount", "number", "number", {}),
        ("closedate", "Close Date", "datetime", "date", {}),
        (
            "pipeline",
            "Pipeline",
            "enumeration",
            "select",
            {"options": _options([("default", "Sales Pipeline")])},
        ),
        ("dealstage", "Deal Stage", "enumeration", "radio", {"options": _options(DEAL_STAGES)}),
        (
            "deal_currency_code",
            "Currency",
            "enumeration",
            "select",
            {"options": _options((c, c) for c in CURRENCIES)},
        ),
        ("description", "Deal Description", "string", "textarea", {}),
        (
            "dealtype",
            "Deal Type",
            "enumeration",
            "radio",
            {
                "options": _options(
                    [("newbusiness", "New Business"), ("existingbusiness", "Existing Business")]
                )
            },
        ),
        ("hubspot_owner_id", "Deal owner", "enumeration", "select", {"external_options": True}),
    ],
    "companies": [
        ("name", "Company name", "string", "text", {}),
        ("domain", "Company Domain Name", "string", "text", {}),
        ("website", "Website URL", "string", "text", {}),
        ("address", "Street Address", "string", "text", {}),
        ("address2", "Street Address 2", "string", "text", {}),
        ("city", "City", "string", "text", {}),
        ("zip", "Postal Code", "string", "text", {}),
        ("state", "State/Region", "string", "text", {}),
        ("country", "Country/Region", "string", "text", {}),
        ("phone", "Phone Number", "string", "phonenumber", {}),
        ("industry", "Industry", "string", "text", {}),
        ("description", "Description", "string", "textarea", {}),
        ("numberofemployees", "Number of Employees", "number", "number", {}),
        ("hubspot_owner_id", "Company owner", "enumeration", "select", {"external_options": True}),
    ],
    "contacts": [
        ("firstname", "First Name", "string", "text", {}),
        ("lastname", "Last Name", "string", "text", {}),
        ("email", "Email", "string", "text", {}),
        ("phone", "Phone Number", "string", "phonenumber", {}),
        ("company", "Company Name", "string", "text", {}),
        ("jobtitle", "Job Title", "string", "text", {}),
        ("hubspot_owner_id", "Contact owner", "enumeration", "select", {"external_options": True}),
    ],
    "line_items": [
        ("name", "Name", "string", "text", {}),
        ("description", "Description", "string", "textarea", {}),
        ("quantity", "Quantity", "number", "number", {}),
        ("price", "Unit price", "number", "number", {}),
        ("amount", "Net price", "number", "number", {"read_only": True, "calculated": True}),
        ("discount", "Unit discount", "number", "number", {}),
        ("hs_discount_percentage", "Discount Percentage", "number", "number", {}),
        ("hs_tax_rate_group_id", "Tax rate", "string", "text", {}),
        ("hs_sku", "SKU", "string", "text", {}),
        ("hs_product_id", "Product ID", "string", "text", {}),
        ("hs_line_item_currency_code", "Currency", "string", "text", {}),
        ("hs_cost_of_goods_sold", "Unit cost", "number", "number", {}),
        ("hs_position_on_quote", "Position on quote", "number", "number", {}),
        (
            "recurringbillingfrequency",
            "Billing frequency",
            "enumeration",
            "select",
            {
                "options": _options(
                    [
                        ("weekly", "Weekly"),
                        ("biweekly", "Biweekly"),
                        ("monthly", "Monthly"),
                        ("quarterly", "Quarterly"),
                        ("per_six_months", "Every six months"),
                        ("annually", "Annually"),
                        ("per_two_years", "Every two years"),
                    ]
                )
            },
        ),
        ("hs_recurring_billing_period", "Term", "string", "text", {}),
        ("hs_recurring_billing_start_date", "Billing start date", "date", "date", {}),
        ("hs_recurring_billing_number_of_payments", "Number of payments", "number", "number", {}),
        (
            "hs_pre_discount_amount",
            "Pre-discount amount",
            "number",
            "number",
            {"read_only": True, "calculated": True},
        ),
        ("hs_total_discount", "Total discount", "number", "number", {"read_only": True, "calculated": True}),
        ("hs_tax_amount", "Tax amount", "number", "number", {"read_only": True, "calculated": True}),
        (
            "hs_post_tax_amount",
            "Net price after tax",
            "number",
            "number",
            {"read_only": True, "calculated": True},
        ),
        ("hs_margin", "Margin", "number", "number", {"read_only": True, "calculated": True}),
    ],
    "notes": [
        ("hs_note_body", "Note body", "string", "html", {}),
        ("hs_timestamp", "Activity date", "datetime", "date", {}),
        ("hs_attachment_ids", "Attachment IDs", "string", "text", {}),
        ("hubspot_owner_id", "Activity assigned to", "enumeration", "select", {"external_options": True}),
    ],
}


def _standard_properties(otype: str) -> dict[str, dict[str, Any]]:
    group = DEFAULT_GROUPS[otype][0]
    out: dict[str, dict[str, Any]] = {}
    for name, label, type_, field_type, extra in _STANDARD[otype]:
        out[name] = _prop_def(
            name,
            label,
            type_,
            field_type,
            group,
            options=copy.deepcopy(extra.get("options")),
            read_only=extra.get("read_only", False),
            calculated=extra.get("calculated", False),
            external_options=extra.get("external_options", False),
        )
    out["hs_object_id"] = _prop_def("hs_object_id", "Record ID", "number", "number", group, read_only=True)
    out["createdate"] = _prop_def("createdate", "Create Date", "datetime", "date", group)
    lm = _lastmod(otype)
    out[lm] = _prop_def(lm, "Last Modified Date", "datetime", "date", group, read_only=True)
    return out


class HubSpotApi(Provider):
    """The HubSpot API (``api.hubapi.com``) under ``/hubspot``."""

    name = "hubspot"
    prefix = "/hubspot"

    _OBJ = ("/crm/v3/objects", f"/crm/objects/<{_VERSIONS}:ver>")
    _V4OBJ = ("/crm/v4/objects", f"/crm/objects/<{_VERSIONS}:ver>")
    _ASSOC = ("/crm/v4/associations", f"/crm/associations/<{_VERSIONS}:ver>")
    _PROPS = ("/crm/v3/properties", f"/crm/properties/<{_VERSIONS}:ver>")

    rules = [
        # OAuth (no bearer, not rate limited).
        Rule("/oauth/v1/token", endpoint="oauth_token", methods=["POST"]),
        Rule("/oauth/v3/token", endpoint="oauth_token", methods=["POST"]),
        Rule(f"/oauth/<{_VERSIONS}:ver>/token", endpoint="oauth_token", methods=["POST"]),
        Rule("/oauth/v3/token/introspect", endpoint="oauth_introspect", methods=["POST"]),
        Rule(f"/oauth/<{_VERSIONS}:ver>/token/introspect", endpoint="oauth_introspect", methods=["POST"]),
        Rule("/oauth/v3/token/revoke", endpoint="oauth_revoke", methods=["POST"]),
        Rule(f"/oauth/<{_VERSIONS}:ver>/token/revoke", endpoint="oauth_revoke", methods=["POST"]),
        Rule("/oauth/v1/access-tokens/<token>", endpoint="oauth_v1_access_token", methods=["GET"]),
        Rule("/oauth/v1/refresh-tokens/<token>", endpoint="oauth_v1_refresh_token", methods=["GET"]),
        Rule("/oauth/v1/refresh-tokens/<token>", endpoint="oauth_v1_refresh_revoke", methods=["DELETE"]),
        # App uninstall and account details.
        Rule("/appinstalls/v3/external-install", endpoint="appinstall_delete", methods=["DELETE"]),
        Rule(
            f"/appinstalls/<{_VERSIONS}:ver>/external-install",
            endpoint="appinstall_delete",
            methods=["DELETE"],
        ),
        Rule("/account-info/v3/details", endpoint="account_info", methods=["GET"]),
        Rule(f"/account-info/<{_VERSIONS}:ver>/details", endpoint="account_info", methods=["GET"]),
        # Tax rate library.
        Rule(
            "/tax-rates/<any('v1', '2026-03', '2026-09'):ver>/tax-rates",
            endpoint="tax_rates_list",
            methods=["GET"],
        ),
        Rule(
            "/tax-rates/<any('v1', '2026-03', '2026-09'):ver>/tax-rates/<rate_id>",
            endpoint="tax_rates_get",
            methods=["GET"],
        ),
    ]
    for _p in _OBJ:
        rules += [
            Rule(f"{_p}/<otype>", endpoint="obj_list", methods=["GET"]),
            Rule(f"{_p}/<otype>", endpoint="obj_create", methods=["POST"]),
            Rule(f"{_p}/<otype>/search", endpoint="obj_search", methods=["POST"]),
            Rule(
                f"{_p}/<otype>/batch/<any(read, create, update, archive):op>",
                endpoint="obj_batch",
                methods=["POST"],
            ),
            Rule(f"{_p}/<otype>/<oid>", endpoint="obj_get", methods=["GET"]),
            Rule(f"{_p}/<otype>/<oid>", endpoint="obj_update", methods=["PATCH"]),
            Rule(f"{_p}/<otype>/<oid>", endpoint="obj_archive", methods=["DELETE"]),
        ]
    rules += [
        Rule(
            "/crm/v3/objects/<otype>/<oid>/associations/<totype>", endpoint="assoc_v3_list", methods=["GET"]
        ),
        Rule(
            "/crm/v3/objects/<otype>/<oid>/associations/<totype>/<toid>/<atype>",
            endpoint="assoc_v3_put",
            methods=["PUT"],
        ),
        Rule(
            "/crm/v3/objects/<otype>/<oid>/associations/<totype>/<toid>/<atype>",
            endpoint="assoc_v3_delete",
            methods=["DELETE"],
        ),
    ]
    for _p in _V4OBJ:
        rules += [
            Rule(f"{_p}/<otype>/<oid>/associations/<totype>", endpoint="assoc_v4_list", methods=["GET"]),
            Rule(
                f"{_p}/<otype>/<oid>/associations/default/<totype>/<toid>",
                endpoint="assoc_v4_put_default",
                methods=["PUT"],
            ),
            Rule(
                f"{_p}/<otype>/<oid>/associations/<totype>/<toid>", endpoint="assoc_v4_put", methods=["PUT"]
            ),
            Rule(
                f"{_p}/<otype>/<oid>/associations/<totype>/<toid>",
                endpoint="assoc_v4_delete",
                methods=["DELETE"],
            ),
        ]
    for _p in _ASSOC:
        rules += [
            Rule(f"{_p}/<otype>/<totype>/batch/read", endpoint="assoc_batch_read", methods=["POST"]),
            Rule(f"{_p}/<otype>/<totype>/labels", endpoint="assoc_labels", methods=["GET"]),
        ]
    for _p in _PROPS:
        rules += [
            Rule(f"{_p}/<otype>", endpoint="props_list", methods=["GET"]),
            Rule(f"{_p}/<otype>", endpoint="props_create", methods=["POST"]),
            Rule(f"{_p}/<otype>/batch/<any(create, read):op>", endpoint="props_batch", methods=["POST"]),
            Rule(f"{_p}/<otype>/groups", endpoint="groups_list", methods=["GET"]),
            Rule(f"{_p}/<otype>/groups", endpoint="groups_create", methods=["POST"]),
            Rule(f"{_p}/<otype>/groups/<gname>", endpoint="groups_get", methods=["GET"]),
            Rule(f"{_p}/<otype>/groups/<gname>", endpoint="groups_update", methods=["PATCH"]),
            Rule(f"{_p}/<otype>/groups/<gname>", endpoint="groups_archive", methods=["DELETE"]),
            Rule(f"{_p}/<otype>/<pname>", endpoint="props_get", methods=["GET"]),
            Rule(f"{_p}/<otype>/<pname>", endpoint="props_update", methods=["PATCH"]),
            Rule(f"{_p}/<otype>/<pname>", endpoint="props_archive", methods=["DELETE"]),
        ]

    control_rules = [
        Rule("/", endpoint="ctl_summary", methods=["GET"]),
        Rule("/settings", endpoint="ctl_settings", methods=["GET", "POST"]),
        Rule("/portals", endpoint="ctl_create_portal", methods=["POST"]),
        Rule("/portals/<int:portal_id>/install", endpoint="ctl_install", methods=["POST"]),
        Rule("/portals/<int:portal_id>/uninstall", endpoint="ctl_uninstall", methods=["POST"]),
        Rule("/portals/<int:portal_id>/expire-tokens", endpoint="ctl_expire_tokens", methods=["POST"]),
        Rule("/portals/<int:portal_id>/companies", endpoint="ctl_create_company", methods=["POST"]),
        Rule("/portals/<int:portal_id>/deals", endpoint="ctl_create_deal", methods=["POST"]),
        Rule("/portals/<int:portal_id>/line-items", endpoint="ctl_create_line_item", methods=["POST"]),
        Rule("/portals/<int:portal_id>/bulk-deals", endpoint="ctl_bulk_deals", methods=["POST"]),
        Rule("/portals/<int:portal_id>/tax-rates", endpoint="ctl_add_tax_rate", methods=["POST"]),
        Rule("/portals/<int:portal_id>/properties/<otype>", endpoint="ctl_define_property", methods=["POST"]),
        Rule("/portals/<int:portal_id>/objects/<otype>/<oid>", endpoint="ctl_get_object", methods=["GET"]),
        Rule(
            "/portals/<int:portal_id>/objects/<otype>/<oid>", endpoint="ctl_update_object", methods=["PATCH"]
        ),
        Rule("/portals/<int:portal_id>/deals/<oid>", endpoint="ctl_delete_deal", methods=["DELETE"]),
        Rule("/portals/<int:portal_id>/deals/<oid>/notes", endpoint="ctl_notes", methods=["GET"]),
        Rule("/portals/<int:portal_id>/calls", endpoint="ctl_calls", methods=["GET"]),
        Rule("/webhooks", endpoint="ctl_webhook", methods=["POST"]),
    ]

    _PUBLIC = frozenset(
        {
            "oauth_token",
            "oauth_introspect",
            "oauth_revoke",
            "oauth_v1_access_token",
            "oauth_v1_refresh_token",
            "oauth_v1_refresh_revoke",
        }
    )
    _KNOWN_PARAMS: dict[str, tuple[str, ...]] = {
        "obj_get": ("properties", "propertiesWithHistory", "associations", "archived", "idProperty"),
        "obj_list": ("limit", "after", "properties", "propertiesWithHistory", "associations", "archived"),
        "obj_update": ("idProperty",),
        "obj_create": (),
        "obj_batch": ("archived",),
        "obj_search": (),
        "assoc_v4_list": ("limit", "after"),
        "assoc_v3_list": ("limit", "after"),
        "assoc_batch_read": (),
        "props_list": ("archived", "dataSensitivity", "locale", "properties"),
        "props_get": ("archived", "dataSensitivity", "locale", "properties"),
        "groups_list": ("locale",),
        "tax_rates_list": ("limit", "after"),
        "tax_rates_get": (),
    }

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.state: dict[str, Any] = self._empty_state()
        self.limiter = SlidingWindowLimiter(self.config.hubspot_rate_limit, 10.0)
        self.search_limiter = SlidingWindowLimiter(self.config.hubspot_search_rate_limit, 1.0)

    # --- Provider hooks ------------------------------------------------------------------------
    @staticmethod
    def _empty_state() -> dict[str, Any]:
        return {
            "portals": {},
            "codes": {},
            "access_tokens": {},
            "refresh_tokens": {},
            "counters": {},
            "settings": {"rotate_refresh_tokens": False, "notes_require_contacts_scope": True},
        }

    def reset(self) -> None:
        with self.lock:
            self.state = self._empty_state()
        self.limiter.reset()
        self.search_limiter.reset()

    def dump_state(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.state)

    def load_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            state = self._empty_state()
            state.update(copy.deepcopy(data))
            self.state = state

    def known_params(self, endpoint: str) -> Iterable[str] | None:
        return self._KNOWN_PARAMS.get(endpoint)

    def portal_of(self, request: Request) -> str | None:
        token = _bearer(request)
        with self.lock:
            if token and token in self.state["access_tokens"]:
                return str(self.state["access_tokens"][token]["portal"])
            match = re.search(r"/oauth/v1/(access|refresh)-tokens/([^/]+)$", request.path)
            if match:
                store = "access_tokens" if match.group(1) == "access" else "refresh_tokens"
                entry = self.state[store].get(match.group(2))
                return str(entry["portal"]) if entry else None
            if request.mimetype == "application/x-www-form-urlencoded":
                form = request.form
                for key, store in (
                    ("refresh_token", "refresh_tokens"),
                    ("token", "access_tokens"),
                    ("token", "refresh_tokens"),
                ):
                    entry = self.state[store].get(form.get(key, ""))
                    if entry:
                        return str(entry["portal"])
                code = self.state["codes"].get(form.get("code", ""))
                if code:
                    return str(code["portal"])
        return None

    def error_response(self, status: int, message: str) -> Response:
        category = {
            400: "VALIDATION_ERROR",
            401: "INVALID_AUTHENTICATION",
            403: "MISSING_SCOPES",
            404: "OBJECT_NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            409: "CONFLICT",
            429: "RATE_LIMITS",
        }.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")
        return self._error(status, message, category)

    def before_request(self, request: Request, endpoint: str) -> Response | None:
        if endpoint in self._PUBLIC:
            return None
        token = _bearer(request)
        if not token:
            return self._error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
                "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        now = self.clock.now().timestamp()
        with self.lock:
            info = self.state["access_tokens"].get(token)
            portal = self.state["portals"].get(str(info["portal"])) if info else None
            if info is None or portal is None or info.get("revoked") or info["gen"] != portal["install_gen"]:
                return self._error(
                    401,
                    "The OAuth token used to make this call is invalid or was revoked.",
                    "INVALID_AUTHENTICATION",
                )
            if now >= info["expires_at"]:
                minutes = int((now - info["expires_at"]) // 60)
                return self._error(
                    401,
                    f"The OAuth token used to make this call expired {minutes} minute(s) ago.",
                    "EXPIRED_AUTHENTICATION",
                )
            auth = {"portal": str(info["portal"]), "user_id": info["user_id"], "scopes": list(info["scopes"])}
        request.environ["hs.auth"] = auth
        if len(request.full_path) > MAX_URL_LENGTH:
            return self._error(414, "URI Too Long", "VALIDATION_ERROR")
        if endpoint == "obj_search":
            # Search is outside the 110 / 10 s budget, on its own per-portal limiter, and sends no
            # rate-limit headers (hubspot.md §6).
            self.search_limiter.limit = self.config.hubspot_search_rate_limit
            allowed, _, _ = self.search_limiter.hit(auth["portal"])
            if not allowed:
                return self._error(
                    429,
                    "You have reached your secondly limit.",
                    "RATE_LIMITS",
                    errorType="RATE_LIMIT",
                    policyName="SECONDLY",
                )
            return None
        self.limiter.limit = self.config.hubspot_rate_limit
        key = f"{self.config.hubspot_app_id}:{auth['portal']}"
        allowed, remaining, _ = self.limiter.hit(key)
        request.environ["hs.rl"] = (self.limiter.limit, remaining)
        if not allowed:
            return self._error(
                429,
                "You have reached your ten_secondly_rolling limit.",
                "RATE_LIMITS",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
                groupName=f"publicapi:oauth-app-api-calls-ten-secondly:{self.config.hubspot_app_id}:{auth['portal']}",
            )
        return None

    def _finish(self, request: Request, path: str, route: str, response: Response) -> Response:
        rl = request.environ.get("hs.rl")
        if rl is not None:
            response.headers["X-HubSpot-RateLimit-Max"] = str(rl[0])
            response.headers["X-HubSpot-RateLimit-Remaining"] = str(rl[1])
            response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        return super()._finish(request, path, route, response)

    # --- helpers -------------------------------------------------------------------------------
    def _error(self, status: int, message: str, category: str, **extra: Any) -> Response:
        body: dict[str, Any] = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
        }
        body.update({k: v for k, v in extra.items() if v is not None})
        return json_response(body, status)

    def _validation(self, message: str, **extra: Any) -> Response:
        return self._error(400, message, "VALIDATION_ERROR", **extra)

    def _not_found(self, message: str = "resource not found") -> Response:
        return self._error(404, message, "OBJECT_NOT_FOUND")

    def _bad_type(self, raw: str) -> Response:
        return self._validation(f"Unable to infer object type from: {raw}")

    def _body(self, request: Request) -> tuple[Any, Response | None]:
        try:
            return read_json(request), None
        except (ValueError, UnicodeDecodeError) as exc:
            return None, self._validation(f"Invalid input JSON: {exc}")

    def _auth(self, request: Request) -> dict[str, Any]:
        return dict(request.environ["hs.auth"])

    def _portal(self, request: Request) -> dict[str, Any]:
        return self.state["portals"][request.environ["hs.auth"]["portal"]]

    def _need(self, request: Request, any_of: Iterable[str]) -> Response | None:
        wanted = list(any_of)
        granted = set(request.environ["hs.auth"]["scopes"])
        if granted.intersection(wanted):
            return None
        return self._error(
            403,
            "This app hasn't been granted all required scopes to make this call. Read more about required "
            "scopes here: https://developers.hubspot.com/scopes.",
            "MISSING_SCOPES",
            context={"missingScopes": wanted},
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": wanted},
                }
            ],
            links={"scopes": "https://developers.hubspot.com/scopes"},
        )

    @staticmethod
    def _read_scopes(otype: str) -> tuple[str, ...]:
        if otype == "notes":
            return ("crm.objects.contacts.read", "crm.objects.contacts.write")
        return (f"crm.objects.{otype}.read",)

    def _write_scopes(self, otype: str) -> tuple[str, ...]:
        if otype == "notes":
            # HubSpot documents only the contacts scopes for notes; the lenient switch also
            # accepts the deal write scope (spec §5.8 [assumed]).
            if self.state["settings"].get("notes_require_contacts_scope", True):
                return ("crm.objects.contacts.write",)
            return ("crm.objects.contacts.write", "crm.objects.deals.write")
        return (f"crm.objects.{otype}.write",)

    @staticmethod
    def _schema_read_scopes(otype: str) -> tuple[str, ...]:
        base = "contacts" if otype == "notes" else otype
        return (f"crm.schemas.{base}.read", f"crm.schemas.{base}.write", f"crm.objects.{base}.read")

    @staticmethod
    def _schema_write_scopes(otype: str) -> tuple[str, ...]:
        base = "contacts" if otype == "notes" else otype
        return (f"crm.schemas.{base}.write",)

    def _next_id(self, kind: str) -> str:
        counters = self.state["counters"]
        portals = self.state["portals"].values()
        while True:
            counters[kind] = counters.get(kind, 0) + 1
            oid = str(ID_BASES[kind] - 1 + counters[kind])
            # Ids are unique across portals, and never reuse one given explicitly (demo, tests).
            if kind == "tax_rates":
                if not any(oid in p["tax_rates"] for p in portals):
                    return oid
            elif not any(oid in p["objects"][kind] for p in portals):
                return oid

    def _get_portal(self, portal_id: int | str) -> dict[str, Any]:
        portal = self.state["portals"].get(str(portal_id))
        if portal is None:
            raise KeyError(f"no HubSpot portal {portal_id}")
        return portal

    @staticmethod
    def _list_arg(request: Request, name: str) -> list[str] | None:
        raw = request.args.getlist(name)
        if not raw:
            return None
        out = [part.strip() for value in raw for part in value.split(",") if part.strip()]
        return out or None

    # --- records -------------------------------------------------------------------------------
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
            text = _num_text(raw)
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
            return _ts(dt), None
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

    def _validation_from(self, errors: list[dict[str, Any]]) -> Response:
        return self._validation(
            "Property values were not valid: " + json.dumps(errors, ensure_ascii=False),
            errors=[
                {"message": e["message"], "code": e["error"], "context": {"propertyName": [e["name"]]}}
                for e in errors
            ],
        )

    def _compute_line_item(self, portal: dict[str, Any], props: dict[str, str]) -> None:
        qty = _dec(props.get("quantity"), Decimal(1))
        price = _dec(props.get("price"), Decimal(0))
        pct = _dec(props.get("hs_discount_percentage"), Decimal(0))
        unit_discount = _dec(props.get("discount"), Decimal(0))
        pre = qty * price
        discount = (pre * pct / Decimal(100)) + unit_discount * qty
        amount = pre - discount
        props["hs_pre_discount_amount"] = _money(pre)
        props["hs_total_discount"] = _money(discount)
        props["amount"] = _money(amount)
        rate = portal["tax_rates"].get(props.get("hs_tax_rate_group_id", ""))
        if rate is not None:
            tax = Decimal(str(rate["percentageRate"])) * Decimal(_money(amount)) / Decimal(100)
            props["hs_tax_amount"] = _money(tax)
            props["hs_post_tax_amount"] = _money(Decimal(_money(amount)) + Decimal(_money(tax)))
        else:
            props.pop("hs_tax_amount", None)
            props["hs_post_tax_amount"] = _money(amount)
        cost = props.get("hs_cost_of_goods_sold")
        if cost:
            props["hs_margin"] = _money(amount - _dec(cost, Decimal(0)) * qty)

    def _create_record(
        self, portal: dict[str, Any], otype: str, values: dict[str, str], object_id: str | None = None
    ) -> dict[str, Any]:
        oid = str(object_id) if object_id is not None else self._next_id(otype)
        if oid in portal["objects"][otype]:
            raise ValueError(f"{otype} {oid} already exists in portal {portal['id']}")
        ts = _ts(self.clock.tick())
        props = {k: v for k, v in values.items() if v != ""}
        props.setdefault("createdate", ts)
        props["hs_object_id"] = oid
        props[_lastmod(otype)] = ts
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
        ts = _ts(self.clock.tick())
        rec["updatedAt"] = ts
        props[_lastmod(otype)] = ts

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
        for name in _always(otype):
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

    # --- associations --------------------------------------------------------------------------
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

    # --- OAuth ---------------------------------------------------------------------------------
    def _oauth_error(self, error: str, status: str, message: str, description: str | None = None) -> Response:
        return json_response(
            {
                "error": error,
                "error_description": description or message,
                "status": status,
                "message": message,
                "correlationId": str(uuid.uuid4()),
            },
            400,
        )

    def _client_error(self, form: Any) -> Response | None:
        if form.get("client_id") != self.config.hubspot_client_id:
            return self._oauth_error("invalid_client", "BAD_CLIENT_ID", "missing or unknown client id")
        if not hmac.compare_digest(form.get("client_secret", ""), self.config.hubspot_client_secret):
            return self._oauth_error(
                "invalid_client", "BAD_CLIENT_ID", "client secret does not match the client id"
            )
        return None

    def _id_token(self, portal: dict[str, Any], user_id: int) -> str:
        def b64(data: dict[str, Any]) -> str:
            return (
                base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
                .rstrip(b"=")
                .decode()
            )

        now = int(self.clock.now().timestamp())
        user = portal["users"].get(str(user_id), {})
        head = b64({"alg": "HS256", "typ": "JWT"})
        body = b64(
            {
                "iss": "https://app.hubspot.com",
                "aud": self.config.hubspot_client_id,
                "sub": str(user_id),
                "hub_id": portal["id"],
                "email": user.get("email"),
                "iat": now,
                "exp": now + ACCESS_TOKEN_TTL_S,
            }
        )
        mac = hmac.new(self.config.hubspot_client_secret.encode(), f"{head}.{body}".encode(), hashlib.sha256)
        return f"{head}.{body}.{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode()}"

    def _prune_tokens(self) -> None:
        cutoff = self.clock.now().timestamp() - 86400
        tokens = self.state["access_tokens"]
        for token in [t for t, info in tokens.items() if info["expires_at"] < cutoff]:
            del tokens[token]
        codes = self.state["codes"]
        for code in [c for c, info in codes.items() if info["expires_at"] < cutoff]:
            del codes[code]

    def _issue(
        self, portal: dict[str, Any], user_id: int, scopes: list[str], refresh: str | None = None
    ) -> tuple[str, str]:
        self._prune_tokens()
        if refresh is None:
            refresh = f"{DATA_CENTRE}-{self.ids.uuid()}"
            self.state["refresh_tokens"][refresh] = {
                "portal": str(portal["id"]),
                "user_id": user_id,
                "scopes": list(scopes),
                "gen": portal["install_gen"],
                "revoked": False,
                "client_id": self.config.hubspot_client_id,
            }
        access = self.ids.token("CO", 320)
        self.state["access_tokens"][access] = {
            "portal": str(portal["id"]),
            "user_id": user_id,
            "scopes": list(scopes),
            "gen": portal["install_gen"],
            "revoked": False,
            "refresh": refresh,
            "expires_at": self.clock.now().timestamp() + ACCESS_TOKEN_TTL_S,
        }
        return access, refresh

    def _mark_installed(self, portal: dict[str, Any], user_id: int, scopes: list[str]) -> None:
        portal["installed"] = True
        portal["installed_at"] = _ts(self.clock.now())
        portal["uninstalled_at"] = None
        portal["scopes"] = sorted(set(portal.get("scopes") or []) | set(scopes))
        portal["installer_user_id"] = user_id

    def _token_payload(self, access: str, refresh: str, *, versioned: bool) -> dict[str, Any]:
        info = self.state["access_tokens"][access]
        portal = self.state["portals"][info["portal"]]
        body: dict[str, Any] = {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ACCESS_TOKEN_TTL_S,
            "token_type": "bearer",
            "hub_id": portal["id"],
            "scopes": info["scopes"],
            "user_id": info["user_id"],
            "id_token": self._id_token(portal, info["user_id"]),
        }
        if versioned:
            body["token_use"] = "access_token"
        return body

    def _refresh_valid(self, refresh: str) -> dict[str, Any] | None:
        info = self.state["refresh_tokens"].get(refresh)
        if info is None or info["revoked"]:
            return None
        portal = self.state["portals"].get(info["portal"])
        if portal is None or not portal["installed"] or info["gen"] != portal["install_gen"]:
            return None
        return info

    def _access_valid(self, access: str) -> dict[str, Any] | None:
        info = self.state["access_tokens"].get(access)
        if info is None or info["revoked"]:
            return None
        portal = self.state["portals"].get(info["portal"])
        if portal is None or not portal["installed"] or info["gen"] != portal["install_gen"]:
            return None
        if self.clock.now().timestamp() >= info["expires_at"]:
            return None
        return info

    def oauth_token(self, request: Request, **_: str) -> Response:
        versioned = "/oauth/v1/" not in request.path
        if request.mimetype != "application/x-www-form-urlencoded":
            return self._oauth_error(
                "invalid_request",
                "BAD_GRANT_TYPE",
                "missing or unknown grant type",
                "The token request must be sent as application/x-www-form-urlencoded.",
            )
        form = request.form
        grant = form.get("grant_type", "")
        if grant not in ("authorization_code", "refresh_token"):
            return self._oauth_error(
                "unsupported_grant_type", "BAD_GRANT_TYPE", "missing or unknown grant type"
            )
        bad_client = self._client_error(form)
        if bad_client is not None:
            return bad_client
        with self.lock:
            if grant == "authorization_code":
                code = self.state["codes"].pop(form.get("code", ""), None)  # single use, even on failure
                if code is None or self.clock.now().timestamp() >= code["expires_at"]:
                    return self._oauth_error("invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code")
                if form.get("redirect_uri", "") != code["redirect_uri"]:
                    return self._oauth_error(
                        "invalid_grant",
                        "BAD_REDIRECT_URI",
                        "redirect_uri does not match the authorization request",
                    )
                portal = self.state["portals"].get(code["portal"])
                if portal is None:
                    return self._oauth_error("invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code")
                self._mark_installed(portal, code["user_id"], code["scopes"])
                access, refresh = self._issue(portal, code["user_id"], code["scopes"])
                return json_response(self._token_payload(access, refresh, versioned=versioned))
            old = form.get("refresh_token", "")
            info = self._refresh_valid(old)
            if info is None or info["client_id"] != form.get("client_id"):
                return self._oauth_error(
                    "invalid_grant",
                    "BAD_REFRESH_TOKEN",
                    "missing or unknown refresh token",
                    "refresh token is invalid, expired or revoked",
                )
            portal = self.state["portals"][info["portal"]]
            if self.state["settings"]["rotate_refresh_tokens"]:
                info["revoked"] = True
                access, refresh = self._issue(portal, info["user_id"], info["scopes"])
            else:
                access, refresh = self._issue(portal, info["user_id"], info["scopes"], refresh=old)
            return json_response(self._token_payload(access, refresh, versioned=versioned))

    def _introspection(self, token: str, hint: str | None) -> dict[str, Any]:
        stores = ["access_tokens", "refresh_tokens"]
        if hint == "refresh_token":
            stores.reverse()
        for store in stores:
            info = self._access_valid(token) if store == "access_tokens" else self._refresh_valid(token)
            if info is None:
                continue
            portal = self.state["portals"][info["portal"]]
            user = portal["users"].get(str(info["user_id"]), {})
            out: dict[str, Any] = {
                "active": True,
                "app_id": int(self.config.hubspot_app_id),
                "client_id": self.config.hubspot_client_id,
                "hub_id": portal["id"],
                "hub_domain": portal["domain"],
                "user": user.get("email"),
                "user_id": info["user_id"],
                "scopes": info["scopes"],
                "token_type": "access" if store == "access_tokens" else "refresh",
                "token_use": "access_token" if store == "access_tokens" else "refresh_token",
                "is_private_distribution": False,
            }
            if store == "access_tokens":
                out["expires_in"] = max(0, int(info["expires_at"] - self.clock.now().timestamp()))
            return out
        return {"active": False}

    def oauth_introspect(self, request: Request, **_: str) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            return self._oauth_error("invalid_request", "BAD_REQUEST", "the body must be form-encoded")
        bad_client = self._client_error(request.form)
        if bad_client is not None:
            return bad_client
        with self.lock:
            return json_response(
                self._introspection(request.form.get("token", ""), request.form.get("token_type_hint"))
            )

    def oauth_revoke(self, request: Request, **_: str) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            return self._oauth_error("invalid_request", "BAD_REQUEST", "the body must be form-encoded")
        bad_client = self._client_error(request.form)
        if bad_client is not None:
            return bad_client
        token = request.form.get("token", "")
        with self.lock:
            for store in ("access_tokens", "refresh_tokens"):
                if token in self.state[store]:
                    self.state[store][token]["revoked"] = True  # revoking does not uninstall
        return Response(status=200)

    def oauth_v1_access_token(self, request: Request, token: str) -> Response:
        with self.lock:
            info = self.state["access_tokens"].get(token)
            if info is not None and self.clock.now().timestamp() >= info["expires_at"]:
                return self._error(
                    401, "The OAuth token used to make this call expired.", "EXPIRED_AUTHENTICATION"
                )
            if self._access_valid(token) is None:
                return self._not_found("access token not found")
            assert info is not None
            portal = self.state["portals"][info["portal"]]
            return json_response(
                {
                    "token": token,
                    "user": portal["users"].get(str(info["user_id"]), {}).get("email"),
                    "hub_domain": portal["domain"],
                    "scopes": info["scopes"],
                    "hub_id": portal["id"],
                    "app_id": int(self.config.hubspot_app_id),
                    "expires_in": max(0, int(info["expires_at"] - self.clock.now().timestamp())),
                    "user_id": info["user_id"],
                    "token_type": "access",
                }
            )

    def oauth_v1_refresh_token(self, request: Request, token: str) -> Response:
        with self.lock:
            info = self._refresh_valid(token)
            if info is None:
                return self._not_found("refresh token not found")
            portal = self.state["portals"][info["portal"]]
            return json_response(
                {
                    "token": token,
                    "user": portal["users"].get(str(info["user_id"]), {}).get("email"),
                    "hub_domain": portal["domain"],
                    "scopes": info["scopes"],
                    "hub_id": portal["id"],
                    "client_id": self.config.hubspot_client_id,
                    "user_id": info["user_id"],
                    "token_type": "refresh",
                }
            )

    def oauth_v1_refresh_revoke(self, request: Request, token: str) -> Response:
        with self.lock:
            info = self.state["refresh_tokens"].get(token)
            if info is None:
                return self._not_found("refresh token not found")
            info["revoked"] = True
        return Response(status=204)

    # --- install lifecycle ---------------------------------------------------------------------
    def appinstall_delete(self, request: Request, **_: str) -> Response:
        stop = self._need(request, ["oauth"])
        if stop:
            return stop
        with self.lock:
            self._uninstall(self._portal(request))
        return Response(status=204)

    def _uninstall(self, portal: dict[str, Any]) -> None:
        portal["installed"] = False
        portal["uninstalled_at"] = _ts(self.clock.now())
        portal["install_gen"] += 1  # every token of the installation dies
        portal["scopes"] = []

    def account_info(self, request: Request, **_: str) -> Response:
        stop = self._need(request, ["oauth"])
        if stop:
            return stop
        with self.lock:
            portal = self._portal(request)
            return json_response(
                {
                    "portalId": portal["id"],
                    "accountType": "STANDARD",
                    "timeZone": portal.get("time_zone", "Europe/Paris"),
                    "companyCurrency": portal.get("currency", "EUR"),
                    "additionalCurrencies": [],
                    "utcOffset": "+01:00",
                    "utcOffsetMilliseconds": 3600000,
                    "uiDomain": "app.hubspot.com",
                    "dataHostingLocation": DATA_CENTRE,
                }
            )

    # --- tax rates -----------------------------------------------------------------------------
    def tax_rates_list(self, request: Request, **_: str) -> Response:
        stop = self._need(request, ["tax_rates.read"])
        if stop:
            return stop
        limit, offset, bad = _paging(request.args, default=100, maximum=100)
        if bad:
            return self._validation(bad)
        with self.lock:
            rates = list(self._portal(request)["tax_rates"].values())
        page = rates[offset : offset + limit]
        body: dict[str, Any] = {"results": copy.deepcopy(page)}
        if offset + limit < len(rates):
            body["paging"] = {"next": {"after": str(offset + limit), "link": f"?after={offset + limit}"}}
        return json_response(body)

    def tax_rates_get(self, request: Request, rate_id: str, **_: str) -> Response:
        stop = self._need(request, ["tax_rates.read"])
        if stop:
            return stop
        with self.lock:
            rate = self._portal(request)["tax_rates"].get(rate_id)
            if rate is None:
                return self._not_found(f"tax rate {rate_id} not found")
            return json_response(copy.deepcopy(rate))

    # --- CRM objects ---------------------------------------------------------------------------
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
        limit, offset, bad = _paging(request.args, default=10, maximum=100)
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

    def _archive(self, portal: dict[str, Any], otype: str, oid: str) -> bool:
        rec = portal["objects"][otype].get(str(oid))
        if rec is None or rec["archived"]:
            return False
        ts = _ts(self.clock.tick())
        rec["archived"] = True
        rec["archivedAt"] = ts
        rec["updatedAt"] = ts
        return True

    def obj_batch(self, request: Request, otype: str, op: str, **_: str) -> Response:
        t = resolve_type(otype)
        if t is None:
            return self._bad_type(otype)
        stop = self._need(request, self._read_scopes(t) if op == "read" else self._write_scopes(t))
        if stop:
            return stop
        started = _ts(self.clock.now())
        body, bad = self._body(request)
        if bad:
            return bad
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return self._validation("The request body must have an inputs list")
        inputs: list[Any] = body["inputs"]
        if len(inputs) > BATCH_LIMIT:
            return self._validation(
                f"Batch input limit exceeded: {len(inputs)} inputs were sent, the limit is {BATCH_LIMIT}.",
                context={"inputs": [str(len(inputs))]},
            )
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

    def _batch_answer(
        self, results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str, ok_status: int = 200
    ) -> Response:
        out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "requestedAt": started,
            "startedAt": started,
            "completedAt": _ts(self.clock.now()),
        }
        if errors:
            out["numErrors"] = len(errors)
            out["errors"] = errors
            return json_response(out, 207)
        return json_response(out, ok_status)

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
            values, errors = self._validate(portal, t, item.get("properties") or {})
            if errors:
                return self._validation_from(errors)
            links, message = self._parse_create_associations(portal, t, item.get("associations"))
            if message:
                return self._validation(message)
            prepared.append((values, links))
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
            values, errors = self._validate(portal, t, item.get("properties") or {})
            if errors:
                return self._validation_from(errors)
            prepared.append((oid, values))
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

    # --- search --------------------------------------------------------------------------------
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
        t = resolve_type(otype)
        if t is None:
            return self._bad_type(otype)
        stop = self._need(request, self._read_scopes(t))
        if stop:
            return stop
        body, bad = self._body(request)
        if bad:
            return bad
        body = body or {}
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

    # --- associations endpoints ----------------------------------------------------------------
    def _assoc_prelude(
        self, request: Request, otype: str, totype: str, *, write: bool = False
    ) -> tuple[str, str, Response | None]:
        f, t = resolve_type(otype), resolve_type(totype)
        if f is None:
            return "", "", self._bad_type(otype)
        if t is None:
            return "", "", self._bad_type(totype)
        stop = self._need(request, self._write_scopes(f) if write else self._read_scopes(f))
        if stop is None and not write:
            stop = self._need(request, self._read_scopes(t))
        return f, t, stop

    def assoc_v4_list(self, request: Request, otype: str, oid: str, totype: str, **_: str) -> Response:
        f, t, stop = self._assoc_prelude(request, otype, totype)
        if stop:
            return stop
        limit, offset, bad = _paging(request.args, default=500, maximum=500)
        if bad:
            return self._validation(bad)
        with self.lock:
            portal = self._portal(request)
            if self._find(portal, f, oid) is None:
                return self._not_found(f"{SINGULAR[f]} {oid} not found")
            targets = list(self._assoc_targets(portal, f, oid, t).items())
        page = targets[offset : offset + limit]
        body: dict[str, Any] = {
            "results": [
                {"toObjectId": int(to_id), "associationTypes": self._assoc_types_out(tids)}
                for to_id, tids in page
            ]
        }
        if offset + limit < len(targets):
            body["paging"] = {"next": {"after": str(offset + limit), "link": f"?after={offset + limit}"}}
        return json_response(body)

    def assoc_v3_list(self, request: Request, otype: str, oid: str, totype: str, **_: str) -> Response:
        f, t, stop = self._assoc_prelude(request, otype, totype)
        if stop:
            return stop
        with self.lock:
            portal = self._portal(request)
            if self._find(portal, f, oid) is None:
                return self._not_found(f"{SINGULAR[f]} {oid} not found")
            results = [
                {"id": to_id, "type": ASSOC_BY_ID[tid][4]}
                for to_id, tids in self._assoc_targets(portal, f, oid, t).items()
                for tid in tids
            ]
        return json_response({"results": results})

    def _assoc_write(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, type_ids: list[int]
    ) -> Response | None:
        f, t, stop = self._assoc_prelude(request, otype, totype, write=True)
        if stop:
            return stop
        with self.lock:
            portal = self._portal(request)
            try:
                for type_id in type_ids:
                    self._assoc_add(portal, f, oid, t, toid, type_id)
            except LookupError as exc:
                return self._not_found(str(exc))
            except ValueError as exc:
                return self._validation(str(exc))
        return None

    def assoc_v4_put_default(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, **_: str
    ) -> Response:
        f, t = resolve_type(otype), resolve_type(totype)
        if f is None or t is None or (f, t) not in DEFAULT_ASSOC:
            return self._validation(f"No default association from {otype} to {totype}")
        started = _ts(self.clock.now())
        type_id = DEFAULT_ASSOC[(f, t)]
        stop = self._assoc_write(request, otype, oid, totype, toid, [type_id])
        if stop:
            return stop
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
                "completedAt": _ts(self.clock.now()),
            }
        )

    def assoc_v4_put(
        self, request: Request, otype: str, oid: str, totype: str, toid: str, **_: str
    ) -> Response:
        body, bad = self._body(request)
        if bad:
            return bad
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
        stop = self._assoc_write(request, otype, oid, totype, toid, type_ids)
        if stop:
            return stop
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
        stop = self._assoc_write(request, otype, oid, totype, toid, [type_id])
        if stop:
            return stop
        with self.lock:
            portal = self._portal(request)
            rec = self._find(portal, f, oid)
            assert rec is not None
            return json_response(self._out(portal, f, rec, assoc=[t]))

    def _assoc_delete(self, request: Request, otype: str, oid: str, totype: str, toid: str) -> Response:
        f, t, stop = self._assoc_prelude(request, otype, totype, write=True)
        if stop:
            return stop
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
        f, t, stop = self._assoc_prelude(request, otype, totype)
        if stop:
            return stop
        started = _ts(self.clock.now())
        body, bad = self._body(request)
        if bad:
            return bad
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return self._validation("The request body must have an inputs list")
        inputs = body["inputs"]
        if len(inputs) > ASSOC_BATCH_LIMIT:
            return self._validation(
                f"Batch input limit exceeded: {len(inputs)} inputs, the limit is {ASSOC_BATCH_LIMIT}."
            )
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
        f, t, stop = self._assoc_prelude(request, otype, totype)
        if stop:
            return stop
        return json_response(
            {
                "results": [
                    {"category": "HUBSPOT_DEFINED", "typeId": tid, "label": spec[3]}
                    for tid, spec in ASSOC_BY_ID.items()
                    if (spec[0], spec[1]) == (f, t)
                ]
            }
        )

    # --- properties API ------------------------------------------------------------------------
    def _props_prelude(self, request: Request, otype: str, *, write: bool) -> tuple[str, Response | None]:
        t = resolve_type(otype)
        if t is None:
            return "", self._bad_type(otype)
        return t, self._need(request, self._schema_write_scopes(t) if write else self._schema_read_scopes(t))

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
        if merged["fieldType"] not in _FIELD_TYPES_BY_TYPE[merged["type"]]:
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
        ts = _ts(self.clock.now())
        pdef = _prop_def(
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
        t, stop = self._props_prelude(request, otype, write=False)
        if stop:
            return stop
        archived = request.args.get("archived") == "true"
        with self.lock:
            defs = self._portal(request)["properties"][t].values()
            return json_response({"results": [copy.deepcopy(d) for d in defs if d["archived"] == archived]})

    def props_get(self, request: Request, otype: str, pname: str, **_: str) -> Response:
        t, stop = self._props_prelude(request, otype, write=False)
        if stop:
            return stop
        with self.lock:
            pdef = self._portal(request)["properties"][t].get(pname)
            if pdef is None or pdef["archived"]:
                return self._not_found(f"Unable to find property {pname} for object type {t}")
            return json_response(copy.deepcopy(pdef))

    def props_create(self, request: Request, otype: str, **_: str) -> Response:
        t, stop = self._props_prelude(request, otype, write=True)
        if stop:
            return stop
        body, bad = self._body(request)
        if bad:
            return bad
        with self.lock:
            portal = self._portal(request)
            problem = self._check_property(portal, t, body)
            if problem:
                return self._validation(problem)
            existing = portal["properties"][t].get(body["name"])
            if existing is not None and not existing["archived"]:
                return self._conflict(f"A property named '{body['name']}' already exists.", body["name"])
            return json_response(copy.deepcopy(self._new_property(portal, t, body)), 201)

    def props_batch(self, request: Request, otype: str, op: str, **_: str) -> Response:
        t, stop = self._props_prelude(request, otype, write=op == "create")
        if stop:
            return stop
        started = _ts(self.clock.now())
        body, bad = self._body(request)
        if bad:
            return bad
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            return self._validation("The request body must have an inputs list")
        inputs = body["inputs"]
        if len(inputs) > BATCH_LIMIT:
            return self._validation(
                f"Batch input limit exceeded: {len(inputs)} inputs, the limit is {BATCH_LIMIT}."
            )
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
                problem = self._check_property(portal, t, item)
                if problem:
                    return self._validation(problem)
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
        t, stop = self._props_prelude(request, otype, write=True)
        if stop:
            return stop
        body, bad = self._body(request)
        if bad:
            return bad
        with self.lock:
            portal = self._portal(request)
            pdef = portal["properties"][t].get(pname)
            if pdef is None or pdef["archived"]:
                return self._not_found(f"Unable to find property {pname} for object type {t}")
            if pdef["hubspotDefined"]:
                return self._validation(f"{pname} is a HubSpot-defined property and cannot be modified")
            if not isinstance(body, dict) or ("name" in body and body["name"] != pname):
                return self._validation("The body must be an object and cannot rename the property")
            problem = self._check_property(portal, t, body, existing=pdef)
            if problem:
                return self._validation(problem)
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
            pdef["updatedAt"] = _ts(self.clock.now())
            return json_response(copy.deepcopy(pdef))

    def props_archive(self, request: Request, otype: str, pname: str, **_: str) -> Response:
        t, stop = self._props_prelude(request, otype, write=True)
        if stop:
            return stop
        with self.lock:
            pdef = self._portal(request)["properties"][t].get(pname)
            if pdef is None or pdef["archived"]:
                return self._not_found(f"Unable to find property {pname} for object type {t}")
            if pdef["hubspotDefined"]:
                return self._validation(f"{pname} is a HubSpot-defined property and cannot be archived")
            pdef["archived"] = True
            pdef["archivedAt"] = _ts(self.clock.now())
        return Response(status=204)

    def groups_list(self, request: Request, otype: str, **_: str) -> Response:
        t, stop = self._props_prelude(request, otype, write=False)
        if stop:
            return stop
        with self.lock:
            groups = self._portal(request)["groups"][t].values()
            return json_response({"results": [copy.deepcopy(g) for g in groups if not g["archived"]]})

    def groups_get(self, request: Request, otype: str, gname: str, **_: str) -> Response:
        t, stop = self._props_prelude(request, otype, write=False)
        if stop:
            return stop
        with self.lock:
            group = self._portal(request)["groups"][t].get(gname)
            if group is None or group["archived"]:
                return self._not_found(f"Unable to find property group {gname}")
            return json_response(copy.deepcopy(group))

    def groups_create(self, request: Request, otype: str, **_: str) -> Response:
        t, stop = self._props_prelude(request, otype, write=True)
        if stop:
            return stop
        body, bad = self._body(request)
        if bad:
            return bad
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
        t, stop = self._props_prelude(request, otype, write=True)
        if stop:
            return stop
        body, bad = self._body(request)
        if bad:
            return bad
        if not isinstance(body, dict):
            return self._validation("The body must be an object")
        with self.lock:
            group = self._portal(request)["groups"][t].get(gname)
            if group is None or group["archived"]:
                return self._not_found(f"Unable to find property group {gname}")
            if "label" in body:
                group["label"] = str(body["label"])
            if "displayOrder" in body:
                group["displayOrder"] = int(body["displayOrder"])
            return json_response(copy.deepcopy(group))

    def groups_archive(self, request: Request, otype: str, gname: str, **_: str) -> Response:
        t, stop = self._props_prelude(request, otype, write=True)
        if stop:
            return stop
        with self.lock:
            group = self._portal(request)["groups"][t].get(gname)
            if group is None or group["archived"]:
                return self._not_found(f"Unable to find property group {gname}")
            group["archived"] = True
        return Response(status=204)

    # --- Python API (tests, benchmarks, demo) --------------------------------------------------
    def create_portal(
        self,
        portal_id: int,
        *,
        domain: str | None = None,
        name: str | None = None,
        users: Iterable[tuple[int, str]] | None = None,
        currency: str = "EUR",
    ) -> dict[str, Any]:
        """A portal with HubSpot's standard properties and groups, not installed. Returns a copy."""
        user_list = (
            list(users)
            if users is not None
            else [(int(portal_id) % 100000 + 1, f"admin@{portal_id}.example")]
        )
        with self.lock:
            if str(portal_id) in self.state["portals"]:
                raise ValueError(f"portal {portal_id} already exists")
            portal: dict[str, Any] = {
                "id": int(portal_id),
                "domain": domain or f"portal-{portal_id}.hubspot.com",
                "name": name or f"Portail {portal_id}",
                "currency": currency,
                "time_zone": "Europe/Paris",
                "users": {str(uid): {"id": int(uid), "email": email} for uid, email in user_list},
                "installer_user_id": int(user_list[0][0]),
                "installed": False,
                "install_gen": 0,
                "installed_at": None,
                "uninstalled_at": None,
                "scopes": [],
                "objects": {t: {} for t in OBJECT_TYPE_IDS},
                "assoc": {},
                "properties": {t: _standard_properties(t) for t in OBJECT_TYPE_IDS},
                "groups": {
                    t: {g: {"name": g, "label": label, "displayOrder": -1, "archived": False}}
                    for t, (g, label) in DEFAULT_GROUPS.items()
                },
                "tax_rates": {},
            }
            self.state["portals"][str(portal_id)] = portal
            return copy.deepcopy(
                {k: v for k, v in portal.items() if k not in ("objects", "assoc", "properties")}
            )

    def install(
        self, portal_id: int, scopes: Iterable[str] | None = None, *, user_id: int | None = None
    ) -> tuple[str, str]:
        """Install the app without the browser: returns (access_token, refresh_token)."""
        granted = sorted(DECLARED_SCOPES) if scopes is None else list(scopes)
        with self.lock:
            portal = self._get_portal(portal_id)
            uid = int(user_id if user_id is not None else portal["installer_user_id"])
            self._mark_installed(portal, uid, granted)
            return self._issue(portal, uid, granted)

    def uninstall(self, portal_id: int) -> None:
        """The portal uninstalls the app: refresh → invalid_grant, API calls → 401."""
        with self.lock:
            self._uninstall(self._get_portal(portal_id))

    def expire_tokens(self, portal_id: int) -> int:
        """Expire every access token of the portal now. Returns how many."""
        now = self.clock.now().timestamp()
        n = 0
        with self.lock:
            for info in self.state["access_tokens"].values():
                if info["portal"] == str(portal_id) and info["expires_at"] > now:
                    info["expires_at"] = now - 1
                    n += 1
        return n

    def is_installed(self, portal_id: int) -> bool:
        with self.lock:
            return bool(self._get_portal(portal_id)["installed"])

    def set_rotate_refresh_tokens(self, rotate: bool) -> None:
        """When on, a refresh returns a new refresh token and the old one stops working."""
        with self.lock:
            self.state["settings"]["rotate_refresh_tokens"] = bool(rotate)

    def set_notes_require_contacts_scope(self, strict: bool) -> None:
        """Strict (default): creating a note needs ``crm.objects.contacts.write``, as HubSpot's notes
        docs say. Lenient: ``crm.objects.deals.write`` is enough too."""
        with self.lock:
            self.state["settings"]["notes_require_contacts_scope"] = bool(strict)

    def create_object(
        self,
        portal_id: int,
        otype: str,
        properties: dict[str, Any] | None = None,
        *,
        object_id: str | None = None,
    ) -> dict[str, Any]:
        t = resolve_type(otype)
        if t is None:
            raise ValueError(f"unknown object type {otype}")
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
        t = resolve_type(otype)
        if t is None:
            raise ValueError(f"unknown object type {otype}")
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

    def create_company(
        self,
        portal_id: int,
        properties: dict[str, Any] | None = None,
        *,
        object_id: str | None = None,
        **props: Any,
    ) -> dict[str, Any]:
        return self.create_object(
            portal_id, "companies", {**(properties or {}), **props}, object_id=object_id
        )

    def create_contact(
        self,
        portal_id: int,
        properties: dict[str, Any] | None = None,
        *,
        object_id: str | None = None,
        **props: Any,
    ) -> dict[str, Any]:
        return self.create_object(portal_id, "contacts", {**(properties or {}), **props}, object_id=object_id)

    def create_deal(
        self,
        portal_id: int,
        properties: dict[str, Any] | None = None,
        *,
        company_id: str | None = None,
        line_items: Iterable[dict[str, Any]] = (),
        object_id: str | None = None,
        **props: Any,
    ) -> dict[str, Any]:
        """A deal, its primary company (typeId 5, plus the unlabeled 341) and its line items."""
        values = {"deal_currency_code": "EUR", **(properties or {}), **props}
        deal = self.create_object(portal_id, "deals", values, object_id=object_id)
        if company_id is not None:
            self.associate(portal_id, "deals", deal["id"], "companies", str(company_id), 5)
        for item in line_items:
            item = dict(item)
            item_id = item.pop("id", None)
            self.create_line_item(portal_id, deal["id"], item, object_id=item_id)
        return self.get_object(portal_id, "deals", deal["id"]) or deal

    def create_line_item(
        self,
        portal_id: int,
        deal_id: str | None,
        properties: dict[str, Any] | None = None,
        *,
        object_id: str | None = None,
        **props: Any,
    ) -> dict[str, Any]:
        """A line item (amount computed from quantity, price and discounts) under ``deal_id``."""
        values = {**(properties or {}), **props}
        if "price" not in values and values.get("amount") not in (None, ""):
            qty = _dec(str(values.get("quantity") or 1), Decimal(1))
            values["price"] = _money(Decimal(str(values["amount"])) / qty)
        item = self.create_object(portal_id, "line_items", values, object_id=object_id)
        if deal_id is not None:
            self.associate(portal_id, "deals", str(deal_id), "line_items", item["id"], 19)
        return self.get_object(portal_id, "line_items", item["id"]) or item

    def get_object(
        self, portal_id: int, otype: str, object_id: str, *, archived: bool = False
    ) -> dict[str, Any] | None:
        """The record with every stored property and all its associations (ids per type), or None."""
        t = resolve_type(otype)
        if t is None:
            raise ValueError(f"unknown object type {otype}")
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

    def bulk_create_deals(
        self,
        portal_id: int,
        n: int,
        *,
        company_id: str | None = None,
        amount: str = "1000",
        name_prefix: str = "Deal de charge",
        dealstage: str = "closedwon",
    ) -> list[str]:
        """``n`` deals in one go (no validation, no line items): fast enough for 10,000."""
        with self.lock:
            portal = self._get_portal(portal_id)
            objects = portal["objects"]["deals"]
            ids: list[str] = []
            ts = _ts(self.clock.tick())
            for i in range(n):
                oid = self._next_id("deals")
                objects[oid] = {
                    "id": oid,
                    "properties": {
                        "dealname": f"{name_prefix} {i + 1}",
                        "amount": amount,
                        "deal_currency_code": portal.get("currency", "EUR"),
                        "pipeline": "default",
                        "dealstage": dealstage,
                        "createdate": ts,
                        "hs_lastmodifieddate": ts,
                        "hs_object_id": oid,
                    },
                    "createdAt": ts,
                    "updatedAt": ts,
                    "archived": False,
                    "archivedAt": None,
                }
                if company_id is not None:
                    self._assoc_add(portal, "deals", oid, "companies", str(company_id), 5)
                ids.append(oid)
            return ids

    def delete_deal(self, portal_id: int, deal_id: str) -> bool:
        """The deal is deleted in HubSpot (archived: reads answer 404, search skips it)."""
        with self.lock:
            return self._archive(self._get_portal(portal_id), "deals", str(deal_id))

    def notes_for_deal(self, portal_id: int, deal_id: str) -> list[dict[str, Any]]:
        with self.lock:
            portal = self._get_portal(portal_id)
            notes = portal["objects"]["notes"]
            ids = self._assoc_targets(portal, "deals", str(deal_id), "notes")
            return [self._out(portal, "notes", notes[i], all_props=True) for i in sorted(ids, key=int)]

    def add_tax_rate(
        self,
        portal_id: int,
        name: str,
        percentage: float | int,
        *,
        rate_id: str | None = None,
        active: bool = True,
    ) -> dict[str, Any]:
        with self.lock:
            portal = self._get_portal(portal_id)
            rid = str(rate_id) if rate_id is not None else self._next_id("tax_rates")
            ts = _ts(self.clock.now())
            pct: float | int = int(percentage) if float(percentage).is_integer() else float(percentage)
            rate = {
                "id": rid,
                "name": name,
                "label": name,
                "percentageRate": pct,
                "active": active,
                "createdAt": ts,
                "updatedAt": ts,
            }
            portal["tax_rates"][rid] = rate
            return dict(rate)

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
        t = resolve_type(otype)
        if t is None:
            raise ValueError(f"unknown object type {otype}")
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

    def calls(
        self, portal_id: int, *, method: str | None = None, path_contains: str | None = None
    ) -> list[LoggedRequest]:
        """The HubSpot API requests logged for the portal (its bearer token or OAuth token)."""
        return [
            e
            for e in self.sandbox.log.entries(self.name)
            if e.portal == str(portal_id)
            and (method is None or e.method == method.upper())
            and (path_contains is None or path_contains in e.path)
        ]

    def webhook_event(
        self, portal_id: int, subscription_type: str, object_id: str | int, **extra: Any
    ) -> dict[str, Any]:
        """One webhook event with HubSpot's fields (eventId, subscriptionId, occurredAt in ms, …)."""
        return {
            "eventId": self.ids.sequence("hubspot:webhook-event", start=1000000001),
            "subscriptionId": 2500001,
            "portalId": int(portal_id),
            "appId": int(self.config.hubspot_app_id),
            "occurredAt": int(self.clock.now().timestamp() * 1000),
            "subscriptionType": subscription_type,
            "attemptNumber": 0,
            "objectId": int(object_id),
            "changeSource": "CRM_UI",
            "changeFlag": extra.pop(
                "changeFlag", "DELETED" if subscription_type.endswith(".deletion") else "UPDATED"
            ),
            "sourceId": "userId:7001",
            **extra,
        }

    def send_webhook(self, events: list[dict[str, Any]], url: str | None = None) -> requests.Response:
        """POST a signed webhook batch to our product (default: connector_base_url + /hubspot/webhooks)."""
        target = url or f"{self.config.connector_base_url.rstrip('/')}/hubspot/webhooks"
        return post_webhook(target, events, client_secret=self.config.hubspot_client_secret)

    # --- demo data -----------------------------------------------------------------------------
    def seed_demo(self) -> None:
        with self.lock:
            if str(demo.PORTAL_ID) in self.state["portals"]:
                return
        self.create_portal(
            demo.PORTAL_ID,
            domain=demo.HUB_DOMAIN,
            name="Agence Démo",
            users=[(demo.INSTALLER_USER_ID, demo.INSTALLER_EMAIL), (demo.SALES_USER_ID, demo.SALES_EMAIL)],
        )
        self.create_portal(
            demo.OTHER_PORTAL_ID,
            domain=demo.OTHER_HUB_DOMAIN,
            name="Autre Portail",
            users=[(8001, demo.OTHER_INSTALLER_EMAIL)],
        )
        p = demo.PORTAL_ID
        for portal_id in (demo.PORTAL_ID, demo.OTHER_PORTAL_ID):
            self.add_tax_rate(portal_id, "TVA 20 %", 20, rate_id=DEMO_TAX_RATE_IDS["20"])
            self.add_tax_rate(portal_id, "TVA 10 %", 10, rate_id=DEMO_TAX_RATE_IDS["10"])
            self.add_tax_rate(portal_id, "TVA 5,5 %", 5.5, rate_id=DEMO_TAX_RATE_IDS["5.5"])
            self.add_tax_rate(portal_id, "TVA 2,1 %", 2.1, rate_id=DEMO_TAX_RATE_IDS["2.1"])
            self.add_tax_rate(
                portal_id, "Ancien taux 19,6 %", 19.6, rate_id=DEMO_TAX_RATE_IDS["19.6"], active=False
            )
            # The portal "already had" a SIRET property: tenants may pick it instead of qonto_siret.
            self.define_property(portal_id, "companies", "siret", label="SIRET")
        self.create_company(
            p,
            object_id=demo.COMPANY_COMPLETE_ID,
            name="ACME Industrie SAS",
            domain="acme-industrie.fr",
            address="12 rue de la Paix",
            address2="Bâtiment B, 3e étage",
            city="Paris",
            zip="75002",
            country="France",
            phone="+33 1 23 45 67 89",
            siret=demo.COMPLETE_SIRET,
        )
        self.create_company(
            p,
            object_id=demo.COMPANY_NO_SIRET_ID,
            name="Boulangerie Élise",
            address="3 place du Marché",
            city="Lyon",
            zip="69002",
            country="France",
        )
        self.create_company(
            p,
            object_id=demo.COMPANY_FOREIGN_ID,
            name="Brüssel Consulting SPRL",
            address="Avenue Louise 54",
            city="Bruxelles",
            zip="1000",
            country="Belgique",
        )
        contact = self.create_contact(
            p,
            object_id=DEMO_CONTACT_ID,
            firstname="Claire",
            lastname="Martin",
            email="claire.martin@acme-industrie.fr",
        )
        self.associate(p, "contacts", contact["id"], "companies", demo.COMPANY_COMPLETE_ID, 1)
        closedate = "2026-11-20T10:00:00Z"
        # 7000 + 1800 + 1800 + 1400 = 12000, the deal amount.
        self.create_deal(
            p,
            object_id=demo.DEAL_COMPLETE_ID,
            company_id=demo.COMPANY_COMPLETE_ID,
            dealname="Refonte site – Agence & Co",
            amount="12000",
            dealstage="closedwon",
            closedate=closedate,
            line_items=[
                {
                    "id": DEMO_LINE_ITEM_IDS[0],
                    "name": "Conception et développement du site vitrine responsive (pages éditoriales)",
                    "quantity": "1",
                    "price": "7000.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["20"],
                    "hs_position_on_quote": "0",
                },
                {
                    "id": DEMO_LINE_ITEM_IDS[1],
                    "name": "Formation à l'outil d'édition",
                    "quantity": "2",
                    "price": "1000.00",
                    "hs_discount_percentage": "10",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["20"],
                    "hs_position_on_quote": "1",
                },
                {
                    "id": DEMO_LINE_ITEM_IDS[2],
                    "name": "Hébergement et maintenance (12 mois)",
                    "quantity": "12",
                    "price": "150.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["10"],
                    "hs_position_on_quote": "2",
                },
                {
                    "id": DEMO_LINE_ITEM_IDS[3],
                    "name": "Guide utilisateur imprimé",
                    "quantity": "10",
                    "price": "140.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["5.5"],
                    "hs_position_on_quote": "3",
                },
            ],
        )
        self.associate(p, "deals", demo.DEAL_COMPLETE_ID, "contacts", contact["id"], 3)
        self.create_deal(
            p,
            object_id=demo.DEAL_AMOUNT_ONLY_ID,
            company_id=demo.COMPANY_COMPLETE_ID,
            dealname="Audit SEO trimestriel",
            amount="2400",
            dealstage="contractsent",
            closedate=closedate,
        )
        self.create_deal(
            p,
            object_id=demo.DEAL_NO_SIRET_ID,
            company_id=demo.COMPANY_NO_SIRET_ID,
            dealname="Site e-commerce – Boulangerie Élise",
            amount="3500",
            dealstage="closedwon",
            closedate=closedate,
            line_items=[
                {
                    "id": DEMO_LINE_ITEM_IDS[4],
                    "name": "Boutique en ligne clé en main",
                    "quantity": "1",
                    "price": "3500.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["20"],
                }
            ],
        )
        self.create_deal(
            p,
            object_id=demo.DEAL_FOREIGN_ID,
            company_id=demo.COMPANY_FOREIGN_ID,
            dealname="Mission de conseil – Bruxelles",
            amount="5000",
            dealstage="closedwon",
            closedate=closedate,
            line_items=[
                {
                    "id": DEMO_LINE_ITEM_IDS[5],
                    "name": "Atelier stratégie digitale (5 jours)",
                    "quantity": "5",
                    "price": "1000.00",
                    "hs_tax_rate_group_id": DEMO_TAX_RATE_IDS["20"],
                }
            ],
        )
        o = demo.OTHER_PORTAL_ID
        self.create_company(
            o,
            object_id=OTHER_COMPANY_ID,
            name="Société Autre SARL",
            address="8 quai des Chartrons",
            city="Bordeaux",
            zip="33000",
            country="France",
            siret="55210055400013",
        )
        self.create_deal(
            o,
            object_id=OTHER_DEAL_ID,
            company_id=OTHER_COMPANY_ID,
            dealname="Projet de l'autre portail",
            amount="1500",
            dealstage="closedwon",
            closedate=closedate,
            line_items=[
                {"id": DEMO_LINE_ITEM_IDS[6], "name": "Prestation", "quantity": "1", "price": "1500.00"}
            ],
        )

    # --- control routes (/_sim/hubspot/...) ------------------------------------------------------
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


DEMO_TAX_RATE_IDS: dict[str, str] = {
    "20": "10000001",
    "10": "10000002",
    "5.5": "10000003",
    "2.1": "10000004",
    "19.6": "10000005",
}
DEMO_LINE_ITEM_IDS = [f"4010000000{i}" for i in range(1, 8)]
DEMO_CONTACT_ID = "20100000000"
OTHER_COMPANY_ID = "30100000011"
OTHER_DEAL_ID = "51200000011"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def request_flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _paging(args: Any, *, default: int, maximum: int) -> tuple[int, int, str | None]:
    try:
        limit = int(args.get("limit", default))
        offset = int(args.get("after") or 0)
    except ValueError:
        return 0, 0, "limit and after must be integers"
    if limit < 1 or offset < 0:
        return 0, 0, "limit must be positive"
    return min(limit, maximum), offset, None


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


# --- The web app: consent page, deal page with our card, card-fetch proxy ----------------------


class HubSpotWebApp(Provider):
    """``app.hubspot.com`` stand-in under ``/hubspot-app``, sharing ``HubSpotApi``'s state."""

    name = "hubspot_web"
    prefix = "/hubspot-app"
    rules = [
        Rule("/", endpoint="index", methods=["GET"]),
        Rule("/oauth/authorize", endpoint="authorize", methods=["GET"]),
        Rule("/oauth/<int:portal_id>/authorize", endpoint="authorize", methods=["GET"]),
        Rule("/oauth/authorize/decision", endpoint="decision", methods=["POST"]),
        Rule("/contacts/<int:portal_id>/record/0-3/<deal_id>", endpoint="deal_page", methods=["GET"]),
        Rule(
            "/contacts/<int:portal_id>/record/0-3/<deal_id>/properties.json",
            endpoint="deal_props",
            methods=["GET"],
        ),
        Rule("/_card-fetch", endpoint="card_fetch", methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
    ]
    control_rules = [Rule("/card-settings", endpoint="ctl_card_settings", methods=["GET", "POST"])]

    def __init__(self, sandbox: Sandbox, api: HubSpotApi) -> None:
        super().__init__(sandbox)
        self.api = api
        self.lock = api.lock  # one lock for the shared state
        self._inflight: dict[str, int] = {}
        self._inflight_lock = threading.Lock()
        self.card_settings: dict[str, Any] = dict(_CARD_DEFAULTS)

    def reset(self) -> None:
        self.card_settings = dict(_CARD_DEFAULTS)

    def portal_of(self, request: Request) -> str | None:
        match = re.match(r"^/hubspot-app/(?:contacts|oauth)/(\d+)/", request.path)
        if match:
            return match.group(1)
        return request.args.get("portalId") or None

    # --- OAuth consent -------------------------------------------------------------------------
    def _check_authorize(self, values: Any) -> tuple[list[str], list[str], str | None]:
        """(required scopes asked, optional scopes asked, error message)."""
        if values.get("client_id") != self.config.hubspot_client_id:
            return [], [], "Cette application n'existe pas (client_id inconnu)."
        if values.get("redirect_uri") not in self.config.hubspot_redirect_uris:
            return [], [], "L'URL de redirection ne correspond à aucune URL déclarée par l'application."
        scopes = [s for s in re.split(r"[\s+]+", values.get("scope", "")) if s]
        optional = [s for s in re.split(r"[\s+]+", values.get("optional_scope", "")) if s]
        undeclared = [s for s in scopes + optional if s not in DECLARED_SCOPES]
        if undeclared:
            return (
                [],
                [],
                "Les autorisations demandées ne correspondent pas à celles de l'application : "
                + ", ".join(undeclared),
            )
        missing = [s for s in APP_SCOPES["required"] if s not in scopes]
        if missing:
            return [], [], "Autorisations obligatoires absentes de la demande : " + ", ".join(missing)
        return scopes, optional, None

    def _error_page(self, message: str, status: int = 400) -> Response:
        body = tpl.render(tpl.ERROR_PAGE, message=message)
        return Response(body, status=status, content_type="text/html; charset=utf-8")

    def authorize(self, request: Request, portal_id: int | None = None) -> Response:
        scopes, optional, error = self._check_authorize(request.args)
        if error:
            return self._error_page(error)
        with self.lock:
            portals = list(self.api.state["portals"].values())
            if portal_id is not None and str(portal_id) not in self.api.state["portals"]:
                return self._error_page(f"Le compte HubSpot {portal_id} n'existe pas.", 404)
            selected = portal_id or (
                demo.PORTAL_ID if str(demo.PORTAL_ID) in self.api.state["portals"] else None
            )
            options_html = "".join(
                '<option value="{id}"{sel}>{name} ({id}) — {domain}</option>'.format(
                    id=p["id"],
                    sel=" selected" if p["id"] == selected else "",
                    name=html.escape(p["name"]),
                    domain=html.escape(p["domain"]),
                )
                for p in portals
            )
        scope_items = "".join(
            "<li><code>{s}</code> {label}{opt}</li>".format(
                s=html.escape(s),
                label=html.escape(SCOPE_LABELS_FR.get(s, "")),
                opt=' <span class="optional">(facultatif)</span>'
                if s in optional and s not in scopes
                else "",
            )
            for s in list(dict.fromkeys(scopes + optional))
        )
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(request.args.get(k, ""))}">'
            for k in ("client_id", "redirect_uri", "scope", "optional_scope", "state")
        )
        body = tpl.render(
            tpl.CONSENT_PAGE,
            app_name="Qonto Connector",
            portal_options_html=options_html,
            scopes_html=scope_items,
            hidden_html=hidden,
            action=f"{self.prefix}/oauth/authorize/decision",
        )
        return Response(body, content_type="text/html; charset=utf-8")

    def decision(self, request: Request) -> Response:
        form = request.form
        scopes, optional, error = self._check_authorize(form)
        if error:
            return self._error_page(error)
        redirect_uri = form["redirect_uri"]
        state = form.get("state")
        if form.get("action") != "install":
            return _redirect(
                redirect_uri,
                {
                    "error": "access_denied",
                    "error_description": "The user refused to install the app",
                    "state": state,
                },
            )
        with self.lock:
            portal = self.api.state["portals"].get(form.get("portal_id", ""))
            if portal is None:
                return self._error_page("Choisissez un compte HubSpot.")
            code = self.ids.uuid()
            self.api.state["codes"][code] = {
                "portal": str(portal["id"]),
                "user_id": portal["installer_user_id"],
                "scopes": sorted(set(scopes) | set(optional)),
                "redirect_uri": redirect_uri,
                "client_id": form["client_id"],
                "expires_at": self.clock.now().timestamp() + AUTH_CODE_TTL_S,
            }
        return _redirect(redirect_uri, {"code": code, "state": state})

    # --- demo pages ----------------------------------------------------------------------------
    def index(self, request: Request) -> Response:
        sections = []
        with self.lock:
            for p in self.api.state["portals"].values():
                deals = sorted(
                    (d for d in p["objects"]["deals"].values() if not d["archived"]),
                    key=lambda d: int(d["id"]),
                )
                rows = "".join(
                    '<li><a href="{href}">{name}</a> '
                    '<span class="muted">{amount} {cur} · #{id}</span></li>'.format(
                        href=f"{self.prefix}/contacts/{p['id']}/record/0-3/{d['id']}",
                        name=html.escape(d["properties"].get("dealname", "(sans nom)")),
                        amount=html.escape(d["properties"].get("amount", "")),
                        cur=html.escape(d["properties"].get("deal_currency_code", "")),
                        id=d["id"],
                    )
                    for d in deals[:50]
                )
                more = f'<p class="muted">… et {len(deals) - 50} autres</p>' if len(deals) > 50 else ""
                status = "installée" if p["installed"] else "non installée"
                sections.append(
                    f'<section class="panel"><h2>{html.escape(p["name"])} <span class="muted">'
                    f"({p['id']} · {html.escape(p['domain'])})</span></h2>"
                    f"<p>Application : <strong>{status}</strong></p>"
                    f'<ul class="deals">{rows}</ul>{more}</section>'
                )
        install_url = f"{self.config.connector_base_url.rstrip('/')}/hubspot/install"
        body = tpl.render(tpl.INDEX_PAGE, portals_html="".join(sections), install_url=install_url)
        return Response(body, content_type="text/html; charset=utf-8")

    def _deal_snapshot(self, portal: dict[str, Any], deal: dict[str, Any]) -> dict[str, Any]:
        defs = portal["properties"]["deals"]
        stored = deal["properties"]
        shown = ["dealname", "amount", "deal_currency_code", "dealstage", "closedate", "pipeline"]
        shown += sorted(n for n, d in defs.items() if n.startswith("qonto_") and not d["archived"])
        shown += sorted(n for n in stored if n not in shown and n not in _always("deals"))
        company = None
        company_ids = self.api._assoc_targets(portal, "deals", deal["id"], "companies")
        primary = next((cid for cid, tids in company_ids.items() if 5 in tids), None)
        if primary:
            c = portal["objects"]["companies"][primary]["properties"]
            company = {"id": primary, "name": c.get("name"), "country": c.get("country")}
        stage_labels = {o["value"]: o["label"] for o in defs["dealstage"]["options"]}
        return {
            "id": deal["id"],
            "properties": [
                {
                    "name": n,
                    "label": DEAL_LABELS_FR.get(n) or (defs[n]["label"] if n in defs else n),
                    "value": stage_labels.get(stored.get(n, ""), stored.get(n))
                    if n == "dealstage"
                    else stored.get(n),
                }
                for n in shown
            ],
            "company": company,
            "updatedAt": deal["updatedAt"],
        }

    def deal_props(self, request: Request, portal_id: int, deal_id: str) -> Response:
        with self.lock:
            portal = self.api.state["portals"].get(str(portal_id))
            deal = portal["objects"]["deals"].get(deal_id) if portal else None
            if portal is None or deal is None or deal["archived"]:
                return json_response({"error": "not found"}, 404)
            return json_response(self._deal_snapshot(portal, deal))

    def deal_page(self, request: Request, portal_id: int, deal_id: str) -> Response:
        with self.lock:
            portal = self.api.state["portals"].get(str(portal_id))
            deal = portal["objects"]["deals"].get(deal_id) if portal else None
            if portal is None or deal is None or deal["archived"]:
                return self._error_page("Cette transaction n'existe pas ou a été supprimée.", 404)
            try:
                user_id = int(request.args.get("userId") or portal["installer_user_id"])
            except ValueError:
                user_id = portal["installer_user_id"]
            user = portal["users"].get(str(user_id)) or portal["users"][str(portal["installer_user_id"])]
            snapshot = self._deal_snapshot(portal, deal)
            ctx = {
                "portalId": portal["id"],
                "portalName": portal["name"],
                "dealId": deal["id"],
                "userId": user["id"],
                "userEmail": user["email"],
                "appId": self.config.hubspot_app_id,
                "proxyUrl": f"{self.prefix}/_card-fetch",
                "propertiesUrl": f"{self.prefix}/contacts/{portal['id']}/record/0-3/{deal['id']}"
                "/properties.json",
                "indexUrl": f"{self.prefix}/",
                "deal": snapshot,
            }
            title = deal["properties"].get("dealname") or f"Transaction {deal['id']}"
        body = tpl.render(
            tpl.DEAL_PAGE,
            title=title,
            portal_name=ctx["portalName"],
            user_email=ctx["userEmail"],
            ctx_json_html=tpl.json_for_script(ctx),
        )
        return Response(body, content_type="text/html; charset=utf-8")

    # --- hubspot.fetch stand-in ----------------------------------------------------------------
    def card_fetch(self, request: Request) -> Response:
        path = request.args.get("path", "")
        if not path.startswith("/") or path.startswith("//"):
            return _card_error(400, "bad_path", "path must be an absolute path on our backend")
        method = request.method.upper()
        with self.lock:
            portal = self.api.state["portals"].get(request.args.get("portalId", ""))
            if portal is None:
                return _card_error(400, "unknown_portal", "portalId names no sandbox portal")
            user_id = request.args.get("userId") or str(portal["installer_user_id"])
            user = portal["users"].get(user_id)
            if user is None:
                return _card_error(400, "unknown_user", "userId names no user of the portal")
            portal_key = str(portal["id"])
        raw = b""
        if method in ("POST", "PUT", "PATCH"):
            raw = request.get_data(cache=True)
            if len(raw) > CARD_FETCH_MAX_BYTES:
                return _card_error(413, "request_too_large", "hubspot.fetch bodies are limited to 1 MB")
            try:
                parsed_body = json.loads(raw.decode("utf-8")) if raw else {}
            except (ValueError, UnicodeDecodeError):
                return _card_error(400, "bad_body", "hubspot.fetch bodies are JSON objects")
            if not isinstance(parsed_body, dict):
                return _card_error(400, "bad_body", "hubspot.fetch bodies are JSON objects")
            if not raw:
                raw = b"{}"
        split = urllib.parse.urlsplit(path)
        params = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        params += [("portalId", portal_key), ("userId", str(user["id"])), ("userEmail", user["email"])]
        if request.args.get("dealId"):
            params.append(("dealId", request.args["dealId"]))
        params.append(("appId", self.config.hubspot_app_id))
        url = f"{self.config.connector_base_url.rstrip('/')}{split.path}?{urllib.parse.urlencode(params)}"
        with self._inflight_lock:
            if self._inflight.get(portal_key, 0) >= CARD_FETCH_CONCURRENCY:
                return _card_error(
                    429, "too_many_requests", "hubspot.fetch allows 20 concurrent requests per account"
                )
            self._inflight[portal_key] = self._inflight.get(portal_key, 0) + 1
        try:
            return self._forward(method, url, raw)
        finally:
            with self._inflight_lock:
                self._inflight[portal_key] -= 1

    def signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        """The headers HubSpot adds to a card fetch (v2 and v3), per ``card_settings``."""
        secret = self.config.hubspot_client_secret
        mode = self.card_settings["signature_mode"]
        now_ms = int(time.time() * 1000) + int(self.card_settings["timestamp_skew_s"] * 1000)
        if mode == "stale":
            now_ms -= 6 * 60 * 1000
        text = body.decode("utf-8")
        headers = {
            "X-HubSpot-Signature": sign_v2(secret, method, url, text),
            "X-HubSpot-Signature-Version": "v2",
            **v3_headers(secret, method, url, text, now_ms),
        }
        if mode == "bad":
            headers["X-HubSpot-Signature-v3"] = sign_v3(
                "not-the-secret", method, v3_signing_uri(url), text, now_ms
            )
        elif mode == "missing":
            for key in ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp", "X-HubSpot-Signature"):
                headers.pop(key)
        return headers

    def _forward(self, method: str, url: str, body: bytes) -> Response:
        attempts = 2 if self.card_settings["retry_once"] else 1
        upstream: requests.Response | None = None
        for attempt in range(attempts):
            headers = {
                "Accept": "application/json",
                "User-Agent": "HubSpot-UIExtensions-Fetch (sandbox)",
                **self.signed_headers(method, url, body),
            }
            if body:
                headers["Content-Type"] = "application/json"
            try:
                upstream = requests.request(
                    method,
                    url,
                    data=body or None,
                    headers=headers,
                    timeout=float(self.card_settings["timeout_s"]),
                    allow_redirects=False,
                )
            except requests.Timeout:
                return _card_error(
                    504, "timeout", "our backend did not answer within the hubspot.fetch timeout"
                )
            except requests.ConnectionError:
                if attempt + 1 < attempts:
                    continue
                return _card_error(
                    502, "connection_failed", f"could not reach {self.config.connector_base_url}"
                )
            if upstream.status_code >= 500 and attempt + 1 < attempts:
                continue  # HubSpot retries once on 5xx
            break
        assert upstream is not None
        if len(upstream.content) > CARD_FETCH_MAX_BYTES:
            return _card_error(502, "response_too_large", "hubspot.fetch responses are limited to 1 MB")
        return Response(
            upstream.content,
            status=upstream.status_code,
            content_type=upstream.headers.get("Content-Type", "application/json"),
        )

    def ctl_card_settings(self, request: Request) -> Response:
        try:
            body = read_json(request) if request.method == "POST" else None
        except ValueError:
            return json_response({"error": "body is not JSON"}, 400)
        if isinstance(body, dict):
            for key, value in body.items():
                if key not in _CARD_DEFAULTS:
                    return json_response({"error": f"unknown setting {key}"}, 400)
                if key == "signature_mode" and value not in ("valid", "bad", "missing", "stale"):
                    return json_response({"error": "signature_mode: valid | bad | missing | stale"}, 400)
                self.card_settings[key] = value
        return json_response(self.card_settings)


DEAL_LABELS_FR: dict[str, str] = {
    "dealname": "Nom de la transaction",
    "amount": "Montant",
    "deal_currency_code": "Devise",
    "dealstage": "Phase de la transaction",
    "closedate": "Date de fermeture",
    "pipeline": "Pipeline",
    "description": "Description",
    "dealtype": "Type de transaction",
}

_CARD_DEFAULTS: dict[str, Any] = {
    "signature_mode": "valid",  # valid | bad | missing | stale (6 minutes old)
    "timestamp_skew_s": 0,
    "retry_once": True,  # HubSpot retries once on connection failure or 5xx
    "timeout_s": 15,
}


def _redirect(url: str, params: dict[str, Any]) -> Response:
    split = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    query += [(k, str(v)) for k, v in params.items() if v is not None]
    location = urllib.parse.urlunsplit(split._replace(query=urllib.parse.urlencode(query)))
    return Response(status=302, headers={"Location": location})


def _card_error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message, "source": "hubspot_sandbox"}}, status)


__all__ = [
    "APP_SCOPES",
    "DECLARED_SCOPES",
    "HubSpotApi",
    "HubSpotWebApp",
    "post_webhook",
    "sign_v1",
    "sign_v2",
    "sign_v3",
    "v3_headers",
    "v3_signing_uri",
]
