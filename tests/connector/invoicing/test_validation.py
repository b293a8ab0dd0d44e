"""``validate_deal`` and ``validate_request``: one test per problem code, plus the messages."""

from __future__ import annotations

import dataclasses
import re
import string
from decimal import Decimal

import pytest
from django.utils import translation

from connector.invoicing import (
    MESSAGES,
    PriorInvoice,
    Problem,
    parse_percentage,
    validate_deal,
    validate_request,
)
from tests.connector.invoicing.helpers import SETTINGS, company, deal, line

D = Decimal


def codes(problems: list[Problem]) -> list[tuple[str, str]]:
    return [(p.code, p.field) for p in problems]


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, codes(problems)
    return problems[0]


def test_a_complete_deal_has_no_problem() -> None:
    assert validate_deal(deal(line()), SETTINGS) == []
    assert validate_deal(deal(), SETTINGS, kind="deposit") == []  # no lines: the amount is used


# --- company -------------------------------------------------------------------------------------


def test_missing_company() -> None:
    problem = only(validate_deal(deal(line(), company=None), SETTINGS))
    assert (problem.code, problem.field) == ("missing_company", "deal.company")
    assert problem.message_for("fr") == (
        "Aucune entreprise principale n'est associée à la transaction « Refonte site » : associez "
        "l'entreprise à facturer à la transaction dans HubSpot (libellé « Principale »)."
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"name": "  "}, ("missing_company_name", "company.name")),
        ({"address": None}, ("missing_address", "company.address")),
        ({"city": ""}, ("missing_city", "company.city")),
        ({"zip": None}, ("missing_zip", "company.zip")),
        ({"zip": "7500"}, ("invalid_zip", "company.zip")),
        ({"zip": "75O04"}, ("invalid_zip", "company.zip")),
        ({"zip": "750041"}, ("invalid_zip", "company.zip")),
        ({"country": None}, ("missing_country", "company.country")),
        ({"country": "Francia del Sur"}, ("unknown_country", "company.country")),
        ({"siret": None}, ("missing_siret", "company.siret")),
        ({"siret": "   "}, ("missing_siret", "company.siret")),
        ({"siret": "73282932000075"}, ("invalid_siret", "company.siret")),
        ({"siret": "7328293200007"}, ("invalid_siret", "company.siret")),
        ({"siret": "ABCDEFGHIJKLMN"}, ("invalid_siret", "company.siret")),
        ({"siret": "732829320"}, ("siren_not_allowed", "company.siret")),
        ({"vat_number": "FR 44 7328 2932 0000 0000 000"}, ("invalid_vat_number", "company.vat_number")),
        ({"vat_number": "FR44/732829320"}, ("invalid_vat_number", "company.vat_number")),
    ],
)
def test_company_problems(overrides: dict[str, str | None], expected: tuple[str, str]) -> None:
    assert codes(validate_deal(deal(line(), company=company(**overrides)), SETTINGS)) == [expected]


def test_every_missing_company_field_is_reported_at_once() -> None:
    empty = company(name=None, address=None, city=None, zip=None, country=None, siret=None, vat_number=None)
    assert [p.code for p in validate_deal(deal(line(), company=empty), SETTINGS)] == [
        "missing_company_name",
        "missing_address",
        "missing_city",
        "missing_country",
        "missing_zip",
    ]


@pytest.mark.parametrize(
    "siret",
    [
        "73282932000074",
        "732 829 320 00074",
        " 732.829.320.00074 ",
        "732-829-320-00074",
        "35600000000048",  # La Poste: fails Luhn, valid by INSEE's exception
        "356 000 000 00048",
    ],
)
def test_valid_sirets(siret: str) -> None:
    assert validate_deal(deal(line(), company=company(siret=siret)), SETTINGS) == []


def test_siren_is_accepted_only_when_the_tenant_allows_it() -> None:
    siren_company = company(siret="732 829 320")
    allowed = dataclasses.replace(SETTINGS, allow_siren=True)
    assert validate_deal(deal(line(), company=siren_company), allowed) == []
    assert codes(validate_deal(deal(line(), company=company(siret="732829321")), allowed)) == [
        ("invalid_siret", "company.siret")
    ]


def test_siret_messages_name_the_tenants_property() -> None:
    settings = dataclasses.replace(SETTINGS, siret_property="siret_client")
    problem = only(validate_deal(deal(line(), company=company(siret=None)), settings))
    assert problem.message_for("fr") == (
        "Le SIRET de l'entreprise « ACME SAS » est manquant : renseignez la propriété "
        "« siret_client » de l'entreprise dans HubSpot (14 chiffres)."
    )
    assert problem.message_for("en") == (
        "The SIRET of the company “ACME SAS” is missing: fill in the company's “siret_client” "
        "property in HubSpot (14 digits)."
    )


def test_zip_spaces_are_tolerated() -> None:
    assert validate_deal(deal(line(), company=company(zip=" 75 004 ")), SETTINGS) == []


@pytest.mark.parametrize(
    ("country", "zip_code"),
    [("Belgique", "1000"), ("Royaume-Uni", "SW1A 1AA"), ("Suisse", "1201"), ("Deutschland", "10115")],
)
def test_foreign_companies_need_no_siret_and_keep_their_zip(country: str, zip_code: str) -> None:
    foreign = company(country=country, zip=zip_code, siret=None, vat_number=None)
    assert validate_deal(deal(line(), company=foreign), SETTINGS) == []


def test_overseas_france_is_france_for_siret_and_zip() -> None:
    reunion = company(country="La Réunion", zip="97400", siret=None)
    assert codes(validate_deal(deal(line(), company=reunion), SETTINGS)) == [
        ("missing_siret", "company.siret")
    ]
    assert codes(validate_deal(deal(line(), company=company(country="Guadeloupe", zip="971")), SETTINGS)) == [
        ("invalid_zip", "company.zip")
    ]


def test_monaco_needs_no_siret() -> None:
    monaco = company(country="Monaco", zip="98000", siret=None)
    assert validate_deal(deal(line(), company=monaco), SETTINGS) == []


def test_unknown_country_message_asks_to_fix_the_company() -> None:
    problem = only(validate_deal(deal(line(), company=company(country="Narnia")), SETTINGS))
    assert problem.message_for("fr") == (
        "Le pays de l'entreprise « ACME SAS » (« Narnia ») n'est pas reconnu : corrigez la propriété "
        "« Pays/région » de l'entreprise dans HubSpot (par exemple « France » ou « Belgique »)."
    )


def test_an_unknown_country_skips_the_french_checks() -> None:
    odd = company(country="Narnia", zip="1", siret=None)
    assert [p.code for p in validate_deal(deal(line(), company=odd), SETTINGS)] == ["unknown_country"]


# --- amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", [None, "", "EUR", "eur", " EUR "])
def test_eur_or_empty_currency_is_fine(currency: str | None) -> None:
    assert validate_deal(deal(line(currency=currency), currency=currency), SETTINGS) == []


def test_currency_not_eur_on_the_deal_and_on_a_line() -> None:
    problems = validate_deal(deal(line(), line("2", currency="USD"), currency="GBP"), SETTINGS)
    assert codes(problems) == [
        ("currency_not_eur", "deal.currency"),
        ("currency_not_eur", "line_items[1].currency"),
    ]
    assert problems[0].message_for("fr") == (
        "La transaction « Refonte site » est en GBP : Qonto ne facture qu'en euros. Passez la devise "
        "de la transaction à EUR dans HubSpot."
    )
    assert problems[1].message_for("en") == (
        "Line 2 “Prestation” is in USD: Qonto only invoices in euros. Set the line item's currency to "
        "EUR in HubSpot."
    )


@pytest.mark.parametrize("quantity", [None, "", "0", "-1", "abc", "NaN", "Infinity", "1.2.3", "1e20"])
def test_invalid_quantity(quantity: str | None) -> None:
    problems = validate_deal(deal(line(), line("2", quantity=quantity)), SETTINGS)
    assert codes(problems) == [("invalid_quantity", "line_items[1].quantity")]


@pytest.mark.parametrize("quantity", ["1", "0.5", "2,5", "1 000", "3.000"])
def test_valid_quantities(quantity: str) -> None:
    assert validate_deal(deal(line(quantity=quantity)), SETTINGS) == []


@pytest.mark.parametrize("price", [None, "", "-0.01", "gratuit", "sNaN"])
def test_invalid_price(price: str | None) -> None:
    problem = only(validate_deal(deal(line(name="Audit", price=price)), SETTINGS))
    assert (problem.code, problem.field) == ("invalid_price", "line_items[0].price")


def test_price_zero_is_allowed() -> None:
    assert validate_deal(deal(line(price="0")), SETTINGS) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"discount_percentage": "-5"}, "line_items[0].discount_percentage"),
        ({"discount_percentage": "100.01"}, "line_items[0].discount_percentage"),
        ({"discount_percentage": "dix"}, "line_items[0].discount_percentage"),
        ({"discount": "-1"}, "line_items[0].discount"),
        ({"discount": "100.01"}, "line_items[0].discount"),  # more than the unit price
        ({"discount": "x"}, "line_items[0].discount"),
    ],
)
def test_invalid_discount(overrides: dict[str, str], field: str) -> None:
    assert codes(validate_deal(deal(line(price="100", **overrides)), SETTINGS)) == [
        ("invalid_discount", field)
    ]


@pytest.mark.parametrize("overrides", [{"discount_percentage": "100"}, {"discount": "100"}, {"discount": ""}])
def test_discounts_up_to_the_whole_price_are_fine(overrides: dict[str, str]) -> None:
    assert validate_deal(deal(line(price="100", **overrides)), SETTINGS) == []


def test_discount_message() -> None:
    problem = only(validate_deal(deal(line(name="Audit", discount_percentage="150")), SETTINGS))
    assert problem.message_for("fr") == (
        "La remise de la ligne 1 « Audit » (« 150 ») n'est pas valide : indiquez un pourcentage entre "
        "0 et 100 sur la ligne de produit de la transaction dans HubSpot."
    )


@pytest.mark.parametrize("rate", ["19.6", "7", "15", "-20", "0.2", "vingt", "100"])
def test_invalid_vat_rate_on_a_line(rate: str) -> None:
    problems = validate_deal(deal(line(tax_rate_percent=rate)), SETTINGS)
    assert codes(problems) == [("invalid_vat_rate", "line_items[0].tax_rate")]


@pytest.mark.parametrize("rate", ["20", "20.00", "10", "8.5", "5,5", "2.1", "0", "0.0"])
def test_french_vat_rates_on_a_line(rate: str) -> None:
    assert validate_deal(deal(line(tax_rate_percent=rate)), SETTINGS) == []


def test_invalid_tenant_vat_rate_only_matters_when_it_is_used() -> None:
    settings = dataclasses.replace(SETTINGS, vat_rate_percent=D("19.6"))
    assert validate_deal(deal(line(tax_rate_percent="20")), settings) == []
    problem = only(validate_deal(deal(line(tax_rate_percent=None)), settings))
    assert (problem.code, problem.field) == ("invalid_vat_rate", "settings.vat_rate")
    assert problem.message_for("fr") == (
        "Le taux de TVA par défaut du connecteur (19,6 %) n'est pas un taux français : choisissez "
        "20 %, 10 %, 8,5 %, 5,5 %, 2,1 % ou 0 % dans les réglages du connecteur."
    )
    assert codes(validate_deal(deal(amount="100"), settings)) == [("invalid_vat_rate", "settings.vat_rate")]


def test_missing_iban() -> None:
    settings = dataclasses.replace(SETTINGS, iban=" ")
    assert codes(validate_deal(deal(line()), settings)) == [("missing_iban", "settings.iban")]


def test_missing_line_name() -> None:
    assert codes(validate_deal(deal(line(), line("2", name=" ")), SETTINGS)) == [
        ("missing_line_name", "line_items[1].name")
    ]


@pytest.mark.parametrize("amount", [None, "", "0", "0.00"])
def test_no_lines_or_amount(amount: str | None) -> None:
    problem = only(validate_deal(deal(amount=amount), SETTINGS))
    assert (problem.code, problem.field) == ("no_lines_or_amount", "deal.amount")


@pytest.mark.parametrize("amount", ["-100", "douze mille"])
def test_invalid_deal_amount_without_lines(amount: str) -> None:
    assert codes(validate_deal(deal(amount=amount), SETTINGS)) == [("invalid_amount", "deal.amount")]


def test_deal_amount_is_ignored_when_there_are_lines() -> None:
    assert validate_deal(deal(line(), amount="n/a"), SETTINGS) == []


def test_amount_too_large() -> None:
    problems = validate_deal(deal(line(quantity="100000", price="100000")), SETTINGS)
    assert codes(problems) == [("amount_too_large", "deal.amount")]
    assert problems[0].message_for("en") == (
        "The amount of the deal “Refonte site” is over €1,000,000,000.00: check the quantities and "
        "prices in HubSpot."
    )


def test_line_problems_carry_the_line_number_and_field_index() -> None:
    problems = validate_deal(
        deal(line("a"), line("b", name="Audit SEO", quantity="-2"), line("c", price="-1")), SETTINGS
    )
    assert codes(problems) == [
        ("invalid_quantity", "line_items[1].quantity"),
        ("invalid_price", "line_items[2].price"),
    ]
    assert problems[0].message_for("fr") == (
        "La quantité de la ligne 2 « Audit SEO » (« -2 ») n'est pas valide : indiquez un nombre "
        "positif sur la ligne de produit de la transaction dans HubSpot."
    )
    assert problems[0].message_for("en") == (
        "The quantity of line 2 “Audit SEO” (“-2”) is not valid: enter a positive number on the "
        "deal's line item in HubSpot."
    )


# --- the request ---------------------------------------------------------------------------------


def prior(
    kind: str = "deposit",
    status: str = "draft",
    subtotal: str = "6000.00",
    number: str | None = None,
    id: str = "p1",
) -> PriorInvoice:
    amount = D(subtotal)
    return PriorInvoice(
        id=id,
        kind=kind,
        number=number,
        status=status,
        subtotal_by_vat={"0.2": amount},
        subtotal=amount,
        total=amount * D("1.2"),
    )


DEAL_12000 = deal(amount="12000")


@pytest.mark.parametrize(
    ("kind", "percentage"),
    [
        ("full", None),
        ("full", ""),
        ("balance", None),
        ("deposit", "50"),
        ("deposit", 1),
        ("deposit", D("99")),
    ],
)
def test_acceptable_requests(kind: str, percentage: str | int | Decimal | None) -> None:
    assert validate_request(kind, percentage, DEAL_12000, [], settings=SETTINGS) == []


def test_invalid_kind() -> None:
    assert codes(validate_request("credit_note", None, DEAL_12000, [])) == [("invalid_kind", "kind")]


def test_missing_percentage() -> None:
    assert codes(validate_request("deposit", None, DEAL_12000, [])) == [("missing_percentage", "percentage")]
    assert codes(validate_request("deposit", "  ", DEAL_12000, [])) == [("missing_percentage", "percentage")]


@pytest.mark.parametrize("percentage", ["0", "0.99", "100", "99.01", "-5", "12.345", "abc", "NaN", True, 150])
def test_invalid_percentage(percentage: str | int | bool) -> None:
    assert codes(validate_request("deposit", percentage, DEAL_12000, [])) == [
        ("invalid_percentage", "percentage")
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", D("1")),
        ("99", D("99")),
        ("33.33", D("33.33")),
        ("12,5", D("12.5")),
        ("50.00", D("50")),
        (7, D("7")),
    ],
)
def test_parse_percentage(raw: str | int, expected: Decimal) -> None:
    assert parse_percentage(raw) == expected


@pytest.mark.parametrize("kind", ["full", "balance"])
def test_unexpected_percentage(kind: str) -> None:
    assert codes(validate_request(kind, "30", DEAL_12000, [])) == [("unexpected_percentage", "percentage")]


def test_invoice_exists_for_a_second_full_invoice() -> None:
    problems = validate_request("full", None, DEAL_12000, [prior("deposit", "unpaid", "6000", "F-2026-0007")])
    assert codes(problems) == [("invoice_exists", "kind")]
    assert problems[0].message_for("fr") == (
        "La transaction « Refonte site » a déjà une facture (F-2026-0007) : pour la refacturer en "
        "entier, supprimez ou annulez d'abord cette facture dans Qonto ; sinon, facturez le solde."
    )


@pytest.mark.parametrize(("kind", "percentage"), [("full", None), ("deposit", "30"), ("balance", None)])
def test_a_fully_invoiced_deal_gives_one_message_whatever_the_button(
    kind: str, percentage: str | None
) -> None:
    # Before: "full" advised a balance ("sinon, facturez le solde"), which then said "nothing left".
    fully = [prior("full", "unpaid", "12000", "F-2026-0007")]
    problems = validate_request(kind, percentage, DEAL_12000, fully, settings=SETTINGS)
    assert codes(problems) == [("nothing_left", "kind")]
    assert "solde" not in problems[0].message_for("fr")
    assert problems[0].message_for("fr") == (
        "Il ne reste rien à facturer sur la transaction « Refonte site » : les factures existantes "
        "couvrent déjà tout son montant."
    )
    # A deposit in progress blocks a full invoice too.
    assert codes(validate_request("full", None, DEAL_12000, [prior(status="pending")])) == [
        ("invoice_exists", "kind")
    ]


@pytest.mark.parametrize("status", ["canceled", "failed", "deleted"])
def test_dead_invoices_do_not_count(status: str) -> None:
    dead = prior("full", status, "12000", "F-2026-0007")
    assert validate_request("full", None, DEAL_12000, [dead]) == []
    assert validate_request("deposit", "99", DEAL_12000, [dead]) == []


def test_an_invoice_of_unknown_outcome_blocks_new_ones_and_counts_as_invoiced() -> None:
    """A FAILED deposit Qonto may hold (answer lost, search refused): no new invoice until its retry
    searched Qonto; a retry of another row counts it as invoiced (60 % here), so it never gives 160 %."""
    unknown = dataclasses.replace(prior(status="failed", subtotal="7200.00"), outcome_unknown=True)
    assert unknown.live
    for kind, pct in (("full", None), ("deposit", "10"), ("balance", None)):
        problems = validate_request(kind, pct, DEAL_12000, [unknown], settings=SETTINGS)
        assert codes(problems) == [("invoice_outcome_unknown", "kind")]
    message = validate_request("full", None, DEAL_12000, [unknown], settings=SETTINGS)[0]
    assert "Réessayez" in message.message_for("fr")
    assert "Retry" in message.message_for("en")
    # Retrying another row: the amounts count the unknown one as invoiced.
    assert codes(validate_request("full", None, DEAL_12000, [unknown], settings=SETTINGS, retrying=True)) == [
        ("invoice_exists", "kind")
    ]
    assert codes(
        validate_request("deposit", "50", DEAL_12000, [unknown], settings=SETTINGS, retrying=True)
    ) == [("deposit_exceeds_deal", "percentage")]
    assert validate_request("deposit", "40", DEAL_12000, [unknown], settings=SETTINGS, retrying=True) == []
    # A plain FAILED row (Qonto refused the POST: nothing there) blocks nothing and counts for nothing.
    refused = prior(status="failed", subtotal="7200.00")
    assert not refused.live
    assert validate_request("full", None, DEAL_12000, [refused], settings=SETTINGS) == []


def test_deposit_exceeds_deal() -> None:
    problems = validate_request("deposit", "60", DEAL_12000, [prior(subtotal="6000.00")], settings=SETTINGS)
    assert codes(problems) == [("deposit_exceeds_deal", "percentage")]
    assert problems[0].message_for("fr") == (
        "Un acompte de 60 % (7\u202f200,00\u00a0€ HT) dépasserait le montant de la transaction "
        "« Refonte site » : il ne reste que 6\u202f000,00\u00a0€ HT à facturer."
    )
    assert problems[0].message_for("en") == (
        "A 60% deposit (€7,200.00 excl. VAT) would exceed the amount of the deal “Refonte site”: only "
        "€6,000.00 excl. VAT is left to invoice."
    )
    assert validate_request("deposit", "50", DEAL_12000, [prior(subtotal="6000.00")], settings=SETTINGS) == []


def test_deposit_exceeds_deal_by_a_rounded_cent() -> None:
    tiny = deal(line(price="0.01"))
    first = prior(subtotal="0.01")  # 50 % of 0.01 rounds half-up to 0.01
    assert codes(validate_request("deposit", "50", tiny, [first], settings=SETTINGS)) == [
        ("nothing_left", "kind")
    ]
    two_rates = deal(line("1", price="0.01"), line("2", price="0.03", tax_rate_percent="10"))
    half = PriorInvoice(
        id="h",
        kind="deposit",
        number=None,
        status="draft",
        subtotal_by_vat={"0.2": D("0.01"), "0.1": D("0.02")},
        subtotal=D("0.03"),
        total=D("0.03"),
    )
    # Another 50 %: 0.01 more at 20 % would invoice that rate twice.
    assert codes(validate_request("deposit", "50", two_rates, [half], settings=SETTINGS)) == [
        ("deposit_exceeds_deal", "percentage")
    ]


def test_deposit_too_small() -> None:
    problems = validate_request(
        "deposit", "1", deal(line(quantity="0.001", price="5")), [], settings=SETTINGS
    )
    assert codes(problems) == [("deposit_too_small", "percentage")]
    assert problems[0].message_for("fr") == (
        "Un acompte de 1 % sur la transaction « Refonte site » vaudrait 0,00 € une fois arrondi au "
        "centime : choisissez un pourcentage plus élevé ou facturez la transaction en entier."
    )


def test_nothing_left() -> None:
    paid_in_full = [prior(subtotal="6000.00", id="a"), prior(subtotal="6000.00", id="b")]
    problems = validate_request("balance", None, DEAL_12000, paid_in_full)
    assert codes(problems) == [("nothing_left", "kind")]
    assert problems[0].message_for("en") == (
        "Nothing is left to invoice on the deal “Refonte site”: the existing invoices already cover "
        "its whole amount."
    )
    assert codes(validate_request("deposit", "10", DEAL_12000, paid_in_full)) == [("nothing_left", "kind")]
    full = [prior("full", "paid", "12000.00", "F-1")]
    assert codes(validate_request("balance", None, DEAL_12000, full)) == [("nothing_left", "kind")]


def test_a_deal_with_problems_skips_the_amount_checks() -> None:
    broken = deal(line(quantity="0"))
    assert validate_request("deposit", "50", broken, [prior(subtotal="99999")]) == []


# --- messages ------------------------------------------------------------------------------------


def test_every_message_exists_in_french_and_english_with_the_same_placeholders() -> None:
    formatter = string.Formatter()
    for key, texts in MESSAGES.items():
        assert set(texts) == {"fr", "en"}, key
        placeholders = [
            {name for _, name, _, _ in formatter.parse(texts[lang]) if name} for lang in ("fr", "en")
        ]
        assert placeholders[0] == placeholders[1], key
        assert re.fullmatch(r"[a-z_]+(:[a-z]+)?", key)


def test_problem_message_follows_the_active_language() -> None:
    problem = only(validate_deal(deal(line(), company=company(city=None)), SETTINGS))
    with translation.override("en"):
        assert problem.message.startswith("The city of the company “ACME SAS” is missing")
        assert problem.as_dict() == {
            "code": "missing_city",
            "field": "company.city",
            "message": problem.message,
        }
    with translation.override("fr"):
        assert problem.message.startswith("La ville de l'entreprise « ACME SAS » est manquante")
    assert problem.message_for("en-GB") == problem.message_for("en")
    assert problem.message_for("de") == problem.message_for("fr")
    assert problem.as_dict("fr")["message"].startswith("La ville")


def test_messages_keep_hubspot_values_verbatim() -> None:
    problem = only(validate_deal(deal(line(name="Audit {n} {0}", quantity="{x}")), SETTINGS))
    assert "« Audit {n} {0} » (« {x} »)" in problem.message_for("fr")


def test_problems_made_by_the_services() -> None:
    exists = Problem.invoice_exists()
    assert exists.as_json("fr") == {
        "code": "invoice_exists",
        "field": "kind",
        "message": "Cette transaction a déjà une facture en cours : pour la refacturer en entier, "
        "supprimez ou annulez d'abord cette facture dans Qonto ; sinon, facturez le solde.",
    }
    blocked = Problem.tenant_not_operational("needs_qonto", "Connectez votre compte Qonto.")
    assert blocked.as_json("en") == {
        "code": "tenant_not_operational",
        "field": "tenant",
        "message": "Connectez votre compte Qonto.",
    }
