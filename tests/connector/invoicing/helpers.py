"""Builders of snapshots for the invoicing tests (plain data: no database)."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

from connector.invoicing import (
    BuiltInvoice,
    CompanySnapshot,
    DealSnapshot,
    LineItemSnapshot,
    PriorInvoice,
    TenantInvoiceSettings,
)

TODAY = date(2026, 11, 25)
IBAN = "FR7616798000010000005663951"
CLIENT_ID = "3c90c3cc-0d44-4b50-8888-8dd25736052a"
REFERENCE = "HubSpot deal 51234567890"

SETTINGS = TenantInvoiceSettings(
    vat_rate_percent=Decimal("20"), payment_terms_days=30, iban=IBAN, allow_siren=False
)


def company(**overrides: Any) -> CompanySnapshot:
    base = CompanySnapshot(
        id="30112233445",
        name="ACME SAS",
        address="12 rue de Rivoli",
        address2=None,
        city="Paris",
        zip="75004",
        country="France",
        siret="73282932000074",
        vat_number="FR44732829320",
    )
    return dataclasses.replace(base, **overrides)


def line(id: str = "1", **overrides: Any) -> LineItemSnapshot:
    base = LineItemSnapshot(id=id, name="Prestation", quantity="1", price="100.00", tax_rate_percent="20")
    return dataclasses.replace(base, **overrides)


def deal(*line_items: LineItemSnapshot, **overrides: Any) -> DealSnapshot:
    base = DealSnapshot(
        id="51234567890",
        name="Refonte site",
        amount="12000",
        currency="EUR",
        company=company(),
        line_items=tuple(line_items),
    )
    return dataclasses.replace(base, **overrides)


def prior_from(built: BuiltInvoice, *, id: str, number: str | None, status: str = "unpaid") -> PriorInvoice:
    """What the database will hold for an invoice once built (and maybe finalized in Qonto)."""
    return PriorInvoice(
        id=id,
        kind=built.kind.value,
        number=number,
        status=status,
        subtotal_by_vat=dict(built.vat_breakdown),
        subtotal=built.subtotal,
        total=built.total,
    )


def floats_in(value: object, path: str = "$") -> list[str]:
    """Paths of every float anywhere in a JSON-like structure."""
    if isinstance(value, float):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in floats_in(v, f"{path}.{k}")]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in floats_in(v, f"{path}[{i}]")]
    return []
