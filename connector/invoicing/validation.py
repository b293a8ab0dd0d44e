"""Is a deal ready to invoice, and is this particular request acceptable?

Every problem names the HubSpot property (or setting) to fix, in French and in English. The card
shows them as ``{code, field, message}``; ``code`` and ``field`` are stable, the texts are not.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from connector.invoicing.amounts import (
    HUNDRED,
    MAX_AMOUNT,
    ONE,
    ZERO,
    decimal_str,
    format_eur_en,
    format_eur_fr,
    format_number_fr,
    is_blank,
    parse_decimal,
    round_cents,
)
from connector.invoicing.countries import country_to_iso, in_sirene
from connector.invoicing.lines import SourceLine, subtotals_by_vat
from connector.invoicing.snapshot import (
    CompanySnapshot,
    DealSnapshot,
    InvoiceKind,
    PriorInvoice,
    TenantInvoiceSettings,
)
from connector.invoicing.text import one_line
from connector.invoicing.vat import allowed_fraction


@dataclass(frozen=True)
class Money:
    """A message parameter printed as an amount in euros ("6 000,00 €" / "€6,000.00")."""

    value: Decimal


MessageParam = str | Decimal | Money

_FIX_IN_LINE = "sur la ligne de produit de la transaction dans HubSpot"
_FIX_IN_LINE_EN = "on the deal's line item in HubSpot"
_FR_RATES = "20 %, 10 %, 8,5 %, 5,5 %, 2,1 % ou 0 %"
_EN_RATES = "20%, 10%, 8.5%, 5.5%, 2.1% or 0%"

# One table, both languages: template key → {"fr", "en"}. The key is the problem code, or
# "<code>:<variant>" when the same problem is worded differently depending on where it is.
MESSAGES: dict[str, dict[str, str]] = {
    "missing_company": {
        "fr": "Aucune entreprise principale n'est associée à la transaction « {deal} » : associez "
        "l'entreprise à facturer à la transaction dans HubSpot (libellé « Principale »).",
        "en": "No primary company is associated with the deal “{deal}”: associate the company to "
        "invoice with the deal in HubSpot (label “Primary”).",
    },
    "missing_company_name": {
        "fr": "L'entreprise associée à la transaction (n° {company_id}) n'a pas de nom : renseignez "
        "la propriété « Nom de l'entreprise » dans HubSpot.",
        "en": "The company associated with the deal (ID {company_id}) has no name: fill in its "
        "“Company name” property in HubSpot.",
    },
    "missing_address": {
        "fr": "L'adresse de l'entreprise « {company} » est manquante : renseignez la propriété "
        "« Adresse postale » de l'entreprise dans HubSpot.",
        "en": "The address of the company “{company}” is missing: fill in the company's “Street "
        "address” property in HubSpot.",
    },
    "missing_city": {
        "fr": "La ville de l'entreprise « {company} » est manquante : renseignez la propriété "
        "« Ville » de l'entreprise dans HubSpot.",
        "en": "The city of the company “{company}” is missing: fill in the company's “City” "
        "property in HubSpot.",
    },
    "missing_zip": {
        "fr": "Le code postal de l'entreprise « {company} » est manquant : renseignez la propriété "
        "« Code postal » de l'entreprise dans HubSpot.",
        "en": "The postal code of the company “{company}” is missing: fill in the company's "
        "“Postal code” property in HubSpot.",
    },
    "invalid_zip": {
        "fr": "Le code postal de l'entreprise « {company} » (« {value} ») n'est pas valide : un code "
        "postal français compte 5 chiffres. Corrigez la propriété « Code postal » de l'entreprise "
        "dans HubSpot.",
        "en": "The postal code of the company “{company}” (“{value}”) is not valid: a French postal "
        "code has 5 digits. Correct the company's “Postal code” property in HubSpot.",
    },
    "missing_country": {
        "fr": "Le pays de l'entreprise « {company} » est manquant : renseignez la propriété "
        "« Pays/région » de l'entreprise dans HubSpot.",
        "en": "The country of the company “{company}” is missing: fill in the company's "
        "“Country/Region” property in HubSpot.",
    },
    "unknown_country": {
        "fr": "Le pays de l'entreprise « {company} » (« {value} ») n'est pas reconnu : corrigez la "
        "propriété « Pays/région » de l'entreprise dans HubSpot (par exemple « France » ou "
        "« Belgique »).",
        "en": "The country of the company “{company}” (“{value}”) is not recognised: correct the "
        "company's “Country/Region” property in HubSpot (for example “France” or “Belgium”).",
    },
    "missing_siret": {
        "fr": "Le SIRET de l'entreprise « {company} » est manquant : renseignez la propriété "
        "« {property} » de l'entreprise dans HubSpot (14 chiffres).",
        "en": "The SIRET of the company “{company}” is missing: fill in the company's “{property}” "
        "property in HubSpot (14 digits).",
    },
    "invalid_siret": {
        "fr": "Le SIRET de l'entreprise « {company} » (« {value} ») n'est pas valide : vérifiez les "
        "14 chiffres de la propriété « {property} » de l'entreprise dans HubSpot.",
        "en": "The SIRET of the company “{company}” (“{value}”) is not valid: check the 14 digits "
        "of the company's “{property}” property in HubSpot.",
    },
    "siren_not_allowed": {
        "fr": "L'entreprise « {company} » a un SIREN (9 chiffres) au lieu d'un SIRET : renseignez "
        "le SIRET à 14 chiffres dans la propriété « {property} » de l'entreprise dans HubSpot, ou "
        "acceptez le SIREN dans les réglages du connecteur.",
        "en": "The company “{company}” has a SIREN (9 digits) instead of a SIRET: enter the 14-digit "
        "SIRET in the company's “{property}” property in HubSpot, or accept SIRENs in the "
        "connector's settings.",
    },
    "invalid_vat_number": {
        "fr": "Le numéro de TVA de l'entreprise « {company} » (« {value} ») n'est pas valide : "
        "corrigez-le dans HubSpot (lettres et chiffres, 20 caractères au plus).",
        "en": "The VAT number of the company “{company}” (“{value}”) is not valid: correct it in "
        "HubSpot (letters and digits, at most 20 characters).",
    },
    "currency_not_eur:deal": {
        "fr": "La transaction « {deal} » est en {value} : Qonto ne facture qu'en euros. Passez la "
        "devise de la transaction à EUR dans HubSpot.",
        "en": "The deal “{deal}” is in {value}: Qonto only invoices in euros. Set the deal's "
        "currency to EUR in HubSpot.",
    },
    "currency_not_eur:line": {
        "fr": "La ligne {n} « {line} » est en {value} : Qonto ne facture qu'en euros. Passez la "
        "devise de la ligne à EUR dans HubSpot.",
        "en": "Line {n} “{line}” is in {value}: Qonto only invoices in euros. Set the line item's "
        "currency to EUR in HubSpot.",
    },
    "missing_line_name": {
        "fr": f"La ligne {{n}} n'a pas de nom : renseignez le nom {_FIX_IN_LINE}.",
        "en": f"Line {{n}} has no name: enter a name {_FIX_IN_LINE_EN}.",
    },
    "invalid_quantity": {
        "fr": f"La quantité de la ligne {{n}} « {{line}} » (« {{value}} ») n'est pas valide : "
        f"indiquez un nombre positif {_FIX_IN_LINE}.",
        "en": f"The quantity of line {{n}} “{{line}}” (“{{value}}”) is not valid: enter a positive "
        f"number {_FIX_IN_LINE_EN}.",
    },
    "invalid_price": {
        "fr": f"Le prix unitaire de la ligne {{n}} « {{line}} » (« {{value}} ») n'est pas valide : "
        f"indiquez un montant positif ou nul {_FIX_IN_LINE}.",
        "en": f"The unit price of line {{n}} “{{line}}” (“{{value}}”) is not valid: enter an amount "
        f"of zero or more {_FIX_IN_LINE_EN}.",
    },
    "invalid_discount:percentage": {
        "fr": f"La remise de la ligne {{n}} « {{line}} » (« {{value}} ») n'est pas valide : "
        f"indiquez un pourcentage entre 0 et 100 {_FIX_IN_LINE}.",
        "en": f"The discount of line {{n}} “{{line}}” (“{{value}}”) is not valid: enter a "
        f"percentage between 0 and 100 {_FIX_IN_LINE_EN}.",
    },
    "invalid_discount:amount": {
        "fr": f"La remise de la ligne {{n}} « {{line}} » (« {{value}} ») n'est pas valide : "
        f"indiquez un montant par unité positif, au plus égal au prix unitaire, {_FIX_IN_LINE}.",
        "en": f"The discount of line {{n}} “{{line}}” (“{{value}}”) is not valid: enter a per-unit "
        f"amount of zero or more, no higher than the unit price, {_FIX_IN_LINE_EN}.",
    },
    "invalid_vat_rate:line": {
        "fr": f"Le taux de TVA de la ligne {{n}} « {{line}} » (« {{value}} % ») n'est pas un taux "
        f"français : choisissez {_FR_RATES} dans le taux de taxe de la ligne de produit dans HubSpot.",
        "en": f"The VAT rate of line {{n}} “{{line}}” (“{{value}}%”) is not a French rate: choose "
        f"{_EN_RATES} as the line item's tax rate in HubSpot.",
    },
    "invalid_vat_rate:settings": {
        "fr": f"Le taux de TVA par défaut du connecteur ({{value}} %) n'est pas un taux français : "
        f"choisissez {_FR_RATES} dans les réglages du connecteur.",
        "en": f"The connector's default VAT rate ({{value}}%) is not a French rate: choose "
        f"{_EN_RATES} in the connector's settings.",
    },
    "missing_iban": {
        "fr": "Aucun compte de réception (IBAN) n'est choisi pour les factures : choisissez-le dans "
        "les réglages du connecteur.",
        "en": "No receiving account (IBAN) is chosen for invoices: choose it in the connector's settings.",
    },
    "invalid_amount": {
        "fr": "Le montant de la transaction « {deal} » (« {value} ») n'est pas valide : indiquez un "
        "montant positif dans HubSpot.",
        "en": "The amount of the deal “{deal}” (“{value}”) is not valid: enter a positive amount in HubSpot.",
    },
    "no_lines_or_amount": {
        "fr": "La transaction « {deal} » n'a ni ligne de produit ni montant : ajoutez des lignes de "
        "produit ou renseignez le montant de la transaction dans HubSpot.",
        "en": "The deal “{deal}” has neither line items nor an amount: add line items or fill in "
        "the deal's amount in HubSpot.",
    },
    "amount_too_large": {
        "fr": "Le montant de la transaction « {deal} » dépasse {value} : vérifiez les quantités et "
        "les prix dans HubSpot.",
        "en": "The amount of the deal “{deal}” is over {value}: check the quantities and prices in HubSpot.",
    },
    "invalid_kind": {
        "fr": "Type de facture inconnu (« {value} ») : choisissez une facture complète, un acompte "
        "ou un solde.",
        "en": "Unknown invoice type (“{value}”): choose a full invoice, a deposit or a balance.",
    },
    "missing_percentage": {
        "fr": "Indiquez le pourcentage de l'acompte, entre 1 et 99.",
        "en": "Enter the deposit percentage, between 1 and 99.",
    },
    "invalid_percentage": {
        "fr": "Le pourcentage de l'acompte (« {value} ») n'est pas valide : indiquez un nombre entre "
        "1 et 99, avec au plus deux décimales.",
        "en": "The deposit percentage (“{value}”) is not valid: enter a number between 1 and 99, "
        "with at most two decimals.",
    },
    "unexpected_percentage": {
        "fr": "Un pourcentage ne s'indique que pour un acompte : retirez-le pour une facture "
        "complète ou un solde.",
        "en": "A percentage only applies to a deposit: remove it for a full invoice or a balance.",
    },
    "invoice_exists": {
        "fr": "La transaction « {deal} » a déjà une facture ({value}) : pour la refacturer en "
        "entier, supprimez ou annulez d'abord cette facture dans Qonto ; sinon, facturez le solde.",
        "en": "The deal “{deal}” already has an invoice ({value}): to invoice it in full again, "
        "first delete or cancel that invoice in Qonto; otherwise, invoice the balance.",
    },
    "deposit_exceeds_deal": {
        "fr": "Un acompte de {percentage} % ({amount} HT) dépasserait le montant de la transaction "
        "« {deal} » : il ne reste que {left} HT à facturer.",
        "en": "A {percentage}% deposit ({amount} excl. VAT) would exceed the amount of the deal "
        "“{deal}”: only {left} excl. VAT is left to invoice.",
    },
    "deposit_too_small": {
        "fr": "Un acompte de {percentage} % sur la transaction « {deal} » vaudrait 0,00 € une fois arrondi "
        "au centime : choisissez un pourcentage plus élevé ou facturez la transaction en entier.",
        "en": "A {percentage}% deposit on the deal “{deal}” would be €0.00 once rounded to the cent: "
        "choose a higher percentage or invoice the deal in full.",
    },
    "invoice_exists:generic": {
        "fr": "Cette transaction a déjà une facture en cours : pour la refacturer en entier, supprimez "
        "ou annulez d'abord cette facture dans Qonto ; sinon, facturez le solde.",
        "en": "This deal already has a live invoice: to invoice it in full again, first delete or "
        "cancel that invoice in Qonto; otherwise, invoice the balance.",
    },
    # The tenant's state is explained by the caller, already in the user's language.
    "tenant_not_operational": {"fr": "{message}", "en": "{message}"},
    "nothing_left": {
        "fr": "Il ne reste rien à facturer sur la transaction « {deal} » : les factures existantes "
        "couvrent déjà tout son montant.",
        "en": "Nothing is left to invoice on the deal “{deal}”: the existing invoices already cover "
        "its whole amount.",
    },
}

LANGUAGES = ("fr", "en")


def _language(lang: str | None) -> str:
    """ "en-us" → "en"; anything that is not English reads French, the product's language."""
    base = (lang or "fr").lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else "fr"


def _render(param: MessageParam, lang: str) -> str:
    if isinstance(param, Money):
        return format_eur_en(param.value) if lang == "en" else format_eur_fr(param.value)
    if isinstance(param, Decimal):
        return decimal_str(param) if lang == "en" else format_number_fr(param)
    return param


@dataclass(frozen=True)
class Problem:
    """Something to fix before invoicing. ``field`` is a path such as ``company.siret`` or
    ``line_items[2].quantity`` (0-based; messages count lines from 1)."""

    code: str
    field: str
    params: Mapping[str, MessageParam] = dataclasses.field(default_factory=dict, hash=False)
    variant: str | None = None

    @property
    def template_key(self) -> str:
        return f"{self.code}:{self.variant}" if self.variant else self.code

    def message_for(self, lang: str | None) -> str:
        """The message in ``lang`` ("fr", "en", "en-GB"…; French for anything else)."""
        language = _language(lang)
        template = MESSAGES[self.template_key][language]
        return template.format(**{key: _render(value, language) for key, value in self.params.items()})

    @property
    def message(self) -> str:
        """The message in Django's active language (``translation.override("en")`` gives English)."""
        from django.utils import translation

        return self.message_for(translation.get_language())

    def as_dict(self, lang: str | None = None) -> dict[str, str]:
        """The card API shape ``{code, field, message}``; ``lang=None`` uses Django's active language."""
        message = self.message if lang is None else self.message_for(lang)
        return {"code": self.code, "field": self.field, "message": message}

    as_json = as_dict

    @classmethod
    def invoice_exists(cls) -> Problem:
        """A live invoice already blocks this one (e.g. the database constraint caught a race)."""
        return cls("invoice_exists", "kind", variant="generic")

    @classmethod
    def tenant_not_operational(cls, status: str, message: str) -> Problem:
        """The tenant cannot invoice (``status`` as the card shows it); ``message`` says what to do."""
        return cls("tenant_not_operational", "tenant", {"status": status, "message": message})


class InvoiceNotBuildable(ValueError):
    """Raised by the builder when validation fails; ``problems`` says why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invoice cannot be built: " + ", ".join(p.code for p in self.problems))


# ---------------------------------------------------------------------------------------------
# The deal


def deal_label(deal: DealSnapshot) -> str:
    """The deal's name for texts, or a stand-in naming its id when HubSpot has none."""
    name = one_line(deal.name or "")
    return name or f"Transaction {deal.id}"


def company_label(company: CompanySnapshot) -> str:
    return one_line(company.name or "") or company.id


_ID_SEPARATORS_RE = re.compile(r"[\s\u00a0\u202f.\-]+")


def compact_id(raw: str) -> str:
    """A SIRET, SIREN or VAT number without the spaces, dots and dashes people type in it."""
    return _ID_SEPARATORS_RE.sub("", raw).upper()


def company_tax_id(company: CompanySnapshot, *, allow_siren: bool) -> str | None:
    """The SIRET (or, when allowed, SIREN) digits of a French company, or ``None`` if there is none valid."""
    if is_blank(company.siret):
        return None
    digits = compact_id(company.siret or "")
    if len(digits) == 14 and stdnum_siret.is_valid(digits):
        return digits
    if allow_siren and len(digits) == 9 and stdnum_siren.is_valid(digits):
        return digits
    return None


def _company_problems(deal: DealSnapshot, settings: TenantInvoiceSettings) -> list[Problem]:
    company = deal.company
    if company is None:
        return [Problem("missing_company", "deal.company", {"deal": deal_label(deal)})]
    label = company_label(company)
    who: dict[str, MessageParam] = {"company": label}
    problems: list[Problem] = []
    if is_blank(company.name):
        problems.append(Problem("missing_company_name", "company.name", {"company_id": company.id}))
    if is_blank(company.address):
        problems.append(Problem("missing_address", "company.address", who))
    if is_blank(company.city):
        problems.append(Problem("missing_city", "company.city", who))

    country: str | None = None
    if is_blank(company.country):
        problems.append(Problem("missing_country", "company.country", who))
    else:
        country = country_to_iso(company.country)
        if country is None:
            value = one_line(company.country or "")
            problems.append(Problem("unknown_country", "company.country", {**who, "value": value}))

    if is_blank(company.zip):
        problems.append(Problem("missing_zip", "company.zip", who))
    elif (
        country is not None
        and in_sirene(country)
        and not re.fullmatch(r"\d{5}", compact_id(company.zip or ""))
    ):
        problems.append(Problem("invalid_zip", "company.zip", {**who, "value": one_line(company.zip or "")}))

    if country is not None and in_sirene(country):
        problems.extend(_siret_problems(company, settings, who))
    if not is_blank(company.vat_number):
        vat_number = compact_id(company.vat_number or "")
        if len(vat_number) > 20 or not vat_number.isalnum() or not vat_number.isascii():
            value = one_line(company.vat_number or "")
            problems.append(Problem("invalid_vat_number", "company.vat_number", {**who, "value": value}))
    return problems


def _siret_problems(
    company: CompanySnapshot, settings: TenantInvoiceSettings, who: Mapping[str, MessageParam]
) -> list[Problem]:
    params: dict[str, MessageParam] = {**who, "property": settings.siret_property}
    if is_blank(company.siret):
        return [Problem("missing_siret", "company.siret", params)]
    if company_tax_id(company, allow_siren=settings.allow_siren) is not None:
        return []
    digits = compact_id(company.siret or "")
    if len(digits) == 9 and stdnum_siren.is_valid(digits):  # a valid SIREN, but not allowed
        return [Problem("siren_not_allowed", "company.siret", params)]
    return [Problem("invalid_siret", "company.siret", {**params, "value": one_line(company.siret or "")})]


def _is_eur(raw: str | None) -> bool:
    return is_blank(raw) or (raw or "").strip().upper() == "EUR"


def _within_limit(value: Decimal) -> bool:
    return abs(value) <= MAX_AMOUNT


def analyse_deal(
    deal: DealSnapshot, settings: TenantInvoiceSettings
) -> tuple[list[Problem], tuple[SourceLine, ...]]:
    """Check the deal's amounts and parse its lines: (problems, lines). Lines are empty on problems.

    A deal without line items is invoiced as one line at the deal amount, at the tenant's rate.
    """
    problems: list[Problem] = []
    lines: list[SourceLine] = []
    label = deal_label(deal)
    if not _is_eur(deal.currency):
        value = one_line(deal.currency or "")
        problems.append(Problem("currency_not_eur", "deal.currency", {"deal": label, "value": value}, "deal"))

    tenant_fraction = allowed_fraction(settings.vat_rate_percent)
    uses_tenant_rate = not deal.line_items
    for i, item in enumerate(deal.line_items):
        where = f"line_items[{i}]"
        line_name = one_line(item.name or "")
        ctx: dict[str, MessageParam] = {"n": str(i + 1), "line": line_name or "—"}
        item_problems: list[Problem] = []
        if not _is_eur(item.currency):
            value = one_line(item.currency or "")
            item_problems.append(
                Problem("currency_not_eur", f"{where}.currency", {**ctx, "value": value}, "line")
            )
        if not line_name:
            item_problems.append(Problem("missing_line_name", f"{where}.name", ctx))

        quantity = parse_decimal(item.quantity)
        if quantity is None or quantity <= ZERO or not _within_limit(quantity):
            value = one_line(item.quantity or "")
            item_problems.append(Problem("invalid_quantity", f"{where}.quantity", {**ctx, "value": value}))

        price = parse_decimal(item.price)
        if price is None or price < ZERO or not _within_limit(price):
            value = one_line(item.price or "")
            item_problems.append(Problem("invalid_price", f"{where}.price", {**ctx, "value": value}))
            price = None

        discount_fraction: Decimal | None = None
        if not is_blank(item.discount_percentage):
            percent = parse_decimal(item.discount_percentage)
            if percent is None or not ZERO <= percent <= HUNDRED:
                value = one_line(item.discount_percentage or "")
                item_problems.append(
                    Problem(
                        "invalid_discount",
                        f"{where}.discount_percentage",
                        {**ctx, "value": value},
                        "percentage",
                    )
                )
            elif percent > ZERO:
                discount_fraction = percent.scaleb(-2)

        discount_amount = ZERO
        if not is_blank(item.discount):
            amount = parse_decimal(item.discount)
            if amount is None or amount < ZERO or (price is not None and amount > price):
                value = one_line(item.discount or "")
                item_problems.append(
                    Problem("invalid_discount", f"{where}.discount", {**ctx, "value": value}, "amount")
                )
            else:
                discount_amount = amount

        fraction: str | None
        if is_blank(item.tax_rate_percent):
            uses_tenant_rate = True
            fraction = tenant_fraction
        else:
            rate = parse_decimal(item.tax_rate_percent)
            fraction = None if rate is None else allowed_fraction(rate)
            if fraction is None:
                value = one_line(item.tax_rate_percent or "")
                item_problems.append(
                    Problem("invalid_vat_rate", f"{where}.tax_rate", {**ctx, "value": value}, "line")
                )

        problems.extend(item_problems)
        if not item_problems and quantity is not None and price is not None and fraction is not None:
            lines.append(
                SourceLine(
                    index=i,
                    name=line_name,
                    description=item.description,
                    quantity=quantity,
                    price=price,
                    discount_amount=discount_amount,
                    discount_fraction=discount_fraction,
                    vat_fraction=fraction,
                )
            )

    if not deal.line_items:
        amount = parse_decimal(deal.amount)
        if is_blank(deal.amount):
            problems.append(Problem("no_lines_or_amount", "deal.amount", {"deal": label}))
        elif amount is None or amount < ZERO or not _within_limit(amount):
            value = one_line(deal.amount or "")
            problems.append(Problem("invalid_amount", "deal.amount", {"deal": label, "value": value}))
        elif amount == ZERO:
            problems.append(Problem("no_lines_or_amount", "deal.amount", {"deal": label}))
        elif tenant_fraction is not None:
            lines.append(
                SourceLine(
                    index=None,
                    name=label,
                    description=None,
                    quantity=ONE,
                    price=amount,
                    discount_amount=ZERO,
                    discount_fraction=None,
                    vat_fraction=tenant_fraction,
                )
            )

    if uses_tenant_rate and tenant_fraction is None:
        rate_param: MessageParam = settings.vat_rate_percent if settings.vat_rate_percent.is_finite() else "?"
        problems.append(Problem("invalid_vat_rate", "settings.vat_rate", {"value": rate_param}, "settings"))

    if not problems:
        total = sum((line.subtotal for line in lines), ZERO)
        if total > MAX_AMOUNT:
            problems.append(
                Problem("amount_too_large", "deal.amount", {"deal": label, "value": Money(MAX_AMOUNT)})
            )
    return problems, (() if problems else tuple(lines))


def validate_deal(
    deal: DealSnapshot, settings: TenantInvoiceSettings, *, kind: InvoiceKind | str = InvoiceKind.FULL
) -> list[Problem]:
    """Everything to fix in HubSpot (or in the settings) before the deal can be invoiced.

    Every kind needs the same data today (a deposit or balance is computed from the full invoice),
    so ``kind`` does not change the checks; it is accepted so callers state what they are about to do.
    """
    del kind
    problems = _company_problems(deal, settings)
    amount_problems, _ = analyse_deal(deal, settings)
    problems += amount_problems
    if not settings.iban.strip():
        problems.append(Problem("missing_iban", "settings.iban"))
    return problems


# ---------------------------------------------------------------------------------------------
# The request


def parse_percentage(raw: Decimal | str | int | None) -> Decimal | None:
    """A deposit percentage as sent by the card → Decimal in [1, 99] with ≤ 2 decimals, else ``None``."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, Decimal):
        value: Decimal | None = raw if raw.is_finite() else None
    elif isinstance(raw, int):
        value = Decimal(raw)
    else:
        value = parse_decimal(raw)
    if value is None or not ONE <= value <= Decimal(99):
        return None
    try:
        if value != value.quantize(Decimal("0.01")):
            return None
    except InvalidOperation:  # pragma: no cover - values in [1, 99] always quantize
        return None
    return value.normalize() if value == value.to_integral_value() else value


def _percentage_given(raw: Decimal | str | int | None) -> bool:
    return raw is not None and not (isinstance(raw, str) and not raw.strip())


def live_priors(prior_invoices: Iterable[PriorInvoice]) -> list[PriorInvoice]:
    return [p for p in prior_invoices if p.live]


def deposit_by_vat(full_by_vat: Mapping[str, Decimal], percentage: Decimal) -> dict[str, Decimal]:
    """Each rate's share of a p % deposit: round_half_up(rate subtotal × p / 100)."""
    return {rate: round_cents(amount * percentage.scaleb(-2)) for rate, amount in full_by_vat.items()}


def remaining_by_vat(
    full_by_vat: Mapping[str, Decimal], priors: Iterable[PriorInvoice]
) -> dict[str, Decimal]:
    """Per rate: the full subtotal minus what live priors already invoiced at that rate (may be < 0)."""
    remaining = dict(full_by_vat)
    for prior in priors:
        if prior.live:
            for rate, amount in prior.subtotal_by_vat.items():
                remaining[rate] = remaining.get(rate, ZERO) - amount
    return remaining


def prior_label(prior: PriorInvoice) -> str:
    return prior.number or "brouillon"


def validate_request(
    kind: InvoiceKind | str,
    percentage: Decimal | str | int | None,
    deal: DealSnapshot,
    prior_invoices: Iterable[PriorInvoice],
    *,
    settings: TenantInvoiceSettings | None = None,
) -> list[Problem]:
    """Is this invoice, on top of the deal's existing ones, acceptable?

    ``prior_invoices`` are the deal's other invoices (never the one being built). Amount checks
    compare excl. VAT with the full invoice the deal would give; they are skipped when the deal
    itself has problems (``validate_deal`` reports those). Pass ``settings`` so lines without a tax
    rate are grouped at the tenant's rate, as the builder will: the cent-exact checks need it.
    """
    label = deal_label(deal)
    try:
        kind = InvoiceKind(kind)
    except ValueError:
        return [Problem("invalid_kind", "kind", {"value": str(kind)})]

    problems: list[Problem] = []
    pct: Decimal | None = None
    if kind is InvoiceKind.DEPOSIT:
        if not _percentage_given(percentage):
            problems.append(Problem("missing_percentage", "percentage"))
        else:
            pct = parse_percentage(percentage)
            if pct is None:
                problems.append(
                    Problem("invalid_percentage", "percentage", {"value": str(percentage).strip()})
                )
    elif _percentage_given(percentage):
        problems.append(Problem("unexpected_percentage", "percentage"))

    priors = live_priors(prior_invoices)
    if kind is InvoiceKind.FULL and priors:
        existing = ", ".join(prior_label(p) for p in priors)
        problems.append(Problem("invoice_exists", "kind", {"deal": label, "value": existing}))
        return problems

    effective = settings or TenantInvoiceSettings(
        vat_rate_percent=Decimal(20), payment_terms_days=0, iban="", allow_siren=True
    )
    deal_problems, lines = analyse_deal(deal, effective)
    if deal_problems or kind is InvoiceKind.FULL:
        return problems

    full_by_vat = subtotals_by_vat(lines)
    full_subtotal = sum(full_by_vat.values(), ZERO)
    invoiced = sum((p.subtotal for p in priors), ZERO)
    remaining = remaining_by_vat(full_by_vat, priors)
    if full_subtotal <= ZERO or invoiced >= full_subtotal or all(v <= ZERO for v in remaining.values()):
        problems.append(Problem("nothing_left", "kind", {"deal": label}))
        return problems

    if kind is InvoiceKind.DEPOSIT and pct is not None:
        deposit = deposit_by_vat(full_by_vat, pct)
        amount = sum(deposit.values(), ZERO)
        if amount <= ZERO:
            problems.append(Problem("deposit_too_small", "percentage", {"deal": label, "percentage": pct}))
        # Per rate as well as in total, so the balance never has to go negative on one rate.
        elif invoiced + amount > full_subtotal or any(deposit[r] > remaining[r] for r in deposit):
            left = max(ZERO, full_subtotal - invoiced)
            params: dict[str, MessageParam] = {
                "deal": label,
                "percentage": pct,
                "amount": Money(amount),
                "left": Money(left),
            }
            problems.append(Problem("deposit_exceeds_deal", "percentage", params))
    return problems
