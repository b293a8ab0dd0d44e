"""Totals, the deal's summary property, the note per invoice, overdue."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.invoicing import InvoiceView, Totals, deal_totals, invoice_summary_lines, is_overdue, note_html

D = Decimal
NNBSP, NBSP = "\u202f", "\u00a0"


def view(**overrides: object) -> InvoiceView:
    base: dict[str, object] = {
        "id": "7f0c",
        "kind": "deposit",
        "status": "draft",
        "number": None,
        "percentage": D("50"),
        "subtotal": D("6000.00"),
        "vat": D("1200.00"),
        "total": D("7200.00"),
        "issue_date": date(2026, 11, 25),
        "due_date": date(2026, 12, 25),
    }
    base.update(overrides)
    return InvoiceView(**base)


def test_deal_totals_count_live_invoices_only() -> None:
    invoices = [
        view(status="paid", subtotal=D("3000.00")),
        view(status="unpaid", subtotal=D("2000.00")),
        view(status="pending", subtotal=D("1000.00")),
        view(status="canceled", subtotal=D("5000.00")),
        view(status="failed", subtotal=D("5000.00")),
        view(status="deleted", subtotal=D("5000.00")),
    ]
    totals = deal_totals(D("12000"), invoices)
    assert totals == Totals(D("12000"), D("6000.00"), D("3000.00"), D("6000.00"))
    assert totals.as_dict() == {
        "deal_amount": "12000.00",
        "invoiced": "6000.00",
        "paid": "3000.00",
        "left_to_invoice": "6000.00",
    }


def test_left_to_invoice_is_never_negative() -> None:
    totals = deal_totals(D("100"), [view(status="draft", subtotal=D("150"))])
    assert totals.left_to_invoice == D("0")
    assert deal_totals(None, []).as_dict() == {
        "deal_amount": "0.00",
        "invoiced": "0.00",
        "paid": "0.00",
        "left_to_invoice": "0.00",
    }


def test_summary_lines() -> None:
    text = invoice_summary_lines(
        [
            view(number="F-2026-0001", status="paid", paid_at=date(2026, 12, 2)),
            view(kind="full", percentage=None, total=D("14400.00")),
            view(
                kind="balance", percentage=None, number="F-2026-0003", status="unpaid", total=D("1234567.8")
            ),
            view(kind="deposit", percentage=D("33.33"), status="failed", total=D("0.5")),
        ]
    )
    assert text.split("\n") == [
        f"F-2026-0001 · Acompte 50{NBSP}% · 7{NNBSP}200,00{NBSP}€ TTC · Payée le 02/12/2026",
        f"Facture · 14{NNBSP}400,00{NBSP}€ TTC · Brouillon",  # "Brouillon" once, no "—"
        f"F-2026-0003 · Solde · 1{NNBSP}234{NNBSP}567,80{NBSP}€ TTC · À payer, échéance le 25/12/2026",
        f"Acompte 33,33{NBSP}% · 0,50{NBSP}€ TTC · Échec de la création",
    ]


def test_summary_marks_overdue_invoices_when_given_today() -> None:
    unpaid = view(number="F-2026-0004", status="unpaid", kind="full", percentage=None)
    assert invoice_summary_lines([unpaid], today=date(2026, 12, 26)).endswith(
        "En retard, échéance le 25/12/2026"
    )
    assert invoice_summary_lines([unpaid], today=date(2026, 12, 25)).endswith(
        "À payer, échéance le 25/12/2026"
    )
    assert invoice_summary_lines([]) == ""


@pytest.mark.parametrize(
    ("status", "due", "today", "expected"),
    [
        ("unpaid", date(2026, 12, 25), date(2026, 12, 26), True),
        ("unpaid", date(2026, 12, 25), date(2026, 12, 25), False),
        ("paid", date(2026, 12, 25), date(2027, 1, 1), False),
        ("draft", date(2026, 12, 25), date(2027, 1, 1), False),
        ("unpaid", None, date(2027, 1, 1), False),
    ],
)
def test_is_overdue(status: str, due: date | None, today: date, expected: bool) -> None:
    assert is_overdue(status, due, today) is expected


def test_note_html_in_french() -> None:
    html = note_html(
        view(number="F-2026-0001", status="unpaid", url="https://pay.qonto.com/invoices/4d54?a=1&b=2"), "fr"
    )
    assert html == (
        f"<p><strong>Facture Qonto F-2026-0001</strong> — Acompte 50{NBSP}%</p><ul>"
        f"<li>Montant HT{NBSP}: 6{NNBSP}000,00{NBSP}€</li>"
        f"<li>TVA{NBSP}: 1{NNBSP}200,00{NBSP}€</li>"
        f"<li>Montant TTC{NBSP}: 7{NNBSP}200,00{NBSP}€</li>"
        f"<li>Date d&#x27;émission{NBSP}: 25/11/2026</li>"
        f"<li>Échéance{NBSP}: 25/12/2026</li>"
        f"<li>Statut{NBSP}: À payer, échéance le 25/12/2026</li></ul>"
        '<p><a href="https://pay.qonto.com/invoices/4d54?a=1&amp;b=2">Ouvrir dans Qonto</a></p>'
    )


def test_note_html_in_english_for_a_draft() -> None:
    html = note_html(view(kind="full", percentage=None, issue_date=None, due_date=None), "en")
    assert html == (
        "<p><strong>Qonto draft invoice</strong> — Full invoice</p><ul>"
        "<li>Amount excl. VAT: €6,000.00</li><li>VAT: €1,200.00</li><li>Amount incl. VAT: €7,200.00</li>"
        "<li>Status: Draft</li></ul>"
    )


def test_note_html_escapes_everything_and_drops_unsafe_links() -> None:
    html = note_html(view(number='<script>alert("x")</script>', url="javascript:alert(1)"), "fr")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "javascript:" not in html
    assert "<a " not in html
    html = note_html(view(url='https://x.test/"onmouseover="alert(1)'), "fr")
    assert 'href="https://x.test/&quot;onmouseover=&quot;alert(1)"' in html
