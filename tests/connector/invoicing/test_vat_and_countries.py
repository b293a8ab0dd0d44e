"""Percent → Qonto fraction, and HubSpot's free-text country → ISO 3166-1 alpha-2."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connector.invoicing import ALLOWED_FRACTIONS, client_locale, country_to_iso, percent_to_fraction
from connector.invoicing.vat import allowed_fraction, format_vat_fr

D = Decimal


@pytest.mark.parametrize(
    ("percent", "fraction"),
    [
        (D("20"), "0.2"),
        (D("20.00"), "0.2"),
        (D("5.5"), "0.055"),
        (D("2.1"), "0.021"),
        (D("8.5"), "0.085"),
        (D("10"), "0.1"),
        (D("0"), "0"),
        (D("0.00"), "0"),
        (D("-0"), "0"),
        (D("100"), "1"),
        (D("1E+1"), "0.1"),
        (D("19.6"), "0.196"),
        (D("0.001"), "0.00001"),
    ],
)
def test_percent_to_fraction(percent: Decimal, fraction: str) -> None:
    assert percent_to_fraction(percent) == fraction
    assert "E" not in fraction.upper()


def test_allowed_fractions_are_the_french_rates() -> None:
    assert frozenset({"0", "0.021", "0.055", "0.085", "0.1", "0.2"}) == ALLOWED_FRACTIONS
    assert {allowed_fraction(D(p)) for p in ("20", "10", "8.5", "5.5", "2.1", "0")} == ALLOWED_FRACTIONS
    assert allowed_fraction(D("19.6")) is None
    assert allowed_fraction(D("NaN")) is None


def test_format_vat_fr() -> None:
    assert [format_vat_fr(f) for f in ("0.2", "0.055", "0")] == ["20 %", "5,5 %", "0 %"]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("France", "FR"),
        ("FR", "FR"),
        ("france", "FR"),
        ("FRANCE ", "FR"),
        ("  fRaNcE\t", "FR"),
        ("FRA", "FR"),
        ("République française", "FR"),
        ("Belgique", "BE"),
        ("Belgium", "BE"),
        ("BE", "BE"),
        ("Deutschland", "DE"),
        ("Allemagne", "DE"),
        ("Suisse", "CH"),
        ("Espagne", "ES"),
        ("España", "ES"),
        ("espana", "ES"),
        ("Italie", "IT"),
        ("Royaume-Uni", "GB"),
        ("Royaume Uni", "GB"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("Luxembourg", "LU"),
        ("Pays-Bas", "NL"),
        ("Netherlands", "NL"),
        ("Monaco", "MC"),
        ("Guadeloupe", "GP"),
        ("Martinique", "MQ"),
        ("Guyane", "GF"),
        ("Réunion", "RE"),
        ("REUNION", "RE"),
        ("La Réunion", "RE"),
        ("Mayotte", "YT"),
        ("Nouvelle-Calédonie", "NC"),
        ("Polynésie française", "PF"),
        ("Saint-Barthélemy", "BL"),
        ("États-Unis", "US"),
        ("USA", "US"),
        ("Côte d'Ivoire", "CI"),
        ("cote d ivoire", "CI"),
        ("Maroc", "MA"),
        ("Canada", "CA"),
    ],
)
def test_country_to_iso(raw: str, code: str) -> None:
    assert country_to_iso(raw) == code


@pytest.mark.parametrize("raw", [None, "", "   ", "Narnia", "Europe", "-", "F R A N C E"])
def test_unknown_countries(raw: str | None) -> None:
    assert country_to_iso(raw) is None


@pytest.mark.parametrize(
    ("code", "locale"),
    [
        *[(code, "FR") for code in ("FR", "BE", "LU", "CH", "MC", "RE", "GP")],
        *[(code, "EN") for code in ("DE", "GB", "ES", "US")],
    ],
)
def test_client_locale(code: str, locale: str) -> None:
    assert client_locale(code) == locale
