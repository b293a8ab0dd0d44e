"""CRM reads and writes the invoice pipeline and the status sync need, on the 2026-03 paths.

Every function takes a client with ``request(method, path, *, params=None, json=None) -> dict``
(``hubspot_app.client.HubSpotClient``), so the token handling, the rate limiter and the error
mapping live in one place.

Reading one deal costs at most three calls: the deal with its associations, then — in parallel —
the line items (one batch read) and the primary company. Tax-rate groups are resolved from a
per-portal cache (one extra call per hour at most).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.core.cache import cache

from connector.exceptions import HubSpotPermanentError
from connector.invoicing.snapshot import CompanySnapshot, DealSnapshot, LineItemSnapshot
from hubspot_app.properties import VAT_NUMBER_PROPERTY_NAME
from hubspot_app.scopes import TAX_RATES_SCOPE, optional_scope_denied, optional_scope_granted

logger = logging.getLogger(__name__)

OBJECTS = "/crm/objects/2026-03"
ASSOCIATIONS = "/crm/associations/2026-03"
TAX_RATES_PATH = "/tax-rates/2026-03/tax-rates"
TAX_RATES_CACHE_SECONDS = 3600
BATCH_LIMIT = 100

DEAL_READ_PROPERTIES = ("dealname", "amount", "deal_currency_code", "dealstage", "closedate")
LINE_ITEM_PROPERTIES = (
    "name",
    "description",
    "quantity",
    "price",
    "amount",
    "discount",
    "hs_discount_percentage",
    "hs_tax_rate_group_id",
    "hs_line_item_currency_code",
)
COMPANY_PROPERTIES = ("name", "address", "address2", "city", "zip", "country", VAT_NUMBER_PROPERTY_NAME)


class Requester(Protocol):
    tenant: Any  # has .portal_id

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json: Any = None
    ) -> Any: ...


# C0 control characters (but tab and newlines) and DEL: HubSpot accepts them in text properties,
# PostgreSQL refuses NUL in JSON and Qonto has no use for any of them.
_CONTROL = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32), 127])


def _clean(properties: dict[str, Any]) -> dict[str, Any]:
    """Property values with control characters removed (every value HubSpot gives is a string)."""
    return {k: v.translate(_CONTROL) if isinstance(v, str) else v for k, v in properties.items()}


def _assoc_ids(associations: dict[str, Any], *keys: str) -> list[tuple[str, str]]:
    """(id, type) pairs from an ``associations`` block; HubSpot says "line items" (with a space)."""
    for key in keys:
        block = associations.get(key)
        if block:
            return [(str(r.get("id")), str(r.get("type", ""))) for r in block.get("results", [])]
    return []


def _primary_company_id(pairs: list[tuple[str, str]]) -> str | None:
    for company_id, assoc_type in pairs:
        if assoc_type == "deal_to_company":  # the primary association
            return company_id
    return pairs[0][0] if pairs else None


def tax_rates(client: Requester) -> dict[str, Decimal]:
    """Tax-rate group id → percentage (e.g. "20"), cached per portal."""
    key = f"hubspot:tax-rates:{client.tenant.portal_id}"
    cached = cache.get(key)
    if cached is not None:
        return {k: Decimal(v) for k, v in cached.items()}
    rates: dict[str, Decimal] = {}
    # ``tax_rates.read`` is optional: without it (never granted, or refused once and recorded) the
    # lines fall back to the tenant's VAT rate, and we do not call.
    if not optional_scope_granted(client.tenant, TAX_RATES_SCOPE):
        return rates
    try:
        body = client.request("GET", TAX_RATES_PATH) or {}
    except HubSpotPermanentError as exc:
        if exc.code == "hubspot_missing_scopes":
            optional_scope_denied(client.tenant, TAX_RATES_SCOPE, detail=exc.detail or "")
        else:
            logger.info("tax rates unavailable for portal %s: %s", client.tenant.portal_id, exc.code)
        body = {}
    for item in body.get("results", []):
        raw = item.get("percentageRate", item.get("percentage"))
        try:
            rates[str(item.get("id"))] = Decimal(str(raw))
        except (InvalidOperation, TypeError):
            continue
    cache.set(key, {k: str(v) for k, v in rates.items()}, TAX_RATES_CACHE_SECONDS)
    return rates


def _line_item(record: dict[str, Any], rates: dict[str, Decimal]) -> LineItemSnapshot:
    p = _clean(record.get("properties") or {})
    group = p.get("hs_tax_rate_group_id")
    rate = rates.get(str(group)) if group else None
    return LineItemSnapshot(
        id=str(record.get("id")),
        name=p.get("name"),
        description=p.get("description"),
        quantity=p.get("quantity"),
        price=p.get("price"),
        discount=p.get("discount"),
        discount_percentage=p.get("hs_discount_percentage"),
        tax_rate_percent=str(rate) if rate is not None else None,
        currency=p.get("hs_line_item_currency_code"),
    )


def read_deal_snapshot(client: Requester, deal_id: str, *, siret_property: str) -> DealSnapshot:
    """The deal, its line items and its primary company, as raw strings (≤ 3 calls)."""
    # The first call also warms the client's token, which the two parallel calls then share.
    deal = client.request(
        "GET",
        f"{OBJECTS}/deals/{deal_id}",
        params={"properties": ",".join(DEAL_READ_PROPERTIES), "associations": "companies,line_items"},
    )
    props = _clean(deal.get("properties") or {})
    associations = deal.get("associations") or {}
    line_ids = [i for i, _ in _assoc_ids(associations, "line items", "line_items")]
    company_id = _primary_company_id(_assoc_ids(associations, "companies"))
    company_props = [*COMPANY_PROPERTIES, siret_property]

    def fetch_lines() -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for start in range(0, len(line_ids), BATCH_LIMIT):
            body = client.request(
                "POST",
                f"{OBJECTS}/line_items/batch/read",
                json={
                    "inputs": [{"id": i} for i in line_ids[start : start + BATCH_LIMIT]],
                    "properties": list(LINE_ITEM_PROPERTIES),
                },
            )
            records.extend(body.get("results", []))
        order = {i: n for n, i in enumerate(line_ids)}
        return sorted(records, key=lambda r: order.get(str(r.get("id")), 0))

    def fetch_company() -> dict[str, Any] | None:
        if company_id is None:
            return None
        return client.request(
            "GET",
            f"{OBJECTS}/companies/{company_id}",
            params={"properties": ",".join(dict.fromkeys(company_props))},
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        lines_future = pool.submit(fetch_lines) if line_ids else None
        company_future = pool.submit(fetch_company)
        line_records = lines_future.result() if lines_future else []
        company_record = company_future.result()

    needs_rates = any((r.get("properties") or {}).get("hs_tax_rate_group_id") for r in line_records)
    rates = tax_rates(client) if needs_rates else {}
    company = None
    if company_record is not None:
        cp = _clean(company_record.get("properties") or {})
        company = CompanySnapshot(
            id=str(company_record.get("id")),
            name=cp.get("name"),
            address=cp.get("address"),
            address2=cp.get("address2"),
            city=cp.get("city"),
            zip=cp.get("zip"),
            country=cp.get("country"),
            siret=cp.get(siret_property),
            vat_number=cp.get(VAT_NUMBER_PROPERTY_NAME),
        )
    return DealSnapshot(
        id=str(deal.get("id", deal_id)),
        name=props.get("dealname"),
        amount=props.get("amount"),
        currency=props.get("deal_currency_code"),
        company=company,
        line_items=tuple(_line_item(r, rates) for r in line_records),
    )


def update_deal(client: Requester, deal_id: str, properties: dict[str, str]) -> dict[str, Any]:
    return client.request("PATCH", f"{OBJECTS}/deals/{deal_id}", json={"properties": properties})


NOTE_TO_DEAL_ASSOCIATION = 214


def create_deal_note(client: Requester, deal_id: str, html: str, timestamp: str) -> dict[str, Any]:
    return client.request(
        "POST",
        f"{OBJECTS}/notes",
        json={
            "properties": {"hs_timestamp": timestamp, "hs_note_body": html},
            "associations": [
                {
                    "to": {"id": deal_id},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": NOTE_TO_DEAL_ASSOCIATION,
                        }
                    ],
                }
            ],
        },
    )


def batch_update_deals(
    client: Requester, updates: Sequence[tuple[str, dict[str, str]]]
) -> tuple[set[str], dict[str, str]]:
    """Write many deals, 100 per call. Returns (ids written, {id: error category} for failures).

    A 207 answer means some inputs failed: those are returned with their category (e.g.
    ``OBJECT_NOT_FOUND`` for a deal deleted in HubSpot) so the caller can retry only them.
    """
    written: set[str] = set()
    failed: dict[str, str] = {}
    for start in range(0, len(updates), BATCH_LIMIT):
        chunk = updates[start : start + BATCH_LIMIT]
        body = client.request(
            "POST",
            f"{OBJECTS}/deals/batch/update",
            json={"inputs": [{"id": deal_id, "properties": props} for deal_id, props in chunk]},
        )
        for result in body.get("results", []):
            written.add(str(result.get("id")))
        for error in body.get("errors", []):
            category = str(error.get("category", "ERROR"))
            for failed_id in _error_ids(error):
                failed[failed_id] = category
        for deal_id, _ in chunk:  # inputs neither written nor reported: count as failed
            if deal_id not in written and deal_id not in failed:
                failed[deal_id] = "UNKNOWN"
    return written, failed


def _error_ids(error: dict[str, Any]) -> Iterable[str]:
    context = error.get("context") or {}
    ids = context.get("ids") or context.get("id") or []
    if isinstance(ids, str):
        ids = [ids]
    return [str(i) for i in ids]


# --- history import: companies by SIRET, their deals, deal amounts ------------------------------
SEARCH_IN_VALUES = 50  # values per IN filter [assumed: HubSpot documents no lower limit]
SEARCH_PAGE = 200  # the search API's maximum ``limit`` [doc]
HISTORY_DEAL_PROPERTIES = ("dealname", "amount", "deal_currency_code")


def companies_with_property_values(
    client: Requester, property_name: str, values: Sequence[str]
) -> list[dict[str, Any]]:
    """Companies whose ``property_name`` equals one of ``values`` (``POST …/companies/search``, IN).

    HubSpot compares the stored text exactly (case aside), so a SIRET typed with spaces in HubSpot
    is not found by its digits: such a company is simply not matched (never a wrong match).
    """
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(values), SEARCH_IN_VALUES):
        chunk = list(values[start : start + SEARCH_IN_VALUES])
        after: str | None = None
        while True:
            body: dict[str, Any] = {
                "filterGroups": [
                    {"filters": [{"propertyName": property_name, "operator": "IN", "values": chunk}]}
                ],
                "properties": ["name", property_name],
                "limit": SEARCH_PAGE,
            }
            if after:
                body["after"] = after
            answer = client.request("POST", f"{OBJECTS}/companies/search", json=body) or {}
            for record in answer.get("results", []):
                found[str(record.get("id"))] = {
                    "id": str(record.get("id")),
                    "properties": _clean(record.get("properties") or {}),
                }
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
    return list(found.values())


def company_deal_ids(client: Requester, company_ids: Sequence[str]) -> dict[str, list[str]]:
    """{company id: [deal ids]} (``POST /crm/associations/2026-03/companies/deals/batch/read``).

    A company without deals is reported in ``errors`` (207): it simply maps to no deal.
    """
    out: dict[str, list[str]] = {}
    for start in range(0, len(company_ids), BATCH_LIMIT):
        chunk = company_ids[start : start + BATCH_LIMIT]
        answer = (
            client.request(
                "POST",
                f"{ASSOCIATIONS}/companies/deals/batch/read",
                json={"inputs": [{"id": company_id} for company_id in chunk]},
            )
            or {}
        )
        for result in answer.get("results", []):
            company = str((result.get("from") or {}).get("id"))
            out[company] = [str(to.get("toObjectId")) for to in result.get("to", [])]
    return out


def read_deals(client: Requester, deal_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The deals that exist among ``deal_ids``, with their name, amount and currency (batch read)."""
    records: list[dict[str, Any]] = []
    for start in range(0, len(deal_ids), BATCH_LIMIT):
        chunk = deal_ids[start : start + BATCH_LIMIT]
        answer = (
            client.request(
                "POST",
                f"{OBJECTS}/deals/batch/read",
                json={"inputs": [{"id": d} for d in chunk], "properties": list(HISTORY_DEAL_PROPERTIES)},
            )
            or {}
        )
        for record in answer.get("results", []):
            if not record.get("archived"):
                records.append(
                    {"id": str(record.get("id")), "properties": _clean(record.get("properties") or {})}
                )
    return records


# --- onboarding: which company property holds the SIRETs? -----------------------------------------
COMPANY_SAMPLE_SIZE = 100
COMPANY_SAMPLE_MAX_PROPERTIES = 100  # [assumed] HubSpot documents no cap; we keep the body small


def sample_companies(client: Requester, properties: Sequence[str]) -> list[dict[str, Any]]:
    """The properties of the portal's most recently modified companies: one search call
    (``POST …/companies/search``, no filter, ``limit`` 100, newest first)."""
    body: dict[str, Any] = {
        "limit": COMPANY_SAMPLE_SIZE,
        "properties": list(properties)[:COMPANY_SAMPLE_MAX_PROPERTIES],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
    }
    answer = client.request("POST", f"{OBJECTS}/companies/search", json=body) or {}
    return [_clean(record.get("properties") or {}) for record in answer.get("results", [])]
