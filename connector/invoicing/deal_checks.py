"""Is a deal ready to invoice? Company, SIRET, address, lines, currency and amounts.

Every problem names the HubSpot property (or setting) to fix, in French and in English. The card
shows them as ``{code, field, message}``; ``code`` and ``field`` are stable, the texts are not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from stdnum.fr import siren as stdnum_siren
from stdnum.fr import siret as stdnum_siret

from connector.invoicing.amounts import (
    HUNDRED,
    MAX_AMOUNT,
    ONE,
    ZERO,
    is_blank,
    parse_decimal,
)
from connector.invoicing.countries import country_to_iso, in_sirene
from connector.invoicing.lines import SourceLine
from connector.invoicing.messages import MessageParam, Money
from connector.invoicing.problems import Problem
from connector.invoicing.snapshot import (
    CompanySnapshot,
    DealSnapshot,
    InvoiceKind,
    TenantInvoiceSettings,
)
from connector.invoicing.text import one_line
from connector.invoicing.vat import allowed_fraction

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
