"""Which VAT the invoice carries: French VAT, or reverse charge (autoliquidation) for an EU business.

Pure. The rules we apply (say them to the customer: we are not their accountant):

- A client in France (SIRENE territories) or Monaco is invoiced with French VAT, as before.
- A client established in another EU member state: a French seller's services to a business there
  are taxed in the client's country and the client self-assesses the VAT (general B2B rule,
  art. 259-1 du CGI / art. 44 and 196 de la directive 2006/112/CE). The invoice then shows 0 %,
  the client's EU VAT number and the mention « Autoliquidation ». We offer it only when HubSpot
  holds a valid EU VAT number of that same country (checked with python-stdnum, offline: it says
  the number is well formed, not that VIES knows it).
- A client outside the EU: we warn that French VAT may not apply and let the user decide.

Whatever applies, a deal's invoices all use the same mode (a balance deducts deposits rate by
rate), and the card must say which one it sends (``vat_mode``) for a client outside France.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum

from stdnum.eu import vat as eu_vat

from connector.invoicing.amounts import is_blank
from connector.invoicing.countries import (
    country_in_en,
    country_in_fr,
    country_name,
    country_to_iso,
    in_sirene,
)
from connector.invoicing.messages import Localized, MessageParam
from connector.invoicing.problems import Problem
from connector.invoicing.snapshot import CompanySnapshot, DealSnapshot, PriorInvoice, TenantInvoiceSettings
from connector.invoicing.text import one_line


class VatMode(StrEnum):
    STANDARD = "standard"  # French VAT, the line or tenant rate
    REVERSE_CHARGE = "reverse_charge"  # 0 %, "Autoliquidation", the client's EU VAT number


# EU member states other than France (ISO 3166-1 alpha-2). Greece's VAT numbers start with "EL".
EU_COUNTRIES: frozenset[str] = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "GR", "HR", "HU", "IE",
        "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
VAT_PREFIX: dict[str, str] = {"GR": "EL"}
# Invoiced like France: Monaco is in the French VAT territory (its numbers start with FR).
FRENCH_VAT_COUNTRIES: frozenset[str] = frozenset({"MC"})


class Regime(StrEnum):
    FRANCE = "france"
    EU = "eu"
    OUTSIDE_EU = "outside_eu"
    UNKNOWN = "unknown"  # no or unknown country: validation already reports it


@dataclasses.dataclass(frozen=True)
class VatSituation:
    """What the card shows and the request checks about the client's VAT."""

    regime: Regime
    country: str | None
    # The client's EU VAT number, compact ("BE0403170701"), when valid for its country; else None.
    vat_number: str | None = None
    # What HubSpot holds when it is not usable for reverse charge (for the message), else None.
    rejected_vat_number: str | None = None

    @property
    def reverse_charge_available(self) -> bool:
        return self.regime is Regime.EU and self.vat_number is not None

    @property
    def choice_required(self) -> bool:
        """Outside France the user must say which VAT the invoice carries (the card sends it)."""
        return self.regime in (Regime.EU, Regime.OUTSIDE_EU)

    @property
    def modes(self) -> tuple[VatMode, ...]:
        if self.reverse_charge_available:
            return (VatMode.REVERSE_CHARGE, VatMode.STANDARD)
        return (VatMode.STANDARD,)

    @property
    def default_mode(self) -> VatMode:
        return self.modes[0]


def eu_vat_number(raw: str | None, country: str) -> str | None:
    """The compact EU VAT number when ``raw`` is a valid one *of* ``country``, else ``None``."""
    if is_blank(raw):
        return None
    try:
        number = eu_vat.compact(raw or "")
    except Exception:  # stdnum raises its own ValidationError subclasses on garbage
        return None
    prefix = VAT_PREFIX.get(country, country)
    if not number.startswith(prefix) or not eu_vat.is_valid(number):
        return None
    return number


def vat_situation(company: CompanySnapshot | None) -> VatSituation:
    country = country_to_iso(company.country) if company is not None else None
    if company is None or country is None:
        return VatSituation(Regime.UNKNOWN, country)
    if in_sirene(country) or country in FRENCH_VAT_COUNTRIES:
        return VatSituation(Regime.FRANCE, country)
    if country in EU_COUNTRIES:
        number = eu_vat_number(company.vat_number, country)
        rejected = None if number or is_blank(company.vat_number) else (company.vat_number or "").strip()
        return VatSituation(Regime.EU, country, vat_number=number, rejected_vat_number=rejected)
    return VatSituation(Regime.OUTSIDE_EU, country)


def parse_vat_mode(raw: str | None) -> VatMode | None:
    try:
        return VatMode(raw) if raw else None
    except ValueError:
        return None


def with_vat_mode(
    deal: DealSnapshot, settings: TenantInvoiceSettings, mode: VatMode | str
) -> tuple[DealSnapshot, TenantInvoiceSettings]:
    """The inputs the builder and the checks see in ``mode``: reverse charge puts every line at 0 %.

    Lines keep their amounts excl. VAT, so totals, deposits and balances are the same in both modes;
    only the VAT (and the rate each line is grouped under) changes.
    """
    if VatMode(mode) is VatMode.STANDARD:
        return deal, settings
    lines = tuple(dataclasses.replace(item, tax_rate_percent="0") for item in deal.line_items)
    return (
        dataclasses.replace(deal, line_items=lines),
        dataclasses.replace(settings, vat_rate_percent=Decimal(0)),
    )


def reverse_charge_mention(vat_number: str) -> str:
    """The legal mention printed on a reverse-charge invoice (Qonto's ``footer``)."""
    return (
        "Autoliquidation : TVA due par le preneur (article 196 de la directive 2006/112/CE ; "
        f"article 283-2 du CGI). N° de TVA intracommunautaire du client : {vat_number}."
    )


# --- what the card says, and what a request must respect -----------------------------------------
def _where(situation: VatSituation, company: str) -> dict[str, MessageParam]:
    code = situation.country or "?"
    return {
        "company": company,
        "country": Localized(fr=country_name(code, "fr"), en=country_name(code, "en")),
        "country_in": Localized(fr=country_in_fr(code), en=country_in_en(code)),
    }


def vat_warnings(situation: VatSituation, *, company: str) -> list[Problem]:
    """What to know before invoicing a client outside France (nothing for a French client)."""
    params = _where(situation, company)
    if situation.regime is Regime.EU and situation.vat_number:
        return [Problem("client_in_eu", "vat_mode", {**params, "value": situation.vat_number})]
    if situation.regime is Regime.EU:
        return [Problem("client_in_eu_without_vat_number", "company.vat_number", params)]
    if situation.regime is Regime.OUTSIDE_EU:
        return [Problem("client_outside_eu", "vat_mode", params)]
    return []


def locked_mode(priors: Iterable[PriorInvoice]) -> VatMode | None:
    """The mode the deal's live invoices already use (the next one must use it too), if any."""
    for prior in priors:
        if prior.live:
            return parse_vat_mode(prior.vat_mode) or VatMode.STANDARD
    return None


def vat_mode_problems(
    situation: VatSituation,
    raw_mode: str | None,
    priors: Iterable[PriorInvoice],
    *,
    company: str,
    deal: str,
    required: bool,
) -> list[Problem]:
    """Is ``raw_mode`` acceptable for this client and this deal's invoices?

    ``required``: the caller must choose outside France (the card always does); a caller that does
    not (an old card, a workflow) gets ``vat_mode_required`` instead of a silent French VAT.
    """
    params = _where(situation, company)
    if raw_mode in (None, ""):
        if required and situation.choice_required:
            return [Problem("vat_mode_required", "vat_mode", params)]
        mode = VatMode.STANDARD
    else:
        parsed = parse_vat_mode(raw_mode)
        if parsed is None:
            return [Problem("invalid_vat_mode", "vat_mode", {"value": one_line(str(raw_mode))[:40]})]
        mode = parsed
    if mode is VatMode.REVERSE_CHARGE and not situation.reverse_charge_available:
        if situation.regime is not Regime.EU:
            return [Problem("reverse_charge_unavailable", "vat_mode", params, "outside")]
        if situation.rejected_vat_number:
            value = one_line(situation.rejected_vat_number)
            return [
                Problem(
                    "reverse_charge_unavailable",
                    "company.vat_number",
                    {**params, "value": value},
                    "invalid",
                )
            ]
        return [Problem("reverse_charge_unavailable", "company.vat_number", params, "missing")]
    existing = locked_mode(priors)
    if existing is not None and existing is not mode:
        return [
            Problem(
                "vat_mode_mismatch",
                "vat_mode",
                {"deal": deal},
                "reverse" if existing is VatMode.REVERSE_CHARGE else "standard",
            )
        ]
    return []
