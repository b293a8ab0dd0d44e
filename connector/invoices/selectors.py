"""Reads of invoice rows, in the shapes the card, the summaries and the builder use."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from connector.invoicing.amounts import decimal_str
from connector.invoicing.snapshot import PriorInvoice
from connector.invoicing.summary import InvoiceView
from connector.models import CreditNote, Invoice, Tenant

# Statuses in which the row is finished with Qonto creation.
SETTLED = frozenset(
    {
        Invoice.Status.DRAFT,
        Invoice.Status.UNPAID,
        Invoice.Status.PAID,
        Invoice.Status.CANCELED,
        Invoice.Status.DELETED,
        Invoice.Status.FAILED,
    }
)


def card_status(invoice: Invoice) -> str:
    """Our status as the card and HubSpot show it."""
    if invoice.status in (Invoice.Status.PENDING, Invoice.Status.CREATING):
        return "pending"
    if invoice.status == Invoice.Status.DELETED:
        return "canceled"
    return str(invoice.status)


def current_subtotal_by_vat(inv: Invoice) -> dict[str, Decimal]:
    """What the invoice charges excl. VAT per rate *now*: Qonto's lines once known (a draft may
    have been edited there, and the sync copies it), else what we built at the click."""
    raw = inv.qonto_subtotal_by_vat or (inv.payload or {}).get("vat_breakdown") or {}
    by_vat = {rate: Decimal(str(amount)) for rate, amount in raw.items()}
    if len(by_vat) == 1 and sum(by_vat.values()) != inv.subtotal_amount and inv.qonto_invoice_id:
        # One rate: Qonto's subtotal (kept by the sync even without lines) is that rate's amount.
        by_vat = {next(iter(by_vat)): inv.subtotal_amount}
    return by_vat


def _credited_by_vat(invoices: list[Invoice]) -> dict[str, dict[str, Decimal]]:
    """{invoice id: {VAT fraction: amount credited excl. VAT}} for the invoices that have avoirs."""
    credited = [inv.pk for inv in invoices if inv.credited_subtotal]
    out: dict[str, dict[str, Decimal]] = {}
    if not credited:
        return out
    for note in CreditNote.objects.filter(invoice_id__in=credited).only("invoice_id", "vat_breakdown"):
        rates = out.setdefault(str(note.invoice_id), {})
        for rate, amount in (note.vat_breakdown or {}).items():
            key = decimal_str(Decimal(rate))
            rates[key] = rates.get(key, Decimal("0")) + Decimal(amount)
    return out


def _net_by_vat(inv: Invoice, credited: dict[str, Decimal]) -> dict[str, Decimal]:
    by_vat = {decimal_str(Decimal(k)): v for k, v in current_subtotal_by_vat(inv).items()}
    for rate, amount in credited.items():
        by_vat[rate] = by_vat.get(rate, Decimal("0")) - amount
    return by_vat


def prior_invoices(invoices: list[Invoice]) -> list[PriorInvoice]:
    """The deal's other invoices as the checks and the builder see them: with today's amounts, net
    of credit notes, so a balance invoices again what an avoir took back (and nothing twice)."""
    credited = _credited_by_vat(invoices)
    return [
        PriorInvoice(
            id=str(inv.id),
            kind=inv.kind,
            number=inv.number,
            status=card_status(inv) if inv.status != Invoice.Status.DELETED else "deleted",
            subtotal_by_vat=_net_by_vat(inv, credited.get(str(inv.id), {})),
            subtotal=max(Decimal("0"), inv.subtotal_amount - inv.credited_subtotal),
            total=max(Decimal("0"), inv.total_amount - inv.credited_total),
            vat_mode=str((inv.payload or {}).get("vat_mode") or "standard"),
            outcome_unknown=outcome_unknown(inv),
        )
        for inv in invoices
    ]


def outcome_unknown(inv: Invoice) -> bool:
    """FAILED although its create call may have reached Qonto (submitted, no Qonto id known)."""
    return inv.status == Invoice.Status.FAILED and inv.submitted_at is not None and not inv.qonto_invoice_id


def invoice_view(invoice: Invoice) -> InvoiceView:
    return InvoiceView(
        id=str(invoice.id),
        kind=invoice.kind,
        percentage=invoice.percentage,
        status=card_status(invoice),
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        subtotal=invoice.subtotal_amount,
        vat=invoice.vat_amount,
        total=invoice.total_amount,
        # Qonto dates a payment in UTC; the customer reads the day it was in Paris (TIME_ZONE).
        paid_at=timezone.localdate(invoice.paid_at) if invoice.paid_at else None,
        url=invoice.qonto_url,
        credited=invoice.credited_subtotal,
        credited_total=invoice.credited_total,
    )


def invoice_get_by_key(*, tenant: Tenant, idempotency_key: str) -> Invoice | None:
    return Invoice.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()


def decimal_or_none(raw: str | None) -> Decimal | None:
    try:
        return Decimal(str(raw)).quantize(Decimal("0.01")) if raw not in (None, "") else None
    except ArithmeticError:
        return None
