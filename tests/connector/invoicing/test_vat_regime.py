"""The client's VAT: French VAT, or reverse charge for an EU business with a valid VAT number (pure)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connector.invoicing.builder import build_invoice
from connector.invoicing.client_payload import client_differences, differences_warning, fill_blanks_patch
from connector.invoicing.problems import InvoiceNotBuildable
from connector.invoicing.snapshot import CompanySnapshot, DealSnapshot, LineItemSnapshot, PriorInvoice
from connector.invoicing.vat_regime import (
    Regime,
    VatMode,
    vat_mode_problems,
    vat_situation,
    vat_warnings,
)
from tests.connector.invoicing.test_validation import SETTINGS

BE = CompanySnapshot(
    id="c1", name="Brüssel Consulting SPRL", address="Avenue Louise 54", city="Bruxelles", zip="1000",
    country="Belgique", vat_number="BE 0512.345.684",
)  # fmt: skip
DEAL = DealSnapshot(
    id="d1",
    name="Mission Bruxelles",
    amount="5000",
    company=BE,
    line_items=(
        LineItemSnapshot(id="l1", name="Atelier", quantity="5", price="1000.00", tax_rate_percent="20"),
    ),
)


def company(**changes: str | None) -> CompanySnapshot:
    import dataclasses

    return dataclasses.replace(BE, **changes)


@pytest.mark.parametrize(
    ("country", "vat_number", "regime", "modes"),
    [
        ("France", None, Regime.FRANCE, ["standard"]),
        ("Monaco", None, Regime.FRANCE, ["standard"]),
        ("Belgique", "BE0512345684", Regime.EU, ["reverse_charge", "standard"]),
        ("Belgique", "BE0512345600", Regime.EU, ["standard"]),  # bad check digits
        ("Allemagne", "BE0512345684", Regime.EU, ["standard"]),  # another country's number
        ("Grèce", "EL094259216", Regime.EU, ["reverse_charge", "standard"]),  # Greece writes EL
        ("Suisse", "CHE-123.456.788", Regime.OUTSIDE_EU, ["standard"]),
    ],
)
def test_situation(country: str, vat_number: str | None, regime: Regime, modes: list[str]) -> None:
    situation = vat_situation(company(country=country, vat_number=vat_number))
    assert situation.regime is regime
    assert [m.value for m in situation.modes] == modes
    assert situation.choice_required is (regime is not Regime.FRANCE)


def test_warnings_say_where_the_client_is_in_both_languages() -> None:
    [eu] = vat_warnings(vat_situation(BE), company="Brüssel Consulting SPRL")
    assert eu.code == "client_in_eu"
    assert "établie en Belgique (n° de TVA BE0512345684)" in eu.message_for("fr")
    assert "established in Belgium (VAT number BE0512345684)" in eu.message_for("en")
    [outside] = vat_warnings(vat_situation(company(country="Suisse")), company="X")
    assert outside.code == "client_outside_eu"
    assert "(Suisse)" in outside.message_for("fr")
    [missing] = vat_warnings(vat_situation(company(vat_number=None)), company="X")
    assert missing.code == "client_in_eu_without_vat_number"
    assert vat_warnings(vat_situation(company(country="France")), company="X") == []


def test_mode_problems() -> None:
    eu = vat_situation(BE)
    codes = lambda ps: [(p.code, p.variant) for p in ps]  # noqa: E731
    assert codes(vat_mode_problems(eu, None, [], company="B", deal="D", required=True)) == [
        ("vat_mode_required", None)
    ]
    assert vat_mode_problems(eu, None, [], company="B", deal="D", required=False) == []
    assert vat_mode_problems(eu, "reverse_charge", [], company="B", deal="D", required=True) == []
    assert codes(vat_mode_problems(eu, "zero", [], company="B", deal="D", required=True)) == [
        ("invalid_vat_mode", None)
    ]
    bad = vat_situation(company(vat_number="BE0512345600"))
    [problem] = vat_mode_problems(bad, "reverse_charge", [], company="B", deal="D", required=True)
    assert (problem.code, problem.variant) == ("reverse_charge_unavailable", "invalid")
    assert "BE0512345600" in problem.message_for("fr")
    assert "BE0512345600" in problem.message_for("en")
    for variant, situation in (("missing", company(vat_number=None)), ("outside", company(country="Suisse"))):
        [p] = vat_mode_problems(
            vat_situation(situation), "reverse_charge", [], company="B", deal="D", required=True
        )
        assert p.variant == variant
        assert p.message_for("fr")
        assert p.message_for("en")
    prior = PriorInvoice(id="p", kind="deposit", number=None, status="draft", vat_mode="reverse_charge")
    [mismatch] = vat_mode_problems(eu, "standard", [prior], company="B", deal="D", required=True)
    assert (mismatch.code, mismatch.variant) == ("vat_mode_mismatch", "reverse")
    dead = PriorInvoice(id="p", kind="deposit", number=None, status="canceled", vat_mode="reverse_charge")
    assert vat_mode_problems(eu, "standard", [dead], company="B", deal="D", required=True) == []


def test_reverse_charge_invoice_is_at_zero_with_the_legal_mention() -> None:
    built = build_invoice(
        DEAL, SETTINGS, kind="full", client_id="cl", reference="ref-1", today=date(2026, 11, 25),
        vat_mode=VatMode.REVERSE_CHARGE,
    )  # fmt: skip
    assert [i["vat_rate"] for i in built.payload["items"]] == ["0"]
    assert built.subtotal == Decimal("5000.00")
    assert built.vat == Decimal("0")
    assert built.total == Decimal("5000.00")
    assert built.payload["footer"] == (
        "Autoliquidation : TVA due par le preneur (article 196 de la directive 2006/112/CE ; article 283-2 "
        "du CGI). N° de TVA intracommunautaire du client : BE0512345684."
    )
    assert built.vat_breakdown == {"0": Decimal("5000.00")}
    standard = build_invoice(
        DEAL, SETTINGS, kind="full", client_id="cl", reference="ref-1", today=date(2026, 11, 25)
    )
    assert "footer" not in standard.payload
    assert standard.vat == Decimal("1000.00")


def test_a_balance_after_a_reverse_charge_deposit_deducts_it_at_zero() -> None:
    deposit = build_invoice(
        DEAL, SETTINGS, kind="deposit", percentage="40", client_id="cl", reference="r1",
        today=date(2026, 11, 25), vat_mode="reverse_charge",
    )  # fmt: skip
    prior = PriorInvoice(
        id="p1", kind="deposit", number="F-1", status="unpaid", subtotal_by_vat=dict(deposit.vat_breakdown),
        subtotal=deposit.subtotal, total=deposit.total, vat_mode="reverse_charge",
    )  # fmt: skip
    balance = build_invoice(
        DEAL, SETTINGS, kind="balance", client_id="cl", reference="r2", today=date(2026, 11, 25),
        prior_invoices=[prior], vat_mode="reverse_charge",
    )  # fmt: skip
    assert balance.subtotal + deposit.subtotal == Decimal("5000.00")
    with pytest.raises(InvoiceNotBuildable) as refused:
        build_invoice(
            DEAL, SETTINGS, kind="balance", client_id="cl", reference="r2", today=date(2026, 11, 25),
            prior_invoices=[prior],
        )  # fmt: skip
    assert [p.code for p in refused.value.problems] == ["vat_mode_mismatch"]


def test_a_qonto_client_is_completed_never_overwritten() -> None:
    wanted = {
        "name": "ACME Industrie SAS", "tax_identification_number": "73282932000074", "currency": "EUR",
        "locale": "FR",
        "billing_address": {"street_address": "12 rue de la Paix", "city": "Paris", "zip_code": "75002",
                            "country_code": "FR"},
    }  # fmt: skip
    bare = {"name": "ACME INDUSTRIE", "tax_identification_number": "73282932000074"}
    assert fill_blanks_patch(wanted, bare) == {
        "currency": "EUR", "locale": "FR", "billing_address": wanted["billing_address"],
    }  # fmt: skip
    assert client_differences(wanted, bare) == ["name"]  # "ACME INDUSTRIE" is not "ACME Industrie SAS"
    same = {**wanted, "name": "acme industrie sas", "billing_address": {**wanted["billing_address"]}}
    assert fill_blanks_patch(wanted, same) == {}
    assert client_differences(wanted, same) == []
    moved = {**wanted, "billing_address": {**wanted["billing_address"], "street_address": "1 avenue Foch"}}
    assert client_differences(wanted, moved) == ["address"]
    warning = differences_warning("ACME", ["name", "address"])
    assert warning is not None
    assert "(nom, adresse)" in warning.message_for("fr")
    assert "(name, address)" in warning.message_for("en")
    assert differences_warning("ACME", []) is None
