"""Plain, frozen inputs of the invoicing core, filled by the HubSpot reader from raw property strings.

Nothing here parses or checks anything: the snapshots keep HubSpot's strings exactly as read
(``None`` for empty), so validation can say precisely which property is wrong and where.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

# JSON as sent to Qonto. No float on purpose: money, quantities and rates are decimal strings.
JSONValue = str | int | bool | None | list["JSONValue"] | dict[str, "JSONValue"]
# Request bodies are typed loosely on purpose: callers index into them (``body["issue_date"]``)
# and hand them to ``requests``; the tests check recursively that no float ever gets in.
JSONObject = dict[str, Any]


class InvoiceKind(StrEnum):
    FULL = "full"
    DEPOSIT = "deposit"
    BALANCE = "balance"


# Invoices in these states never reached Qonto, or were undone there: they invoice nothing.
INACTIVE_STATUSES: frozenset[str] = frozenset({"canceled", "failed", "deleted"})


def is_live(status: str) -> bool:
    """True when an invoice in this status counts as invoiced (pending ones do: they are on their way)."""
    return status not in INACTIVE_STATUSES


@dataclass(frozen=True)
class CompanySnapshot:
    """The deal's primary company, as HubSpot stores it (``country`` is free text)."""

    id: str
    name: str | None = None
    address: str | None = None
    address2: str | None = None
    city: str | None = None
    zip: str | None = None
    country: str | None = None
    siret: str | None = None
    vat_number: str | None = None


@dataclass(frozen=True)
class LineItemSnapshot:
    """One HubSpot line item. ``discount`` is a currency amount per unit; ``discount_percentage`` is 0–100.

    ``tax_rate_percent`` is the percentage of the line's tax-rate group, already resolved by the reader
    ("20", "5.5"), or ``None`` when the line has no tax group (the tenant's default rate applies).
    """

    id: str
    name: str | None = None
    description: str | None = None
    quantity: str | None = None
    price: str | None = None
    discount: str | None = None
    discount_percentage: str | None = None
    tax_rate_percent: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class DealSnapshot:
    id: str
    name: str | None = None
    amount: str | None = None
    currency: str | None = None
    company: CompanySnapshot | None = None
    line_items: tuple[LineItemSnapshot, ...] = ()


@dataclass(frozen=True)
class TenantInvoiceSettings:
    """The tenant's invoicing settings, read from the database by the caller.

    ``siret_property`` only serves to name the HubSpot property in messages.
    """

    vat_rate_percent: Decimal
    payment_terms_days: int
    iban: str
    allow_siren: bool = False
    siret_property: str = "qonto_siret"


@dataclass(frozen=True)
class PriorInvoice:
    """An invoice already made (or on its way) for the same deal.

    ``subtotal_by_vat`` maps a VAT fraction string ("0.2") to the invoice's amount excl. VAT at that
    rate; ``BuiltInvoice.vat_breakdown`` (or ``subtotal_by_vat_from_payload``) gives it.
    """

    id: str
    kind: str
    number: str | None
    status: str
    subtotal_by_vat: Mapping[str, Decimal] = field(default_factory=dict, hash=False)
    subtotal: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    vat_mode: str = "standard"  # "standard" (French VAT) or "reverse_charge" (``vat_regime``)
    # FAILED after its create call may have reached Qonto (an answer lost, then a search Qonto
    # refused): Qonto may hold it. It counts as invoiced, and no new invoice is made for the deal
    # until a retry has searched Qonto (``validate_request``): never over-invoice on a guess.
    outcome_unknown: bool = False

    @property
    def live(self) -> bool:
        return self.outcome_unknown or is_live(self.status)
