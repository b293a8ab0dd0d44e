"""What Qonto says about an invoice, copied onto our row (creation, reconciliation and sync)."""

from __future__ import annotations

from datetime import date
from typing import Any

from connector.models import Invoice
from connector.qonto_client import money, parse_datetime


def apply_qonto_invoice(inv: Invoice, data: dict[str, Any]) -> bool:
    """Copy what Qonto says about an invoice onto our row. Returns True if anything changed."""
    before = (inv.status, inv.number, inv.total_amount, inv.paid_at, inv.due_date, inv.qonto_url)
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
    return before != (inv.status, inv.number, inv.total_amount, inv.paid_at, inv.due_date, inv.qonto_url)
