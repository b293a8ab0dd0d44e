"""The simulator's records: organizations with their bank accounts, clients and invoices."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from datetime import datetime
from typing import Any


@dataclasses.dataclass(slots=True)
class BankAccount:
    id: str
    slug: str
    iban: str
    bic: str
    name: str
    currency: str = "EUR"
    status: str = "active"
    main: bool = False
    balance_cents: int = 0
    authorized_balance_cents: int = 0
    is_external_account: bool = False
    updated_at: datetime | None = None


@dataclasses.dataclass(slots=True)
class Client:
    id: str
    org_login: str
    data: dict[str, Any]  # the documented fields as sent (kind, name, email, billing_address…)
    created_at: datetime
    updated_at: datetime
    reachable: bool | None = None  # e_invoicing_reachable override (else: has an e_invoicing_address)

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "company")

    @property
    def display_name(self) -> str:
        name = self.data.get("name")
        if name:
            return str(name)
        return f"{self.data.get('first_name') or ''} {self.data.get('last_name') or ''}".strip()


@dataclasses.dataclass(slots=True)
class Invoice:
    id: str
    org_login: str
    organization_id: str
    client_id: str
    client: dict[str, Any]  # summary frozen when the invoice is written
    status: str
    issue_date: str
    due_date: str
    payment_iban: str
    items: list[dict[str, Any]]  # computed lines (JSON-ready, never mutated in place)
    subtotal_cents: int
    vat_cents: int
    total_cents: int
    created_at: datetime
    updated_at: datetime
    currency: str = "EUR"
    number: str | None = None
    requested_number: str | None = None
    purchase_order: str | None = None
    performance_start_date: str | None = None
    performance_end_date: str | None = None
    header: str | None = None
    footer: str | None = None
    terms_and_conditions: str | None = None
    discount_conditions: str | None = None
    late_payment_penalties: str | None = None
    legal_fixed_compensation: str | None = None
    contact_email: str | None = None
    discount: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    upload_id: str | None = None
    quote_id: str | None = None
    amount_paid_cents: int = 0
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    canceled_at: datetime | None = None
    deleted_at: datetime | None = None
    attachment_id: str | None = None
    attachment_ready_at: datetime | None = None
    einvoicing_status: str | None = None
    einvoicing_lifecycle_events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    sent_emails: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    credit_notes_ids: list[str] = dataclasses.field(default_factory=list)


# The invoice's free texts and legal mentions, in the order Qonto lists them.
MENTION_FIELDS = (
    "header",
    "footer",
    "terms_and_conditions",
    "discount_conditions",
    "late_payment_penalties",
    "legal_fixed_compensation",
)
INVOICE_DATETIMES = (
    "created_at",
    "updated_at",
    "finalized_at",
    "paid_at",
    "canceled_at",
    "deleted_at",
    "attachment_ready_at",
)


# The organization's legal identity, as Qonto shows it (and the state file keeps it).
LEGAL_FIELDS = (
    "legal_number",
    "legal_form",
    "legal_country",
    "legal_address",
    "legal_sector",
    "legal_registration_date",
    "legal_share_capital",
)


@dataclasses.dataclass
class Organization:
    id: str
    login: str
    secret_key: str
    legal_name: str
    created_at: datetime
    legal_number: str = "000000000"
    legal_form: str = "SAS"
    legal_country: str = "FR"
    legal_address: str = "1 rue de la Paix, 75002 Paris"
    legal_sector: str = "Conseil"
    legal_registration_date: str = "2020-01-15"
    legal_share_capital: int = 10000
    contract_signed_at: datetime | None = None
    locale: str = "fr"
    contact_email: str | None = None
    bank_accounts: list[BankAccount] = dataclasses.field(default_factory=list)
    clients: dict[str, Client] = dataclasses.field(default_factory=dict)
    invoices: dict[str, Invoice] = dataclasses.field(default_factory=dict)  # created_at order
    deleted_invoices: dict[str, Invoice] = dataclasses.field(default_factory=dict)  # tombstones
    credit_notes: dict[str, Any] = dataclasses.field(default_factory=dict)  # credit_notes.CreditNote
    next_number: int = 1
    numbers: set[str] = dataclasses.field(default_factory=set)  # assigned or requested numbers
    idempotency: dict[str, tuple[datetime, int, str]] = dataclasses.field(default_factory=dict)
    version: int = 0  # bumped on every invoice change (invalidates list_cache)
    list_cache: OrderedDict[tuple[Any, ...], tuple[int, list[Invoice]]] = dataclasses.field(
        default_factory=OrderedDict
    )
