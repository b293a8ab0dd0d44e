"""``build_client_payload`` and ``client_fingerprint``."""

from __future__ import annotations

import pytest

from connector.invoicing import build_client_payload, client_fingerprint, names_match
from tests.connector.invoicing.helpers import company


def test_french_company() -> None:
    payload = build_client_payload(
        company(siret="732 829 320 00074", vat_number="fr 44 732829320", zip="75 004", address2="Bâtiment B")
    )
    assert payload == {
        "kind": "company",
        "name": "ACME SAS",
        "tax_identification_number": "73282932000074",
        "vat_number": "FR44732829320",
        "currency": "EUR",
        "locale": "FR",
        "billing_address": {
            "street_address": "12 rue de Rivoli, Bâtiment B",
            "city": "Paris",
            "zip_code": "75004",
            "country_code": "FR",
        },
    }


def test_french_company_with_an_allowed_siren() -> None:
    payload = build_client_payload(company(siret="732829320", vat_number=None), allow_siren=True)
    assert payload["tax_identification_number"] == "732829320"
    assert "vat_number" not in payload


def test_foreign_company_has_no_tax_id_and_an_english_locale() -> None:
    payload = build_client_payload(
        company(
            name="Müller GmbH",
            address="Friedrichstraße 12",
            city="Berlin",
            zip="10117",
            country="Allemagne",
            siret=None,
            vat_number="DE123456789",
        )
    )
    assert payload == {
        "kind": "company",
        "name": "Müller GmbH",
        "vat_number": "DE123456789",
        "currency": "EUR",
        "locale": "EN",
        "billing_address": {
            "street_address": "Friedrichstraße 12",
            "city": "Berlin",
            "zip_code": "10117",
            "country_code": "DE",
        },
    }


@pytest.mark.parametrize(("country", "locale"), [("Belgique", "FR"), ("Suisse", "FR"), ("Espagne", "EN")])
def test_locale_follows_the_country(country: str, locale: str) -> None:
    assert build_client_payload(company(country=country, siret=None))["locale"] == locale


def test_locale_can_be_forced() -> None:
    assert build_client_payload(company(), locale="en")["locale"] == "EN"


def test_overseas_company_keeps_its_siret() -> None:
    payload = build_client_payload(company(country="Guadeloupe", zip="97110"))
    assert payload["tax_identification_number"] == "73282932000074"
    assert payload["billing_address"] == {
        "street_address": "12 rue de Rivoli",
        "city": "Paris",
        "zip_code": "97110",
        "country_code": "GP",
    }


@pytest.mark.parametrize(
    "overrides",
    [{"name": None}, {"address": ""}, {"city": None}, {"zip": None}, {"country": "Narnia"}, {"siret": "1"}],
)
def test_incomplete_company_is_refused(overrides: dict[str, str | None]) -> None:
    with pytest.raises(ValueError, match=r"company lacks|needs a valid SIRET"):
        build_client_payload(company(**overrides))


def test_fingerprint_changes_with_the_address_only() -> None:
    base = client_fingerprint(build_client_payload(company()))
    assert len(base) == 64
    assert (
        client_fingerprint(build_client_payload(company(country="FRANCE", siret="732 829 320 00074"))) == base
    )
    assert client_fingerprint(build_client_payload(company(address="1 place de la Concorde"))) != base
    reordered = dict(reversed(list(build_client_payload(company()).items())))
    assert client_fingerprint(reordered) == base


def test_names_match_ignores_case_accents_and_punctuation() -> None:
    assert names_match("Société Générale S.A.", "societe generale s a")
    assert not names_match("ACME", "ACME Corp")
