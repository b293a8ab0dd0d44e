"""The exact ``POST /v2/client_invoices`` body for a deal, and the amounts Qonto will compute from it.

Pure: everything comes in as arguments (``today`` included) and nothing is read or written.
Amounts follow spec §9 "Amounts": unit prices in cents, then per line
``subtotal = round_half_up(qty × unit_price × (1 − discount))`` and
``vat = round_half_up(subtotal × rate)``; invoice totals are the sums of the lines. So the
totals we store before Qonto answers are the ones Qonto will answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.invoicing.amounts import (
    ONE,
    ZERO,
    decimal_str,
    format_eur_fr,
    format_number_fr,
    money_str,
    parse_decimal,
)
from connector.invoicing.client_payload import build_client_payload, client_fingerprint
from connector.invoicing.deal_checks import analyse_deal, company_label, deal_label, validate_deal
from connector.invoicing.lines import SourceLine, line_subtotal, line_vat, subtotals_by_vat
from connector.invoicing.problems import InvoiceNotBuildable
from connector.invoicing.request_checks import (
    deposit_by_vat,
    live_priors,
    parse_percentage,
    prior_label,
    remaining_by_vat,
    validate_request,
)
from connector.invoicing.snapshot import (
    DealSnapshot,
    InvoiceKind,
    JSONObject,
    JSONValue,
    PriorInvoice,
    TenantInvoiceSettings,
)
from connector.invoicing.text import (
    DESCRIPTION_MAX,
    PURCHASE_ORDER_MAX,
    clean_block,
    shorten,
    title_and_overflow,
)
from connector.invoicing.vat import ALLOWED_FRACTIONS, format_vat_fr
from connector.invoicing.vat_regime import (
    VatMode,
    reverse_charge_mention,
    vat_mode_problems,
    vat_situation,
    with_vat_mode,
)

__all__ = [  # the client body is re-exported: callers build both from here
    "BuiltInvoice",
    "ComputedLine",
    "JSONObject",
    "JSONValue",
    "build_client_payload",
    "build_invoice",
    "client_fingerprint",
    "subtotal_by_vat_from_payload",
]

UNIT = "unit"
CURRENCY = "EUR"


def _qonto_eur(value: Decimal) -> str:
    # Texts printed by Qonto on the PDF: plain spaces, not the narrow no-break ones of HubSpot texts.
    return format_eur_fr(value, thousands=" ", space=" ")


@dataclass(frozen=True)
class ComputedLine:
    """One invoice item as sent, with the amounts Qonto will compute for it."""

    title: str
    description: str | None
    quantity: Decimal
    unit_price: Decimal
    discount_fraction: Decimal | None
    vat_fraction: str
    subtotal: Decimal
    vat: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.vat

    def item(self) -> dict[str, JSONValue]:
        item: dict[str, JSONValue] = {"title": self.title}
        if self.description:
            item["description"] = self.description
        item.update(
            {
                "quantity": decimal_str(self.quantity),
                "unit": UNIT,
                "unit_price": {"value": money_str(self.unit_price), "currency": CURRENCY},
                "vat_rate": self.vat_fraction,
            }
        )
        if self.discount_fraction:
            item["discount"] = {"type": "percentage", "value": decimal_str(self.discount_fraction)}
        return item


@dataclass(frozen=True)
class BuiltInvoice:
    kind: InvoiceKind
    percentage: Decimal | None
    payload: JSONObject
    lines: tuple[ComputedLine, ...]
    subtotal: Decimal
    vat: Decimal
    total: Decimal
    vat_breakdown: dict[str, Decimal]  # VAT fraction → subtotal excl. VAT at that rate
    deducted: list[dict[str, str | None]]  # for a balance: [{"id", "number", "subtotal"}]
    issue_date: date
    due_date: date

    def vat_breakdown_json(self) -> dict[str, str]:
        """``vat_breakdown`` as strings, to store next to the invoice and rebuild a ``PriorInvoice``."""
        return {rate: money_str(amount) for rate, amount in self.vat_breakdown.items()}


def _computed(
    title: str,
    description: str | None,
    quantity: Decimal,
    unit_price: Decimal,
    discount_fraction: Decimal | None,
    vat_fraction: str,
) -> ComputedLine:
    subtotal = line_subtotal(quantity, unit_price, discount_fraction)
    return ComputedLine(
        title=title,
        description=shorten(description, DESCRIPTION_MAX) if description else None,
        quantity=quantity,
        unit_price=unit_price,
        discount_fraction=discount_fraction,
        vat_fraction=vat_fraction,
        subtotal=subtotal,
        vat=line_vat(subtotal, vat_fraction),
    )


def _full_line(source: SourceLine) -> ComputedLine:
    """A HubSpot line as an item: the full name goes first in the description when the title is cut."""
    title, overflow = title_and_overflow(source.name)
    parts = [overflow] if overflow else []
    if source.description and source.description.strip():
        parts.append(clean_block(source.description))
    if source.discount_amount > ZERO:
        parts.append(f"Remise de {_qonto_eur(source.discount_amount)} par unité incluse")
    return _computed(
        title,
        "\n".join(parts) or None,
        source.quantity,
        source.unit_price,
        source.discount_fraction,
        source.vat_fraction,
    )


def _share_lines(label: str, prefix: str, by_vat: Mapping[str, Decimal]) -> list[ComputedLine]:
    """One item per VAT rate, quantity 1, for a deposit or a balance; rates with nothing are skipped."""
    title, _ = title_and_overflow(f"{prefix} — {label}")
    return [
        _computed(title, f"{prefix} sur « {label} » (TVA {format_vat_fr(rate)})", ONE, amount, None, rate)
        for rate, amount in by_vat.items()
        if amount > ZERO
    ]


def _deducted_header(priors: Sequence[PriorInvoice]) -> str:
    all_deposits = all(p.kind == InvoiceKind.DEPOSIT for p in priors)
    if all_deposits:
        lead = "Acomptes déduits" if len(priors) > 1 else "Acompte déduit"
    else:
        lead = "Factures déduites" if len(priors) > 1 else "Facture déduite"
    listed = ", ".join(f"{prior_label(p)} ({_qonto_eur(p.subtotal)} HT)" for p in priors)
    return f"{lead} : {listed}"


def build_invoice(
    deal: DealSnapshot,
    settings: TenantInvoiceSettings,
    *,
    kind: InvoiceKind | str,
    percentage: Decimal | str | int | None = None,
    prior_invoices: Iterable[PriorInvoice] = (),
    client_id: str,
    reference: str,
    today: date,
    vat_mode: VatMode | str = VatMode.STANDARD,
) -> BuiltInvoice:
    """The Qonto draft invoice for ``deal``: always ``status: "draft"``, dated ``today``.

    ``vat_mode="reverse_charge"`` (an EU business client with a valid VAT number, ``vat_regime``):
    every line at 0 % and the legal mention with the client's VAT number in ``footer``.

    ``prior_invoices`` are the deal's other invoices (not this one). ``client_id`` may be "" when
    the Qonto client is resolved later: the caller then sets ``payload["client_id"]`` before sending.
    The deal and the request are validated again here: ``InvoiceNotBuildable`` (a ``ValueError``)
    carries the problems when they fail; a plain ``ValueError`` reports a caller mistake (reference
    empty or too long, negative payment terms).
    """
    priors_all = tuple(prior_invoices)
    mode = VatMode(vat_mode)
    situation = vat_situation(deal.company)
    # The amounts, with priors of unknown outcome counted as invoiced; whether such a prior blocks
    # a new invoice is the request's decision (``validate_request`` without ``retrying``).
    problems = validate_deal(deal, settings, kind=kind) + validate_request(
        kind, percentage, deal, priors_all, settings=settings, vat_mode=mode, retrying=True
    )
    problems += vat_mode_problems(
        situation,
        mode.value,
        priors_all,
        company=company_label(deal.company) if deal.company else "",
        deal=deal_label(deal),
        required=False,
    )
    if problems:
        raise InvoiceNotBuildable(problems)
    deal, settings = with_vat_mode(deal, settings, mode)
    invoice_kind = InvoiceKind(kind)
    if not reference or len(reference) > PURCHASE_ORDER_MAX:
        # The reference finds the invoice again in Qonto: cutting it would break that silently.
        raise ValueError(f"reference must be 1 to {PURCHASE_ORDER_MAX} characters")
    if settings.payment_terms_days < 0:
        raise ValueError("payment_terms_days must not be negative")

    _, sources = analyse_deal(deal, settings)
    label = deal_label(deal)
    full_by_vat = subtotals_by_vat(sources)
    priors = live_priors(priors_all)
    pct: Decimal | None = None
    header: str | None = None
    deducted: list[dict[str, str | None]] = []

    if invoice_kind is InvoiceKind.FULL:
        lines = [_full_line(source) for source in sources]
    elif invoice_kind is InvoiceKind.DEPOSIT:
        pct = parse_percentage(percentage)
        if pct is None:  # pragma: no cover - validate_request already refused it
            raise ValueError("invalid percentage")
        lines = _share_lines(label, f"Acompte de {format_number_fr(pct)} %", deposit_by_vat(full_by_vat, pct))
    else:
        remaining = {
            rate: max(ZERO, amount) for rate, amount in remaining_by_vat(full_by_vat, priors).items()
        }
        lines = _share_lines(label, "Solde", remaining)
        deducting = [p for p in priors if p.subtotal > ZERO or any(p.subtotal_by_vat.values())]
        if deducting:
            header = _deducted_header(deducting)
            deducted = [
                {"id": p.id, "number": p.number, "subtotal": money_str(p.subtotal)} for p in deducting
            ]

    if not lines:  # pragma: no cover - validate_request refuses what would give no line
        raise InvoiceNotBuildable(())
    assert all(line.vat_fraction in ALLOWED_FRACTIONS for line in lines)

    due_date = today + timedelta(days=settings.payment_terms_days)
    payload: JSONObject = {
        "client_id": client_id,
        # Always a draft: people finalize in Qonto (spec §10.2), and Qonto's default may be "unpaid".
        "status": "draft",
        "issue_date": today.isoformat(),
        "due_date": due_date.isoformat(),
        "currency": CURRENCY,
        "payment_methods": {"iban": settings.iban},
        "purchase_order": reference,
    }
    if header:
        payload["header"] = shorten(header, DESCRIPTION_MAX)
    if mode is VatMode.REVERSE_CHARGE:
        assert situation.vat_number is not None  # vat_mode_problems refused it otherwise
        # Qonto documents ``items[].vat_exemption_reason`` with Italian codes only ("N1") [doc]; its
        # French values are not documented, so the mention goes in the printed footer [assumed].
        payload["footer"] = reverse_charge_mention(situation.vat_number)
    payload["items"] = [line.item() for line in lines]

    breakdown: dict[str, Decimal] = {}
    for line in lines:
        breakdown[line.vat_fraction] = breakdown.get(line.vat_fraction, ZERO) + line.subtotal
    subtotal = sum((line.subtotal for line in lines), ZERO)
    vat = sum((line.vat for line in lines), ZERO)
    return BuiltInvoice(
        kind=invoice_kind,
        percentage=pct,
        payload=payload,
        lines=tuple(lines),
        subtotal=subtotal,
        vat=vat,
        total=subtotal + vat,
        vat_breakdown=breakdown,
        deducted=deducted,
        issue_date=today,
        due_date=due_date,
    )


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, Mapping) else {}


def subtotal_by_vat_from_payload(payload: Mapping[str, object]) -> dict[str, Decimal]:
    """Rebuild ``{fraction: subtotal}`` from a stored request body (``Invoice.payload``).

    Uses the same per-line arithmetic as the builder, so a ``PriorInvoice`` made from an old
    invoice deducts exactly what that invoice charged at each rate.
    """
    out: dict[str, Decimal] = {}
    items = payload.get("items")
    for raw in items if isinstance(items, list) else []:
        item = _mapping(raw)
        rate, quantity_raw = item.get("vat_rate"), item.get("quantity")
        price_raw = _mapping(item.get("unit_price")).get("value")
        if not (isinstance(rate, str) and isinstance(quantity_raw, str) and isinstance(price_raw, str)):
            continue
        quantity, price = parse_decimal(quantity_raw), parse_decimal(price_raw)
        if quantity is None or price is None:
            continue
        discount = _mapping(item.get("discount"))
        fraction = parse_decimal(str(discount.get("value"))) if discount.get("type") == "percentage" else None
        subtotal = line_subtotal(quantity, price, fraction)
        out[rate] = out.get(rate, ZERO) + subtotal
    return out
