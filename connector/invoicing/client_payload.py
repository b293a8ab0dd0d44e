"""The Qonto client a HubSpot company becomes (``POST /v2/clients``), and a fingerprint of it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from connector.invoicing.amounts import is_blank
from connector.invoicing.countries import client_locale, country_to_iso, in_sirene, normalize_name
from connector.invoicing.deal_checks import compact_id, company_tax_id
from connector.invoicing.snapshot import CompanySnapshot, JSONObject
from connector.invoicing.text import one_line

NAME_MAX = 250  # Qonto's limit for a company client's name


def build_client_payload(
    company: CompanySnapshot, *, locale: str | None = None, allow_siren: bool = True
) -> JSONObject:
    """The flat client body: ``kind``, ``name``, tax ids, ``currency``, ``locale``, ``billing_address``.

    Assumes ``validate_deal`` passed (raises ``ValueError`` on a missing name, address or country).
    ``locale`` overrides the one derived from the country ("FR" for French-speaking countries,
    else "EN"). ``allow_siren`` follows the tenant's setting; validation already refused a SIREN
    when it is off.
    """
    country = country_to_iso(company.country)
    name = one_line(company.name or "")
    street = one_line(company.address or "")
    city = one_line(company.city or "")
    zip_code = one_line(company.zip or "")
    if not (country and name and street and city and zip_code):
        raise ValueError("company lacks a name, a full address or a known country")
    if company.address2 and one_line(company.address2):
        street = f"{street}, {one_line(company.address2)}"
    if in_sirene(country):
        # French postcodes are 5 digits: "75 004" as typed in HubSpot becomes "75004".
        zip_code = compact_id(zip_code)

    payload: JSONObject = {"kind": "company", "name": name[:NAME_MAX]}
    if in_sirene(country):
        tax_id = company_tax_id(company, allow_siren=allow_siren)
        if tax_id is None:
            raise ValueError("a French company needs a valid SIRET (or an allowed SIREN)")
        payload["tax_identification_number"] = tax_id
    if not is_blank(company.vat_number):
        payload["vat_number"] = compact_id(company.vat_number or "")
    payload["currency"] = "EUR"
    payload["locale"] = (locale or client_locale(country)).upper()
    payload["billing_address"] = {
        "street_address": street,
        "city": city,
        "zip_code": zip_code,
        "country_code": country,
    }
    return payload


def client_fingerprint(payload: Mapping[str, object]) -> str:
    """sha256 of the canonical JSON: a changed address or tax id in HubSpot changes it."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def names_match(a: str, b: str) -> bool:
    """Same client name, ignoring case, accents, punctuation and spacing (spec §10.4, step 3)."""
    return normalize_name(a) == normalize_name(b)
