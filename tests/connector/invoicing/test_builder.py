"""``build_invoice``: the exact Qonto bodies for many deals, and the amounts we expect back."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from connector.invoicing import (
    BuiltInvoice,
    DealSnapshot,
    InvoiceKind,
    InvoiceNotBuildable,
    PriorInvoice,
    TenantInvoiceSettings,
    build_invoice,
    subtotal_by_vat_from_payload,
)
from tests.connector.invoicing.helpers import (
    CLIENT_ID,
    IBAN,
    REFERENCE,
    SETTINGS,
    TODAY,
    deal,
    floats_in,
    line,
    prior_from,
)

D = Decimal


def build(
    the_deal: DealSnapshot,
    *,
    kind: str = "full",
    percentage: str | int | Decimal | None = None,
    priors: Sequence[PriorInvoice] = (),
    settings: TenantInvoiceSettings = SETTINGS,
    today: date = TODAY,
) -> BuiltInvoice:
    built = build_invoice(
        the_deal,
        settings,
        kind=kind,
        percentage=percentage,
        prior_invoices=priors,
        client_id=CLIENT_ID,
        reference=REFERENCE,
        today=today,
    )
    assert built.payload["status"] == "draft"
    assert floats_in(built.payload) == []
    assert built.total == built.subtotal + built.vat
    return built


def envelope(items: list[dict[str, object]], **extra: object) -> dict[str, object]:
    """The body's fixed part, as every test deal with the default settings gets it."""
    body: dict[str, object] = {
        "client_id": CLIENT_ID,
        "status": "draft",
        "issue_date": "2026-11-25",
        "due_date": "2026-12-25",
        "currency": "EUR",
        "payment_methods": {"iban": IBAN},
        "purchase_order": REFERENCE,
    }
    body.update(extra)
    body["items"] = items
    return body


def item(title: str, quantity: str, price: str, vat_rate: str, **extra: object) -> dict[str, object]:
    out: dict[str, object] = {"title": title}
    if "description" in extra:
        out["description"] = extra.pop("description")
    out.update(
        quantity=quantity, unit="unit", unit_price={"value": price, "currency": "EUR"}, vat_rate=vat_rate
    )
    out.update(extra)
    return out


def amounts(built: BuiltInvoice) -> list[tuple[str, str]]:
    return [(str(x.subtotal), str(x.vat)) for x in built.lines]


# --- full invoices -------------------------------------------------------------------------------


def test_full_invoice_with_four_vat_rates() -> None:
    built = build(
        deal(
            line("1", name="Conception graphique", quantity="2", price="1500", tax_rate_percent="20"),
            line("2", name="Hébergement restaurant", quantity="1", price="80.50", tax_rate_percent="10"),
            line("3", name="Livres techniques", quantity="4", price="19.99", tax_rate_percent="5.5"),
            line("4", name="Formation exonérée", quantity="1", price="700", tax_rate_percent="0"),
        )
    )
    assert built.payload == envelope(
        [
            item("Conception graphique", "2", "1500.00", "0.2"),
            item("Hébergement restaurant", "1", "80.50", "0.1"),
            item("Livres techniques", "4", "19.99", "0.055"),
            item("Formation exonérée", "1", "700.00", "0"),
        ]
    )
    # 79.96 × 5.5 % = 4.3978 → 4.40; 80.50 × 10 % = 8.05.
    assert amounts(built) == [("3000.00", "600.00"), ("80.50", "8.05"), ("79.96", "4.40"), ("700.00", "0.00")]
    assert (built.subtotal, built.vat, built.total) == (D("3860.46"), D("612.45"), D("4472.91"))
    assert built.vat_breakdown == {
        "0.2": D("3000.00"),
        "0.1": D("80.50"),
        "0.055": D("79.96"),
        "0": D("700.00"),
    }
    assert built.deducted == []
    assert built.kind is InvoiceKind.FULL


def test_three_times_33_333_rounds_the_unit_price_first() -> None:
    built = build(deal(line(name="Audit", quantity="3", price="33.333")))
    assert built.payload["items"] == [item("Audit", "3", "33.33", "0.2")]
    assert amounts(built) == [("99.99", "20.00")]
    assert (built.subtotal, built.vat, built.total) == (D("99.99"), D("20.00"), D("119.99"))


def test_half_a_cent_rounds_half_up() -> None:
    built = build(deal(line(name="Micro", quantity="0.5", price="0.01")))
    assert built.payload["items"] == [item("Micro", "0.5", "0.01", "0.2")]
    # 0.5 × 0.01 = 0.005 → 0.01; 0.01 × 20 % = 0.002 → 0.00.
    assert (built.subtotal, built.vat, built.total) == (D("0.01"), D("0.00"), D("0.01"))


def test_quantities_are_normalised_decimal_strings() -> None:
    built = build(
        deal(
            line("1", name="A", quantity="3.000", price="10"),
            line("2", name="B", quantity="1.50", price="10"),
            line("3", name="C", quantity="1e2", price="0.10"),
        )
    )
    assert [i["quantity"] for i in built.payload["items"]] == ["3", "1.5", "100"]
    assert amounts(built) == [("30.00", "6.00"), ("15.00", "3.00"), ("10.00", "2.00")]


def test_zero_percent_line() -> None:
    built = build(deal(line(name="Formation", quantity="1", price="1000", tax_rate_percent="0")))
    assert built.payload["items"] == [item("Formation", "1", "1000.00", "0")]
    assert (built.subtotal, built.vat, built.total) == (D("1000.00"), D("0.00"), D("1000.00"))
    assert built.vat_breakdown == {"0": D("1000.00")}


def test_line_without_tax_rate_takes_the_tenant_rate() -> None:
    settings = dataclasses.replace(SETTINGS, vat_rate_percent=D("8.5"))
    built = build(deal(line(name="Service Réunion", price="100", tax_rate_percent=None)), settings=settings)
    assert built.payload["items"] == [item("Service Réunion", "1", "100.00", "0.085")]
    assert amounts(built) == [("100.00", "8.50")]


def test_percentage_discount_is_sent_as_a_fraction() -> None:
    built = build(
        deal(
            line("1", name="Licence", quantity="10", price="1000.00", discount_percentage="10"),
            line("2", name="Support", quantity="3", price="99.99", discount_percentage="12.5"),
        )
    )
    assert built.payload["items"] == [
        item("Licence", "10", "1000.00", "0.2", discount={"type": "percentage", "value": "0.1"}),
        item("Support", "3", "99.99", "0.2", discount={"type": "percentage", "value": "0.125"}),
    ]
    # 299.97 × 0.875 = 262.47375 → 262.47; VAT 52.494 → 52.49.
    assert amounts(built) == [("9000.00", "1800.00"), ("262.47", "52.49")]
    assert built.total == D("11114.96")


def test_zero_percentage_discount_sends_no_discount() -> None:
    built = build(deal(line(name="Licence", discount_percentage="0")))
    assert "discount" not in built.payload["items"][0]


def test_amount_discount_is_folded_into_the_unit_price() -> None:
    built = build(
        deal(
            line("1", name="Chaise", quantity="4", price="200", discount="50"),
            line(
                "2", name="Serveur", quantity="1", price="12000", discount="1500", description="Modèle R760"
            ),
        )
    )
    assert built.payload["items"] == [
        item("Chaise", "4", "150.00", "0.2", description="Remise de 50,00 € par unité incluse"),
        item(
            "Serveur",
            "1",
            "10500.00",
            "0.2",
            description="Modèle R760\nRemise de 1 500,00 € par unité incluse",
        ),
    ]
    assert amounts(built) == [("600.00", "120.00"), ("10500.00", "2100.00")]


def test_amount_and_percentage_discount_together() -> None:
    built = build(
        deal(line(name="Table", quantity="2", price="100", discount="10", discount_percentage="50"))
    )
    assert built.payload["items"] == [
        item(
            "Table",
            "2",
            "90.00",
            "0.2",
            description="Remise de 10,00 € par unité incluse",
            discount={"type": "percentage", "value": "0.5"},
        )
    ]
    assert amounts(built) == [("90.00", "18.00")]


def test_long_accented_name_is_cut_on_a_word_and_kept_whole_in_the_description() -> None:
    name = "Maintenance évolutive et corrective de l'équipement électrique du siège"
    built = build(deal(line(name=name, description="Contrat annuel,\n  révisable  chaque année.\n\n\n")))
    assert built.payload["items"] == [
        item(
            "Maintenance évolutive et corrective de…",
            "1",
            "100.00",
            "0.2",
            description=f"{name}\nContrat annuel,\nrévisable chaque année.",
        )
    ]
    assert len("Maintenance évolutive et corrective de…") <= 40


def test_name_of_exactly_40_characters_is_not_cut() -> None:
    name = "Étude préalable à la migration des donné"
    assert len(name) == 40
    built = build(deal(line(name=name)))
    assert built.payload["items"] == [item(name, "1", "100.00", "0.2")]


def test_name_without_spaces_is_cut_inside_the_word() -> None:
    name = "Développement-spécifique-sur-mesure-du-module-de-facturation"
    built = build(deal(line(name=name)))
    assert built.payload["items"] == [
        item("Développement-spécifique-sur-mesure-du…", "1", "100.00", "0.2", description=name)
    ]


def test_description_is_cut_to_1800_characters() -> None:
    built = build(deal(line(name="Rapport", description="mot " * 600)))
    description = built.payload["items"][0]["description"]
    assert isinstance(description, str)
    assert len(description) <= 1800
    assert description.endswith("mot…")


def test_deal_without_line_items_is_one_line_at_the_deal_amount() -> None:
    built = build(deal(amount="12000"))
    assert built.payload == envelope([item("Refonte site", "1", "12000.00", "0.2")])
    assert (built.subtotal, built.vat, built.total) == (D("12000.00"), D("2400.00"), D("14400.00"))


def test_deal_without_line_items_and_a_long_name() -> None:
    name = "Refonte complète du site vitrine et de l'espace client ACME"
    built = build(deal(name=name, amount="1234.567"))
    assert built.payload["items"] == [
        item("Refonte complète du site vitrine et de…", "1", "1234.57", "0.2", description=name)
    ]


def test_dates_come_from_today_and_the_payment_terms() -> None:
    settings = dataclasses.replace(SETTINGS, payment_terms_days=45)
    built = build(deal(line()), settings=settings, today=date(2026, 12, 1))
    assert (built.payload["issue_date"], built.payload["due_date"]) == ("2026-12-01", "2027-01-15")
    settings = dataclasses.replace(SETTINGS, payment_terms_days=0)
    built = build(deal(line()), settings=settings)
    assert (built.payload["issue_date"], built.payload["due_date"]) == ("2026-11-25", "2026-11-25")


def test_status_is_draft_for_every_kind() -> None:
    the_deal = deal(line(price="1000"))
    full = build(the_deal)
    deposit = build(the_deal, kind="deposit", percentage="40")
    balance = build(the_deal, kind="balance", priors=[prior_from(deposit, id="d1", number=None)])
    assert {full.payload["status"], deposit.payload["status"], balance.payload["status"]} == {"draft"}


# --- deposits and balance ------------------------------------------------------------------------


def test_deposit_30_then_balance() -> None:
    the_deal = deal(
        line("1", name="Développement", quantity="10", price="1000", tax_rate_percent="20"),
        line("2", name="Livres", quantity="10", price="33.33", tax_rate_percent="5.5"),
    )
    deposit = build(the_deal, kind="deposit", percentage="30")
    assert deposit.payload == envelope(
        [
            item(
                "Acompte de 30 % — Refonte site",
                "1",
                "3000.00",
                "0.2",
                description="Acompte de 30 % sur « Refonte site » (TVA 20 %)",
            ),
            # 333.30 × 30 % = 99.99.
            item(
                "Acompte de 30 % — Refonte site",
                "1",
                "99.99",
                "0.055",
                description="Acompte de 30 % sur « Refonte site » (TVA 5,5 %)",
            ),
        ]
    )
    assert amounts(deposit) == [("3000.00", "600.00"), ("99.99", "5.50")]
    assert deposit.percentage == D("30")
    assert deposit.vat_breakdown == {"0.2": D("3000.00"), "0.055": D("99.99")}

    prior = prior_from(deposit, id="7f0c", number="F-2026-0001")
    balance = build(the_deal, kind="balance", priors=[prior])
    assert balance.payload == envelope(
        [
            item(
                "Solde — Refonte site",
                "1",
                "7000.00",
                "0.2",
                description="Solde sur « Refonte site » (TVA 20 %)",
            ),
            item(
                "Solde — Refonte site",
                "1",
                "233.31",
                "0.055",
                description="Solde sur « Refonte site » (TVA 5,5 %)",
            ),
        ],
        header="Acompte déduit : F-2026-0001 (3 099,99 € HT)",
    )
    assert balance.deducted == [{"id": "7f0c", "number": "F-2026-0001", "subtotal": "3099.99"}]
    full = build(the_deal)
    for rate, amount in full.vat_breakdown.items():
        assert deposit.vat_breakdown[rate] + balance.vat_breakdown[rate] == amount


def test_deposit_50_with_two_vat_rates_gives_two_lines() -> None:
    the_deal = deal(
        line("1", name="Site", quantity="1", price="10000", tax_rate_percent="20"),
        line("2", name="Hébergement", quantity="12", price="166.67", tax_rate_percent="10"),
        line("3", name="Maquettes", quantity="1", price="2000", tax_rate_percent="20"),
    )
    built = build(the_deal, kind="deposit", percentage=D("50"))
    assert built.payload["items"] == [
        item(
            "Acompte de 50 % — Refonte site",
            "1",
            "6000.00",
            "0.2",
            description="Acompte de 50 % sur « Refonte site » (TVA 20 %)",
        ),
        # 12 × 166.67 = 2000.04; half is 1000.02.
        item(
            "Acompte de 50 % — Refonte site",
            "1",
            "1000.02",
            "0.1",
            description="Acompte de 50 % sur « Refonte site » (TVA 10 %)",
        ),
    ]
    assert (built.subtotal, built.vat, built.total) == (D("7000.02"), D("1300.00"), D("8300.02"))


def test_deposit_rounds_each_rate_half_up_and_prints_french_percentages() -> None:
    the_deal = deal(
        line(name="Site", quantity="1", price="100.01"), name="Refonte complète du site vitrine ACME"
    )
    built = build(the_deal, kind="deposit", percentage="33.33")
    # 100.01 × 33.33 % = 33.333333 → 33.33.
    assert built.payload["items"] == [
        item(
            "Acompte de 33,33 % — Refonte complète…",
            "1",
            "33.33",
            "0.2",
            description="Acompte de 33,33 % sur « Refonte complète du site vitrine ACME » (TVA 20 %)",
        )
    ]


def test_deposit_of_a_deal_without_line_items() -> None:
    built = build(deal(amount="12000"), kind="deposit", percentage=50)
    assert built.payload["items"] == [
        item(
            "Acompte de 50 % — Refonte site",
            "1",
            "6000.00",
            "0.2",
            description="Acompte de 50 % sur « Refonte site » (TVA 20 %)",
        )
    ]
    assert built.total == D("7200.00")


def test_balance_after_two_deposits_one_still_a_draft_ignores_canceled_ones() -> None:
    the_deal = deal(amount="12000")
    first = build(the_deal, kind="deposit", percentage="50")
    canceled = dataclasses.replace(prior_from(first, id="c", number="F-2026-0002"), status="canceled")
    failed = dataclasses.replace(prior_from(first, id="f", number=None), status="failed")
    p1 = prior_from(first, id="a", number="F-2026-0001", status="paid")
    second = build(the_deal, kind="deposit", percentage="25", priors=[p1, canceled, failed])
    p2 = prior_from(second, id="b", number=None, status="draft")
    balance = build(the_deal, kind="balance", priors=[p1, canceled, p2, failed])
    assert balance.payload == envelope(
        [
            item(
                "Solde — Refonte site",
                "1",
                "3000.00",
                "0.2",
                description="Solde sur « Refonte site » (TVA 20 %)",
            )
        ],
        header="Acomptes déduits : F-2026-0001 (6 000,00 € HT), brouillon (3 000,00 € HT)",
    )
    assert balance.deducted == [
        {"id": "a", "number": "F-2026-0001", "subtotal": "6000.00"},
        {"id": "b", "number": None, "subtotal": "3000.00"},
    ]
    assert (balance.subtotal, balance.vat, balance.total) == (D("3000.00"), D("600.00"), D("3600.00"))


def test_balance_skips_a_rate_already_fully_invoiced() -> None:
    the_deal = deal(
        line("1", name="Site", price="1000", tax_rate_percent="20"),
        line("2", name="Livre", price="100", tax_rate_percent="5.5"),
    )
    # A deposit people edited in Qonto to cover the whole 5.5 % part.
    prior = PriorInvoice(
        id="x",
        kind="deposit",
        number="F-1",
        status="unpaid",
        subtotal_by_vat={"0.2": D("100.00"), "0.055": D("100.00")},
        subtotal=D("200.00"),
        total=D("225.50"),
    )
    built = build(the_deal, kind="balance", priors=[prior])
    assert [(i["unit_price"], i["vat_rate"]) for i in built.payload["items"]] == [
        ({"value": "900.00", "currency": "EUR"}, "0.2")
    ]


def test_balance_without_any_prior_invoice_is_the_whole_deal() -> None:
    built = build(deal(amount="500"), kind="balance")
    assert built.payload == envelope(
        [
            item(
                "Solde — Refonte site",
                "1",
                "500.00",
                "0.2",
                description="Solde sur « Refonte site » (TVA 20 %)",
            )
        ]
    )
    assert built.deducted == []


# --- refusals and helpers ------------------------------------------------------------------------


def test_refuses_a_deal_that_does_not_validate() -> None:
    with pytest.raises(InvoiceNotBuildable) as exc:
        build(deal(line(quantity="0"), company=None))
    assert [p.code for p in exc.value.problems] == ["missing_company", "invalid_quantity"]
    assert isinstance(exc.value, ValueError)


def test_refuses_a_request_that_does_not_validate() -> None:
    the_deal = deal(amount="1000")
    deposit = build(the_deal, kind="deposit", percentage="60")
    with pytest.raises(InvoiceNotBuildable) as exc:
        build(the_deal, kind="deposit", percentage="50", priors=[prior_from(deposit, id="a", number=None)])
    assert [p.code for p in exc.value.problems] == ["deposit_exceeds_deal"]
    with pytest.raises(InvoiceNotBuildable):
        build(the_deal, kind="full", priors=[prior_from(deposit, id="a", number=None)])


@pytest.mark.parametrize(
    ("client_id", "reference", "settings"),
    [
        (CLIENT_ID, "", SETTINGS),
        (CLIENT_ID, "x" * 81, SETTINGS),
        (CLIENT_ID, REFERENCE, dataclasses.replace(SETTINGS, payment_terms_days=-1)),
    ],
)
def test_refuses_caller_mistakes(client_id: str, reference: str, settings: TenantInvoiceSettings) -> None:
    with pytest.raises(ValueError, match=r"reference|payment_terms"):
        build_invoice(
            deal(line()),
            settings,
            kind="full",
            percentage=None,
            prior_invoices=(),
            client_id=client_id,
            reference=reference,
            today=TODAY,
        )


def test_reference_of_80_characters_is_the_purchase_order() -> None:
    reference = "r" * 80
    built = build_invoice(
        deal(line()),
        SETTINGS,
        kind="full",
        prior_invoices=(),
        client_id="c",
        reference=reference,
        today=TODAY,
    )
    assert built.payload["purchase_order"] == reference


def test_subtotal_by_vat_can_be_rebuilt_from_the_stored_payload() -> None:
    built = build(
        deal(
            line("1", name="A", quantity="3", price="33.333", discount_percentage="12.5"),
            line("2", name="B", quantity="0.5", price="0.01", tax_rate_percent="5.5"),
            line("3", name="C", quantity="2", price="200", discount="50", tax_rate_percent="0"),
        )
    )
    assert subtotal_by_vat_from_payload(built.payload) == built.vat_breakdown
    assert built.vat_breakdown_json() == {"0.2": "87.49", "0.055": "0.01", "0": "300.00"}


def test_client_id_can_be_filled_in_later() -> None:
    built = build_invoice(
        deal(line()), SETTINGS, kind="full", prior_invoices=(), client_id="", reference="r", today=TODAY
    )
    assert built.payload["client_id"] == ""
    assert (built.issue_date, built.due_date) == (date(2026, 11, 25), date(2026, 12, 25))


def test_the_client_body_is_also_built_from_the_builder_module() -> None:
    from connector.invoicing import builder, client_payload

    assert builder.build_client_payload is client_payload.build_client_payload
    assert builder.client_fingerprint is client_payload.client_fingerprint
