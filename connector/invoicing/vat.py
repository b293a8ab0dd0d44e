"""VAT rates: HubSpot and the tenant speak in percent ("20"), Qonto in fractions ("0.2")."""

from __future__ import annotations

from decimal import Decimal

from connector.invoicing.amounts import decimal_str, format_number_fr, parse_decimal

# The French rates (metropolitan 20/10/5.5/2.1, overseas 8.5/2.1, exempt 0), as Qonto wants them.
ALLOWED_FRACTIONS: frozenset[str] = frozenset({"0", "0.021", "0.055", "0.085", "0.1", "0.2"})


def percent_to_fraction(percent: Decimal) -> str:
    """20 → "0.2", 5.5 → "0.055", 0 → "0": exact Decimal arithmetic, no exponent, no trailing zero.

    ``scaleb`` shifts the exponent instead of dividing, so no context precision or rounding is
    involved. The result is not checked against ``ALLOWED_FRACTIONS``: see ``allowed_fraction``.
    """
    return decimal_str(percent.scaleb(-2))


def fraction_to_percent(fraction: str) -> Decimal:
    """ "0.055" → Decimal("5.5")."""
    return Decimal(fraction).scaleb(2).normalize()


def allowed_fraction(percent: Decimal) -> str | None:
    """The Qonto fraction for a percentage, or ``None`` when it is not a French rate."""
    if not percent.is_finite():
        return None
    fraction = percent_to_fraction(percent)
    return fraction if fraction in ALLOWED_FRACTIONS else None


def parse_percent_fraction(raw: str | None) -> str | None:
    """A raw HubSpot percentage string ("20", "5.5", "5,5") → allowed fraction, else ``None``."""
    value = parse_decimal(raw)
    return None if value is None else allowed_fraction(value)


def format_vat_fr(fraction: str, *, space: str = " ") -> str:
    """ "0.055" → "5,5 %"."""
    return f"{format_number_fr(fraction_to_percent(fraction))}{space}%"
