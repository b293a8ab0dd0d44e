"""Decimal parsing, rounding and French formatting. Money is ``Decimal`` end to end: never a float."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
ONE = Decimal("1")
HUNDRED = Decimal("100")
# Far above any real deal, and below what ``Invoice`` stores (14 digits, 2 decimals).
MAX_AMOUNT = Decimal("1000000000")

NBSP = "\u00a0"
NNBSP = "\u202f"  # narrow no-break space: the French thousands separator

_SPACES_RE = re.compile(r"[\s\u00a0\u202f\u2009]+")
_PLAIN_DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$")


def parse_decimal(raw: str | None) -> Decimal | None:
    """HubSpot's number string → Decimal; ``None`` when empty or not a finite number.

    HubSpot sends "1000.00" or "10", but values typed into text properties may carry spaces or a
    decimal comma ("1 000,50"), so both are tolerated. NaN, infinities and absurd exponents are not.
    """
    if raw is None:
        return None
    text = _SPACES_RE.sub("", raw)
    if not text:
        return None
    if "," in text:
        if "." in text:
            return None
        text = text.replace(",", ".")
    if not _PLAIN_DECIMAL_RE.match(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a valid decimal
        return None
    return value if value.is_finite() else None


def is_blank(raw: str | None) -> bool:
    return raw is None or not raw.strip()


def round_cents(value: Decimal) -> Decimal:
    """Half-up to the cent, as Qonto does (spec §9 "Amounts")."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money_str(value: Decimal) -> str:
    """Decimal → "1200.00": always two decimals, never an exponent."""
    return f"{round_cents(value):f}"


def decimal_str(value: Decimal) -> str:
    """Decimal → its shortest plain string: 3.000 → "3", 1.50 → "1.5", 100 → "100" (never "1E+2")."""
    text = f"{value.normalize():f}"
    return "0" if text in ("-0", "0") else text


def _group(digits: str, sep: str) -> str:
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return sep.join(groups)


def format_eur_fr(value: Decimal, *, thousands: str = NNBSP, space: str = NBSP) -> str:
    """7200 → "7 200,00 €" (narrow no-break thousands separator, no-break space before the sign).

    Texts printed by Qonto pass plain spaces instead: its PDF fonts are not ours to check.
    """
    rounded = round_cents(value)
    sign = "-" if rounded < 0 else ""
    units, cents = f"{abs(rounded):f}".split(".")
    return f"{sign}{_group(units, thousands)},{cents}{space}€"


def format_eur_en(value: Decimal) -> str:
    """7200 → "€7,200.00"."""
    rounded = round_cents(value)
    sign = "-" if rounded < 0 else ""
    units, cents = f"{abs(rounded):f}".split(".")
    return f"{sign}€{_group(units, ',')}.{cents}"


def format_number_fr(value: Decimal) -> str:
    """A percentage or quantity in French: 50 → "50", 12.5 → "12,5"."""
    return decimal_str(value).replace(".", ",")
