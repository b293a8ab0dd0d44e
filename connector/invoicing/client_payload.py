"""The Qonto client a HubSpot company becomes (``POST /v2/clients``), and a fingerprint of it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from connector.invoicing.amounts import is_blank
from connector.invoicing.countries import client_locale, country_to_iso, in_sirene, normalize_name
from connector.invoicing.deal_checks import compact_id, company_tax_id
from connector.invoicing.messages import Localized
from connector.invoicing.problems import Problem
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


# --- an existing Qonto client: complete it, never overwrite it --------------------------------------
def _address(client: Mapping[str, object]) -> dict[str, str]:
    """Qonto's billing address (nested, or the root-level fields older clients have), as strings."""
    nested = client.get("billing_address")
    source: Mapping[str, object] = nested if isinstance(nested, Mapping) else client
    keys = {"street_address": ("street_address", "address"), "city": ("city",), "zip_code": ("zip_code",)}
    out = {}
    for key, names in keys.items():
        out[key] = next((str(source[n]) for n in names if source.get(n)), "")
    out["country_code"] = str(source.get("country_code") or "").upper()
    return out


def fill_blanks_patch(wanted: Mapping[str, object], existing: Mapping[str, object]) -> JSONObject:
    """A ``PATCH /v2/clients/{id}`` body with only what the Qonto client lacks to be invoiced.

    Qonto needs a currency, a locale and a full billing address on the client [doc]. What Qonto
    already holds (name, address, tax ids) is never replaced by HubSpot's: people may have corrected
    it in Qonto. ``client_differences`` says where the two disagree.
    """
    patch: JSONObject = {}
    for key in ("currency", "locale", "tax_identification_number", "vat_number"):
        if wanted.get(key) and not existing.get(key):
            patch[key] = wanted[key]
    current = _address(existing)
    address = wanted.get("billing_address")
    if not all(current.values()) and isinstance(address, Mapping):
        patch["billing_address"] = dict(address)
    return patch


def client_differences(wanted: Mapping[str, object], existing: Mapping[str, object]) -> list[str]:
    """Where Qonto's client (kept) differs from HubSpot's company: ``name``, ``address``, ``vat_number``.

    Compared ignoring case, accents, punctuation and spacing; a value Qonto lacks is not a difference
    (``fill_blanks_patch`` fills it in).
    """
    out: list[str] = []
    if (
        existing.get("name")
        and wanted.get("name")
        and not names_match(str(existing["name"]), str(wanted["name"]))
    ):
        out.append("name")
    theirs = _address(existing)
    ours = _address(wanted)
    if all(theirs.values()) and any(normalize_name(theirs[k]) != normalize_name(ours[k]) for k in theirs):
        out.append("address")
    for key in ("vat_number", "tax_identification_number"):
        a, b = str(existing.get(key) or ""), str(wanted.get(key) or "")
        if a and b and compact_id(a) != compact_id(b):
            out.append(key)
    return out


DIFFERENCE_LABELS: dict[str, tuple[str, str]] = {
    "name": ("nom", "name"),
    "address": ("adresse", "address"),
    "vat_number": ("n° de TVA", "VAT number"),
    "tax_identification_number": ("SIRET", "SIRET"),
}


def differences_warning(company: str, differences: Sequence[str]) -> Problem | None:
    """The card's warning when Qonto's client differs from HubSpot (``client_differs_in_qonto``)."""
    known = [d for d in differences if d in DIFFERENCE_LABELS]
    if not known:
        return None
    fields = Localized(
        fr=", ".join(DIFFERENCE_LABELS[d][0] for d in known),
        en=", ".join(DIFFERENCE_LABELS[d][1] for d in known),
    )
    return Problem("client_differs_in_qonto", "company", {"company": company, "value": fields})


def shared_tax_id_problem(company: str, tax_id: str, other_client_name: str) -> Problem:
    """Another HubSpot company with this SIRET is billed to a Qonto client of another name."""
    return Problem(
        "shared_tax_id", "company.siret", {"company": company, "value": tax_id, "other": other_client_name}
    )
