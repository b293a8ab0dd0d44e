"""What Qonto says about an invoice or a credit note, copied onto our row (creation, sync, refresh)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.invoicing.amounts import ZERO, decimal_str
from connector.models import CreditNote, Invoice
from connector.qonto_client import money, parse_datetime


def subtotal_by_vat_of(data: dict[str, Any]) -> dict[str, str] | None:
    """``{vat fraction: subtotal excl. VAT}`` from the items Qonto returns, or None without usable items.

    Each item carries ``vat_rate`` (a fraction, "0.2") and its ``subtotal`` ``{value}`` or
    ``subtotal_cents`` (spec §4.2 [doc]). A draft edited in Qonto changes them: a later balance
    deducts what the deposit charges now, not what it was built with.
    """
    items = data.get("items")
    if not isinstance(items, list) or not items:
        return None
    out: dict[str, Decimal] = {}
    try:
        for item in items:
            rate = decimal_str(Decimal(str(item["vat_rate"])))
            if isinstance(item.get("subtotal"), dict):
                amount = money(item["subtotal"])
            else:
                amount = (Decimal(int(item["subtotal_cents"])) / 100).quantize(Decimal("0.01"))
            out[rate] = out.get(rate, Decimal("0")) + amount
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None
    return {rate: f"{amount:.2f}" for rate, amount in sorted(out.items())}


def _tracked(inv: Invoice) -> tuple[Any, ...]:
    """The fields whose change makes ``apply_qonto_invoice`` report one."""
    return (
        inv.status,
        inv.number,
        inv.total_amount,
        inv.paid_at,
        inv.due_date,
        inv.qonto_url,
        inv.qonto_subtotal_by_vat,
        inv.einvoicing_status,
    )


def apply_qonto_invoice(inv: Invoice, data: dict[str, Any]) -> bool:
    """Copy what Qonto says about an invoice onto our row. Returns True if anything changed."""
    before = _tracked(inv)
    status = str(data.get("status") or "").lower()
    inv.qonto_invoice_id = str(data.get("id")) if data.get("id") else inv.qonto_invoice_id
    if status in ("draft", "unpaid", "paid", "canceled"):
        inv.status = status
    inv.number = data.get("number") or inv.number
    if data.get("issue_date"):
        inv.issue_date = date.fromisoformat(data["issue_date"])
    if data.get("due_date"):
        inv.due_date = date.fromisoformat(data["due_date"])
    if "total_amount" in data:
        inv.total_amount = money(data["total_amount"])
    if "vat_amount" in data:
        inv.vat_amount = money(data["vat_amount"])
    if "total_amount" in data and "vat_amount" in data:
        inv.subtotal_amount = inv.total_amount - inv.vat_amount
    inv.paid_at = parse_datetime(data.get("paid_at")) if status == "paid" else None
    inv.finalized_at = parse_datetime(data.get("finalized_at")) or inv.finalized_at
    inv.qonto_url = str(data.get("invoice_url") or inv.qonto_url or "")[:500]
    inv.qonto_updated_at = parse_datetime(data.get("updated_at")) or inv.qonto_updated_at
    by_vat = subtotal_by_vat_of(data)
    if by_vat is not None:
        inv.qonto_subtotal_by_vat = by_vat
    # [doc] retrieve (and the list [assumed]) carry einvoicing_status; null until sent by e-invoice.
    if "einvoicing_status" in data:
        inv.einvoicing_status = str(data.get("einvoicing_status") or "")[:40]
    if data.get("attachment_id"):  # the PDF, ~10 s after finalize [doc]
        inv.attachment_id = str(data["attachment_id"])[:64]
    return before != _tracked(inv)


def _amount(obj: Any) -> Decimal:
    """A credit-note amount, as a positive Decimal.

    Qonto negates a credit note's item quantities itself [seen: "quantities sent positive; the
    server negates them"], while its documented examples show positive totals [doc]. Whichever
    sign comes back, a credit note always *reduces* its invoice: we keep the magnitude.
    """
    try:
        return abs(money(obj))
    except (InvalidOperation, TypeError, ValueError):
        return ZERO


def credit_note_breakdown(data: dict[str, Any]) -> dict[str, str]:
    """Amount credited excl. VAT per VAT fraction ("0.2" → "200.00"), from the credit note's items.

    The keys have the same form as ``Invoice.payload["vat_breakdown"]`` (``decimal_str``), so a
    balance invoice can deduct a credit note from the right rate.
    """
    out: dict[str, Decimal] = {}
    for item in data.get("items") or []:
        if not isinstance(item, dict):
            continue
        try:
            rate = decimal_str(Decimal(str(item.get("vat_rate") or "0")))
        except (InvalidOperation, ValueError):
            continue
        if "subtotal" in item:
            subtotal = _amount(item["subtotal"])
        elif item.get("subtotal_cents") is not None:
            subtotal = abs(Decimal(int(item["subtotal_cents"])).scaleb(-2))
        else:
            continue
        out[rate] = out.get(rate, ZERO) + subtotal
    return {rate: f"{amount.quantize(Decimal('0.01'))}" for rate, amount in out.items()}


def apply_qonto_credit_note(note: CreditNote, data: dict[str, Any]) -> bool:
    """Copy a Qonto credit note onto our row. Returns True if anything that counts changed."""
    before = (note.number, note.subtotal_amount, note.total_amount, note.vat_breakdown)
    note.qonto_credit_note_id = str(data.get("id") or note.qonto_credit_note_id)
    note.number = str(data.get("number") or note.number or "")[:64]
    if data.get("issue_date"):
        note.issue_date = date.fromisoformat(str(data["issue_date"])[:10])
    note.currency = str(data.get("currency") or note.currency or "EUR")[:3].upper()
    note.total_amount = _amount(data.get("total_amount"))
    note.vat_amount = _amount(data.get("vat_amount"))
    note.subtotal_amount = max(ZERO, note.total_amount - note.vat_amount)
    note.vat_breakdown = credit_note_breakdown(data)
    note.qonto_created_at = parse_datetime(data.get("created_at")) or note.qonto_created_at
    note.qonto_url = str(data.get("invoice_url") or note.qonto_url or "")[:500]
    return before != (note.number, note.subtotal_amount, note.total_amount, note.vat_breakdown)
