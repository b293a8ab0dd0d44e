"""HubSpot's free-text ``country`` ("France", "FRANCE ", "Belgique", "UK") → ISO 3166-1 alpha-2.

Names come from pycountry (codes, English names, official and common names, and their French
translations shipped with pycountry) plus a small table of spellings people actually type.
Accents, case, punctuation and surrounding spaces are ignored.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from functools import cache

import pycountry

# Typed by people, missing from pycountry: native names, short forms, former habits, overseas France.
_EXTRA_NAMES: dict[str, str] = {
    # France and overseas France
    "france metropolitaine": "FR",
    "metropole": "FR",
    "republique francaise": "FR",
    "corse": "FR",
    "la reunion": "RE",
    "reunion": "RE",
    "ile de la reunion": "RE",
    "guyane": "GF",
    "guyane francaise": "GF",
    "la guadeloupe": "GP",
    "la martinique": "MQ",
    "saint martin": "MF",
    "st martin": "MF",
    "saint barthelemy": "BL",
    "st barthelemy": "BL",
    "saint barth": "BL",
    "st barth": "BL",
    "saint pierre et miquelon": "PM",
    "st pierre et miquelon": "PM",
    "wallis et futuna": "WF",
    "nouvelle caledonie": "NC",
    "polynesie": "PF",
    "polynesie francaise": "PF",
    "tahiti": "PF",
    # United Kingdom
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "grande bretagne": "GB",
    "angleterre": "GB",
    "england": "GB",
    "ecosse": "GB",
    "scotland": "GB",
    "pays de galles": "GB",
    "wales": "GB",
    "irlande du nord": "GB",
    "northern ireland": "GB",
    # Native names and short forms
    "deutschland": "DE",
    "allemagne": "DE",
    "germany": "DE",
    "espana": "ES",
    "espagne": "ES",
    "italia": "IT",
    "schweiz": "CH",
    "svizzera": "CH",
    "suisse": "CH",
    "nederland": "NL",
    "holland": "NL",
    "hollande": "NL",
    "pays bas": "NL",
    "the netherlands": "NL",
    "belgie": "BE",
    "belgien": "BE",
    "luxemburg": "LU",
    "letzebuerg": "LU",
    "osterreich": "AT",
    "oesterreich": "AT",
    "polska": "PL",
    "sverige": "SE",
    "danmark": "DK",
    "norge": "NO",
    "suomi": "FI",
    "eire": "IE",
    "usa": "US",
    "u s a": "US",
    "u s": "US",
    "etats unis": "US",
    "etats unis d amerique": "US",
    "united states of america": "US",
    "coree du sud": "KR",
    "south korea": "KR",
    "republique tcheque": "CZ",
    "czech republic": "CZ",
    "russie": "RU",
    "russia": "RU",
}

# French-speaking countries and territories: their clients get invoices in French.
FRENCH_LOCALE_COUNTRIES: frozenset[str] = frozenset(
    {"FR", "BE", "LU", "CH", "MC", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC"}
)

# Where companies are in INSEE's SIRENE register, so have a SIREN/SIRET and 5-digit postcodes:
# metropolitan France, the five overseas départements, and Saint-Barthélemy, Saint-Martin and
# Saint-Pierre-et-Miquelon. New Caledonia, French Polynesia and Wallis-and-Futuna have their own
# registers (RIDET, numéro TAHITI) and Monaco its RCI, so no SIRET is asked of them.
SIRENE_COUNTRIES: frozenset[str] = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "BL", "MF", "PM"})

_NON_ALNUM_RE = re.compile(r"[^0-9a-z]+")


def normalize_name(text: str) -> str:
    """ "  Côte d'Ivoire " → "cote d ivoire": no accents, no case, no punctuation, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_ALNUM_RE.sub(" ", stripped.casefold()).strip()


def _french_translations() -> gettext.NullTranslations:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["fr"])
    except OSError:  # pragma: no cover - a pycountry build without locales: the extra table remains
        return gettext.NullTranslations()


@cache
def _lookup_table() -> dict[str, str]:
    """Normalised name → alpha-2. Earlier sources win, so a hand-written spelling beats pycountry."""
    table: dict[str, str] = {}
    french = _french_translations()
    for key, code in _EXTRA_NAMES.items():
        table.setdefault(normalize_name(key), code)
    countries = list(pycountry.countries)
    for country in countries:
        table.setdefault(normalize_name(country.alpha_2), country.alpha_2)
    for country in countries:
        table.setdefault(normalize_name(country.alpha_3), country.alpha_2)
    for attribute in ("name", "common_name", "official_name"):
        for country in countries:
            name = getattr(country, attribute, None)
            if isinstance(name, str):
                table.setdefault(normalize_name(name), country.alpha_2)
                table.setdefault(normalize_name(french.gettext(name)), country.alpha_2)
    table.pop("", None)
    return table


def country_to_iso(raw: str | None) -> str | None:
    """The alpha-2 code for HubSpot's free-text country, or ``None`` when empty or unknown."""
    if raw is None:
        return None
    key = normalize_name(raw)
    return _lookup_table().get(key) if key else None


def in_sirene(country_code: str) -> bool:
    """True when companies of this country are identified by a French SIREN/SIRET."""
    return country_code in SIRENE_COUNTRIES


def client_locale(country_code: str) -> str:
    """The Qonto document language for a client: "FR" in French-speaking places, else "EN"."""
    return "FR" if country_code in FRENCH_LOCALE_COUNTRIES else "EN"


# "en Belgique", "au Portugal", "aux Pays-Bas": French needs the right preposition before a country.
_AU_COUNTRIES = frozenset(
    {"BR", "CA", "CL", "DK", "GB", "JP", "LU", "MA", "MX", "PE", "PT", "SN", "VN", "CM", "BJ", "GA", "KE"}
)
_AUX_COUNTRIES = frozenset({"NL", "US", "AE", "PH"})
_FRENCH_NAMES = {"NL": "Pays-Bas", "US": "États-Unis", "GB": "Royaume-Uni", "CZ": "Tchéquie"}


def country_name(code: str, lang: str = "fr") -> str:
    """ "BE" → "Belgique" (fr) / "Belgium" (en); the code itself when pycountry does not know it."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = str(getattr(country, "common_name", None) or country.name)
    if lang == "en":
        return name
    return _FRENCH_NAMES.get(code) or _french_translations().gettext(name)


def country_in_fr(code: str) -> str:
    """ "BE" → "en Belgique", "PT" → "au Portugal", "NL" → "aux Pays-Bas"."""
    name = country_name(code, "fr")
    if code in _AUX_COUNTRIES:
        return f"aux {name}"
    if code in _AU_COUNTRIES:
        return f"au {name}"
    return f"en {name}"


def country_in_en(code: str) -> str:
    """ "BE" → "in Belgium", "NL" → "in the Netherlands"."""
    article = "the " if code in _AUX_COUNTRIES | {"GB"} else ""
    return f"in {article}{country_name(code, 'en')}"
