"""E-invoicing readiness (France): what a client needs so its invoices can go through the network.

From 2026-09 every French VAT-registered business must be able to receive e-invoices, and from
2027-09 SMEs must issue them too [seen]. Qonto is a *Plateforme Agréée* and routes on the client's
SIREN/SIRET and tax identification number [doc]. The checks here are **warnings**, not blocks:
today's drafts stay possible, the card says what to complete before e-invoicing is mandatory.
(A missing or invalid SIRET, or an incomplete address, already blocks the draft: ``deal_checks``.)

Also: Qonto's ``einvoicing_status`` of an invoice, in words for the card.
"""

from __future__ import annotations

from stdnum.eu import vat as eu_vat

from connector.invoicing.amounts import is_blank
from connector.invoicing.countries import country_to_iso, in_sirene
from connector.invoicing.deal_checks import compact_id, company_label, company_tax_id
from connector.invoicing.messages import MESSAGES, MessageParam
from connector.invoicing.problems import Problem
from connector.invoicing.snapshot import CompanySnapshot
from connector.invoicing.text import one_line

MESSAGES.update(
    {
        "einvoicing_missing_vat_number": {
            "fr": "« {company} » n'a pas de numéro de TVA intracommunautaire dans HubSpot : il n'est pas "
            "obligatoire pour ce brouillon, mais il sera requis pour la facturation électronique "
            "(obligatoire pour les PME à partir de septembre 2027). Renseignez la propriété « N° de TVA "
            "intracommunautaire » de l'entreprise.",
            "en": "“{company}” has no EU VAT number in HubSpot: not needed for this draft, but required "
            "for e-invoicing (mandatory for SMEs from September 2027). Fill in the company's “N° de TVA "
            "intracommunautaire” property.",
        },
        "einvoicing_invalid_vat_number": {
            "fr": "Le numéro de TVA de « {company} » (« {value} ») n'a pas le format d'un numéro "
            "intracommunautaire valide (ex. FR + 2 caractères + SIREN) : il sera requis pour la "
            "facturation électronique. Corrigez-le dans HubSpot.",
            "en": "The VAT number of “{company}” (“{value}”) is not a valid EU VAT number (e.g. FR + 2 "
            "characters + SIREN): it will be required for e-invoicing. Correct it in HubSpot.",
        },
        "einvoicing_vat_siren_mismatch": {
            "fr": "Le numéro de TVA de « {company} » ({value}) ne correspond pas à son SIREN ({siren}) : "
            "vérifiez l'un ou l'autre dans HubSpot avant la facturation électronique.",
            "en": "The VAT number of “{company}” ({value}) does not match its SIREN ({siren}): check "
            "one or the other in HubSpot before e-invoicing.",
        },
    }
)

VAT_CODES = frozenset(
    {"einvoicing_missing_vat_number", "einvoicing_invalid_vat_number", "einvoicing_vat_siren_mismatch"}
)
ADDRESS_CODES = frozenset(
    {"missing_address", "missing_city", "missing_zip", "invalid_zip", "missing_country", "unknown_country"}
)
SIRET_CODES = frozenset({"missing_siret", "invalid_siret", "siren_not_allowed"})

CHECK_LABELS = {
    "siret": {"fr": "SIREN/SIRET valide", "en": "Valid SIREN/SIRET"},
    "address": {
        "fr": "Adresse complète (rue, code postal, ville, pays)",
        "en": "Full address (street, postcode, city, country)",
    },
    "vat_number": {"fr": "N° de TVA intracommunautaire", "en": "EU VAT number"},
}

# [doc] einvoicing_status and its lifecycle (200 submitted, 201 issued, 202 received, …); the
# other values are [seen]. Unknown values are shown as Qonto sends them.
STATUS_WORDS = {
    "pending": {"fr": "en attente de dépôt", "en": "waiting to be submitted"},
    "submitted": {"fr": "déposée", "en": "submitted"},
    "issued": {"fr": "émise", "en": "issued"},
    "received": {"fr": "reçue par le client", "en": "received by the client"},
    "approved": {"fr": "acceptée", "en": "approved"},
    "declined": {"fr": "refusée", "en": "declined"},
    "rejected": {"fr": "rejetée", "en": "rejected"},
    "not_delivered": {"fr": "non distribuée", "en": "not delivered"},
    "submission_failed": {"fr": "dépôt en échec", "en": "submission failed"},
}
BAD_STATUSES = frozenset({"declined", "rejected", "not_delivered", "submission_failed"})


def _lang(lang: str | None) -> str:
    return "en" if (lang or "").lower().startswith("en") else "fr"


def einvoicing_label(status: str | None, lang: str | None) -> str | None:
    """ "Facture électronique : déposée" for Qonto's ``submitted``; None when Qonto gives none."""
    if not status:
        return None
    language = _lang(lang)
    words = STATUS_WORDS.get(status.lower(), {}).get(language, status)
    prefix = "E-invoice" if language == "en" else "Facture électronique"
    return f"{prefix}{'' if language == 'en' else ' '}: {words}"


def is_french(company: CompanySnapshot | None) -> bool:
    if company is None or is_blank(company.country):
        return False
    country = country_to_iso(company.country)
    return country is not None and in_sirene(country)


def einvoicing_warnings(company: CompanySnapshot | None, *, allow_siren: bool = False) -> list[Problem]:
    """Warnings for a French client whose VAT number is missing, malformed or not its SIREN's."""
    if company is None or not is_french(company):
        return []
    who: dict[str, MessageParam] = {"company": company_label(company)}
    if is_blank(company.vat_number):
        return [Problem("einvoicing_missing_vat_number", "company.vat_number", who)]
    vat = compact_id(company.vat_number or "")
    if not vat.isascii() or not eu_vat.is_valid(vat):
        value = one_line(company.vat_number or "")
        return [Problem("einvoicing_invalid_vat_number", "company.vat_number", {**who, "value": value})]
    tax_id = company_tax_id(company, allow_siren=True)
    if vat.startswith("FR") and tax_id and vat[4:13] != tax_id[:9]:
        return [
            Problem(
                "einvoicing_vat_siren_mismatch",
                "company.vat_number",
                {**who, "value": vat, "siren": tax_id[:9]},
            )
        ]
    return []


def einvoicing_checklist(
    company: CompanySnapshot | None, codes: set[str], lang: str | None
) -> list[dict[str, object]] | None:
    """The card's e-invoicing checklist for a French client (None otherwise).

    ``codes``: the codes of the deal's problems and warnings; each line is ``ok`` when none of its
    codes is there.
    """
    if company is None or not is_french(company):
        return None
    language = _lang(lang)
    groups = {
        "siret": SIRET_CODES,
        "address": ADDRESS_CODES,
        "vat_number": VAT_CODES | {"invalid_vat_number"},
    }
    return [
        {"code": key, "ok": not (codes & group), "label": CHECK_LABELS[key][language]}
        for key, group in groups.items()
    ]
