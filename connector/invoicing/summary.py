"""What HubSpot shows about a deal's invoices: totals, the summary property, the note per invoice.

Independent of the ORM: callers turn ``Invoice`` rows into ``InvoiceView``s.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.invoicing.amounts import (
    NBSP,
    ZERO,
    decimal_str,
    format_eur_en,
    format_eur_fr,
    format_number_fr,
    money_str,
)
from connector.invoicing.snapshot import is_live


@dataclass(frozen=True)
class InvoiceView:
    """One invoice as the summaries need it. Amounts are Decimal; ``subtotal`` is excl. VAT."""

    id: str
    kind: str
    status: str
    number: str | None = None
    percentage: Decimal | None = None
    subtotal: Decimal = ZERO
    vat: Decimal = ZERO
    total: Decimal = ZERO
    issue_date: date | None = None
    due_date: date | None = None
    paid_at: date | None = None  # the day in Paris (the caller converts Qonto's UTC instant)
    url: str | None = None
    # What Qonto credit notes (avoirs) took back from this invoice: excl. and incl. VAT.
    credited: Decimal = ZERO
    credited_total: Decimal = ZERO

    @property
    def net_subtotal(self) -> Decimal:
        """The invoice's amount excl. VAT once its credit notes are deducted (never below zero)."""
        return max(ZERO, self.subtotal - self.credited)


@dataclass(frozen=True)
class Totals:
    """The card's totals, all excl. VAT (card-api.md)."""

    deal_amount: Decimal
    invoiced: Decimal
    paid: Decimal
    left_to_invoice: Decimal

    def as_dict(self) -> dict[str, str]:
        return {
            "deal_amount": money_str(self.deal_amount),
            "invoiced": money_str(self.invoiced),
            "paid": money_str(self.paid),
            "left_to_invoice": money_str(self.left_to_invoice),
        }


def deal_totals(deal_amount: Decimal | None, invoices: Iterable[InvoiceView]) -> Totals:
    """``invoiced`` counts every invoice not canceled, failed or deleted (pending ones included);
    ``paid`` the paid ones; ``left_to_invoice`` is never negative.

    Credit notes (avoirs) reduce both, invoice by invoice (``net_subtotal``). The facts behind
    that choice: a Qonto credit note has no status and no refund record of its own, it is final
    once created, and credit notes that reach an invoice's total cancel the invoice [doc] — which
    takes a paid invoice out of ``paid`` entirely. A partial credit note on a paid invoice is the
    same thing in part (the client is owed that money back, refunded or offset), so it comes off
    ``paid`` too; otherwise ``paid`` would jump when the last avoir turns the invoice canceled.
    A canceled invoice counts for nothing, so its credit notes are not deducted a second time.
    """
    amount = deal_amount if deal_amount is not None else ZERO
    views = list(invoices)
    invoiced = sum((v.net_subtotal for v in views if is_live(v.status)), ZERO)
    paid = sum((v.net_subtotal for v in views if v.status == "paid"), ZERO)
    return Totals(
        deal_amount=amount, invoiced=invoiced, paid=paid, left_to_invoice=max(ZERO, amount - invoiced)
    )


def is_overdue(status: str, due_date: date | None, today: date) -> bool:
    """Qonto has no "overdue" status: an unpaid invoice past its due date is overdue (spec §4.3)."""
    return status == "unpaid" and due_date is not None and due_date < today


def _date_fr(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _kind_label(view: InvoiceView, lang: str) -> str:
    if view.kind == "deposit":
        if view.percentage is None:
            return "Deposit" if lang == "en" else "Acompte"
        if lang == "en":
            return f"{decimal_str(view.percentage)}% deposit"
        return f"Acompte {format_number_fr(view.percentage)}{NBSP}%"
    if view.kind == "balance":
        return "Balance" if lang == "en" else "Solde"
    if view.kind == "imported":
        return "Existing invoice" if lang == "en" else "Facture existante"
    return "Invoice" if lang == "en" else "Facture"


_STATUS_LABELS: dict[str, dict[str, str]] = {
    "pending": {"fr": "En attente", "en": "Pending"},
    "creating": {"fr": "En cours de création", "en": "Being created"},
    "draft": {"fr": "Brouillon", "en": "Draft"},
    "unpaid": {"fr": "À payer", "en": "Unpaid"},
    "paid": {"fr": "Payée", "en": "Paid"},
    "canceled": {"fr": "Annulée", "en": "Canceled"},
    "deleted": {"fr": "Brouillon supprimé", "en": "Draft deleted"},
    "failed": {"fr": "Échec de la création", "en": "Creation failed"},
}


def _status_label(view: InvoiceView, lang: str, today: date | None) -> str:
    labels = _STATUS_LABELS.get(view.status, {"fr": view.status, "en": view.status})
    label = labels[lang]
    if view.status == "paid" and view.paid_at is not None:
        return f"Paid on {view.paid_at.isoformat()}" if lang == "en" else f"Payée le {_date_fr(view.paid_at)}"
    if view.status == "unpaid" and view.due_date is not None:
        overdue = today is not None and is_overdue(view.status, view.due_date, today)
        if lang == "en":
            return f"{'Overdue' if overdue else label}, due {view.due_date.isoformat()}"
        return f"{'En retard' if overdue else label}, échéance le {_date_fr(view.due_date)}"
    return label


def invoice_summary_line(view: InvoiceView, *, today: date | None = None) -> str:
    """ "F-2026-0001 · Acompte 50 % · 7 200,00 € TTC · Payée le 02/12/2026 [· Avoir 1 200,00 € TTC]"

    The number leads once Qonto gave one; before that the line starts with the kind (the status
    already says "Brouillon" or "Échec de la création": it is not said twice).
    """
    parts = [view.number] if view.number else []
    parts += [_kind_label(view, "fr"), f"{format_eur_fr(view.total)} TTC", _status_label(view, "fr", today)]
    if view.credited_total > ZERO:
        parts.append(f"Avoir {format_eur_fr(view.credited_total)} TTC")
    return " · ".join(parts)


def invoice_summary_lines(invoices: Iterable[InvoiceView], *, today: date | None = None) -> str:
    """The deal's ``qonto_invoices_summary`` textarea: one line per invoice, in the given order.

    With ``today``, unpaid invoices past due read "En retard".
    """
    return "\n".join(invoice_summary_line(view, today=today) for view in invoices)


_NOTE_TEXTS: dict[str, dict[str, str]] = {
    "fr": {
        "numbered": "Facture Qonto {number}",
        "draft": "Brouillon de facture Qonto",
        "subtotal": "Montant HT",
        "vat": "TVA",
        "total": "Montant TTC",
        "issue_date": "Date d'émission",
        "due_date": "Échéance",
        "status": "Statut",
        "link": "Ouvrir dans Qonto",
        "colon": "\u00a0:",
    },
    "en": {
        "numbered": "Qonto invoice {number}",
        "draft": "Qonto draft invoice",
        "subtotal": "Amount excl. VAT",
        "vat": "VAT",
        "total": "Amount incl. VAT",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "status": "Status",
        "link": "Open in Qonto",
        "colon": ":",
    },
}


def note_html(view: InvoiceView, lang: str = "fr", *, today: date | None = None) -> str:
    """The HTML body of the HubSpot note for one invoice. Every piece of text is escaped."""
    language = "en" if (lang or "").lower().startswith("en") else "fr"
    texts = _NOTE_TEXTS[language]
    money = format_eur_en if language == "en" else format_eur_fr

    def fmt_date(value: date) -> str:
        return value.isoformat() if language == "en" else _date_fr(value)

    e = html.escape
    heading = texts["numbered"].format(number=view.number) if view.number else texts["draft"]
    rows: list[tuple[str, str]] = [
        (texts["subtotal"], money(view.subtotal)),
        (texts["vat"], money(view.vat)),
        (texts["total"], money(view.total)),
    ]
    if view.issue_date is not None:
        rows.append((texts["issue_date"], fmt_date(view.issue_date)))
    if view.due_date is not None:
        rows.append((texts["due_date"], fmt_date(view.due_date)))
    rows.append((texts["status"], _status_label(view, language, today)))

    if view.kind == "full":
        kind = "Full invoice" if language == "en" else "Facture complète"
    else:
        kind = _kind_label(view, language)
    parts = [f"<p><strong>{e(heading)}</strong> — {e(kind)}</p>", "<ul>"]
    parts.extend(f"<li>{e(label)}{e(texts['colon'])} {e(value)}</li>" for label, value in rows)
    parts.append("</ul>")
    # Only web links: a javascript: or data: URL must never become clickable in HubSpot.
    if view.url and view.url.lower().startswith(("https://", "http://")):
        parts.append(f'<p><a href="{e(view.url, quote=True)}">{e(texts["link"])}</a></p>')
    return "".join(parts)
