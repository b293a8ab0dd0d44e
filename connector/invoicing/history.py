"""Which HubSpot deal an invoice already in Qonto belongs to — decided conservatively (pure).

Attaching a wrong invoice to a deal corrupts its totals, so an invoice is attached only when the
evidence leaves one answer; everything else is listed for a person to decide.

1. **Our own marker.** ``purchase_order`` "HubSpot deal <id> …" (what the connector writes,
   ``connector/invoices/request.py``) names the deal: attached if that deal exists.
2. **The client's tax id ↔ the company's SIRET.** The Qonto client's
   ``tax_identification_number`` (digits only, 14 for a SIRET, 9 for a SIREN) equals the SIRET
   property of exactly one HubSpot company; then, among that company's deals:

   - one deal (in EUR, with an amount): attached if the invoice fits in what is left on it
     (its amount minus what is already invoiced there, net of credit notes);
   - several deals: attached to the one whose amount left equals the invoice's amount excl. VAT,
     when exactly one does.

Anything else is *ambiguous* (several companies, several deals without a single amount match, an
invoice larger than what is left, a deal without amount or not in EUR) and becomes a candidate in
the admin, with the deals to choose from; or *unmatched* (no company, a company without deals,
no tax id), counted only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from connector.invoicing.amounts import ZERO

MARKER_RE = re.compile(r"^\s*HubSpot deal (\d{1,20})\b")

# Decisions that attach, and why.
MARKER = "marker"
ONLY_DEAL = "only_deal"
AMOUNT_MATCH = "amount_match"
ATTACHING = frozenset({MARKER, ONLY_DEAL, AMOUNT_MATCH})
# For a person to decide (the admin lists them with the deals to choose from).
SEVERAL_COMPANIES = "several_companies"
SEVERAL_DEALS = "several_deals"
EXCEEDS_DEAL = "amount_exceeds_deal"
DEAL_WITHOUT_AMOUNT = "deal_without_amount"
NOT_EUR = "deal_not_eur"
AMBIGUOUS = frozenset({SEVERAL_COMPANIES, SEVERAL_DEALS, EXCEEDS_DEAL, DEAL_WITHOUT_AMOUNT, NOT_EUR})
# Nothing to choose from: counted, not listed.
NO_TAX_ID = "no_tax_id"
NO_COMPANY = "no_company"
NO_DEAL = "company_without_deals"
MARKED_DEAL_MISSING = "marked_deal_missing"


def deal_id_from_marker(purchase_order: str | None) -> str | None:
    """ "HubSpot deal 51200000001 / QC-…" → "51200000001"; anything else → None."""
    match = MARKER_RE.match(purchase_order or "")
    return match.group(1) if match else None


def tax_id_digits(raw: str | None) -> str | None:
    """A SIRET (14 digits) or SIREN (9) with its spaces, dots or dashes removed; else None."""
    digits = re.sub(r"[\s.\-]", "", raw or "")
    return digits if digits.isdigit() and len(digits) in (9, 14) else None


@dataclass(frozen=True)
class DealOption:
    """A deal the invoice could belong to. ``invoiced``: already invoiced there, excl. VAT, net."""

    id: str
    name: str = ""
    amount: Decimal | None = None
    currency: str | None = "EUR"
    invoiced: Decimal = ZERO

    @property
    def left(self) -> Decimal | None:
        return None if self.amount is None else self.amount - self.invoiced

    @property
    def in_eur(self) -> bool:
        return (self.currency or "EUR").upper() == "EUR"


@dataclass(frozen=True)
class Decision:
    deal_id: str | None
    reason: str

    @property
    def attach(self) -> bool:
        return self.deal_id is not None and self.reason in ATTACHING

    @property
    def ambiguous(self) -> bool:
        return self.reason in AMBIGUOUS


def choose_deal(subtotal: Decimal, companies: int, options: Sequence[DealOption]) -> Decision:
    """The deal an invoice of ``subtotal`` (excl. VAT) goes to, given its client's tax id matched
    ``companies`` HubSpot companies whose deals are ``options``."""
    if companies == 0:
        return Decision(None, NO_COMPANY)
    if companies > 1:
        return Decision(None, SEVERAL_COMPANIES)
    if not options:
        return Decision(None, NO_DEAL)
    if len(options) == 1:
        only = options[0]
        if not only.in_eur:
            return Decision(None, NOT_EUR)
        if only.left is None:
            return Decision(None, DEAL_WITHOUT_AMOUNT)
        if subtotal > only.left:
            return Decision(None, EXCEEDS_DEAL)
        return Decision(only.id, ONLY_DEAL)
    matches = [o for o in options if o.in_eur and o.left is not None and o.left == subtotal]
    if len(matches) == 1:
        return Decision(matches[0].id, AMOUNT_MATCH)
    return Decision(None, SEVERAL_DEALS)
