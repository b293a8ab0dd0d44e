"""Constants of Qonto's contract (statuses, VAT rates, list parameters, default mentions) and the
value helpers (decimal strings, cents, dates, IBANs, accent folding).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

STATUSES = ("draft", "unpaid", "paid", "canceled")
CREATABLE_STATUSES = ("draft", "unpaid")
FRENCH_VAT_RATES = frozenset(Decimal(r) for r in ("0", "0.021", "0.055", "0.085", "0.1", "0.2"))
CLIENT_KINDS = ("company", "individual", "freelancer")
LOCALES = ("fr", "en", "it", "de", "es")
ADDRESS_FIELDS = ("street_address", "city", "zip_code", "province_code", "country_code")
REQUIRED_ADDRESS_FIELDS = ("street_address", "city", "zip_code", "country_code")
IDEMPOTENCY_TTL = timedelta(minutes=30)
ONELOGIN_URL = "https://qonto.onelogin.com/login"
QONTO_BIC = "QNTOFRP1XXX"
PARIS = ZoneInfo("Europe/Paris")
LIST_CACHE_SIZE = 16  # filtered+sorted invoice lists kept per organization while nothing changes
DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")
COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
EINVOICING_ADDRESS_RE = re.compile(r"^\d{9}(_\d{14})?(_[A-Za-z0-9-]+)?$")
PHONE_CC_RE = re.compile(r"^\+\d{1,4}$")
INVOICE_LIST_PARAMS = (
    "filter[status]",
    "filter[created_at_from]",
    "filter[created_at_to]",
    "filter[updated_at_from]",
    "filter[updated_at_to]",
    "filter[due_date]",
    "filter[due_date_from]",
    "filter[due_date_to]",
    "exclude_imported",
    "sort_by",
    "page",
    "per_page",
)
CLIENT_LIST_PARAMS = (
    "filter[tax_identification_number]",
    "filter[vat_number]",
    "filter[email]",
    "filter[name]",
    "filter[updated_at_from]",
    "filter[updated_at_to]",
    "sort_by",
    "page",
    "per_page",
)

# Mentions Qonto fills in from the organization settings when the request leaves them out [assumed].
DEFAULT_DISCOUNT_CONDITIONS = "Pas d'escompte accordé pour paiement anticipé."
DEFAULT_LATE_PAYMENT_PENALTIES = (
    "En cas de non-paiement à la date d'échéance, des pénalités calculées à trois fois le taux "
    "d'intérêt légal seront appliquées."
)
DEFAULT_LEGAL_FIXED_COMPENSATION = (
    "Tout retard de paiement entraînera une indemnité forfaitaire pour frais de recouvrement de 40 €."
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def decimal_string(value: Any) -> Decimal | None:
    """A decimal given as a JSON *string* ("1", "0.2", "1200.00"), else None (numbers are refused)."""
    if not isinstance(value, str) or not DECIMAL_RE.match(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a valid decimal
        return None


def to_cents(euros: Decimal) -> int:
    return int((euros * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def round_cents(cents: Decimal) -> int:
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def format_cents(cents: int, non_normalised: bool = False) -> str:
    if non_normalised:
        return repr(cents / 100)  # "1200.0", "300.5": Qonto's values are not always normalised
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def normalise_iban(iban: str) -> str:
    return re.sub(r"\s+", "", iban).upper()
