"""The deal's lines once parsed, and the per-line arithmetic Qonto applies (spec §9 "Amounts")."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, localcontext

from connector.invoicing.amounts import ONE, ZERO, round_cents


@dataclass(frozen=True)
class SourceLine:
    """One line to invoice, parsed and checked: a HubSpot line item, or the deal amount itself.

    ``price`` is HubSpot's unit price before the per-unit amount discount ``discount_amount``;
    ``discount_fraction`` is the percentage discount as a fraction (0.1 for 10 %), or ``None``.
    """

    index: int | None  # position in deal.line_items; None for the deal-amount line
    name: str
    description: str | None
    quantity: Decimal
    price: Decimal
    discount_amount: Decimal
    discount_fraction: Decimal | None
    vat_fraction: str

    @property
    def unit_price(self) -> Decimal:
        # Qonto keeps unit prices in cents, so the amount discount is folded in before rounding.
        return round_cents(self.price - self.discount_amount)

    @property
    def subtotal(self) -> Decimal:
        return line_subtotal(self.quantity, self.unit_price, self.discount_fraction)


def line_subtotal(quantity: Decimal, unit_price: Decimal, discount_fraction: Decimal | None) -> Decimal:
    """round_half_up(qty × unit_price × (1 − discount)), with enough precision for any real line."""
    with localcontext() as ctx:
        ctx.prec = 60
        gross = quantity * unit_price
        net = gross * (ONE - discount_fraction) if discount_fraction else gross
        return round_cents(net)


def line_vat(subtotal: Decimal, vat_fraction: str) -> Decimal:
    """round_half_up(subtotal × rate): Qonto rounds the VAT of each line, not of the invoice."""
    with localcontext() as ctx:
        ctx.prec = 60
        return round_cents(subtotal * Decimal(vat_fraction))


def subtotals_by_vat(lines: tuple[SourceLine, ...]) -> dict[str, Decimal]:
    """Fraction → summed line subtotals, in the order rates first appear."""
    out: dict[str, Decimal] = {}
    for line in lines:
        out[line.vat_fraction] = out.get(line.vat_fraction, ZERO) + line.subtotal
    return out
