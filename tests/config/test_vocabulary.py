"""One vocabulary in French, everywhere a customer reads it: HubSpot's own French words.

HubSpot's French interface says « transaction » for a deal and our offers are « offres »: a French
text that says "deal" or "plan" reads as a half-translated product. The places a customer reads
French: the catalogs (pages, e-mails, errors), the HubSpot properties we create (labels,
descriptions, option labels), the invoicing messages (problems on the card) and the card's French
texts. English texts keep HubSpot's English words ("deal").
"""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

from connector.invoicing.messages import MESSAGES
from hubspot_app.properties import COMPANY_PROPERTIES, DEAL_PROPERTIES

ROOT = Path(__file__).resolve().parents[2]
FRENCH_CATALOGS = sorted(p for p in ROOT.glob("**/locale/fr/LC_MESSAGES/django.po") if ".venv" not in p.parts)
# "deal" and "plan" as words (not "dealer", "planifier"); the card's keys like 'deal.amount' are
# field codes, never shown (the text after them is).
FOREIGN_WORDS = re.compile(r"(?<![\w.])(deals?|plans?)(?![\w.])", re.IGNORECASE)


PLACEHOLDERS = re.compile(r"\{[^}]*\}|%\([^)]*\)[sd]|\$\{[^}]*\}")  # {deal}, %(deal)s, ${deal}


def _offending(texts: list[tuple[str, str]]) -> list[str]:
    return [f"{where}: {text!r}" for where, text in texts if FOREIGN_WORDS.search(PLACEHOLDERS.sub("", text))]


@pytest.mark.parametrize("po_path", FRENCH_CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_french_catalogs_say_transaction_and_offre(po_path: Path) -> None:
    texts = []
    for entry in polib.pofile(str(po_path)):
        if entry.obsolete:
            continue
        for text in [entry.msgstr, *entry.msgstr_plural.values()]:
            texts.append((f"line {entry.linenum}", text))
    assert not _offending(texts)


def test_the_hubspot_properties_we_create_read_in_french() -> None:
    texts = []
    for prop in (*DEAL_PROPERTIES, *COMPANY_PROPERTIES):
        texts.append((f"{prop['name']} label", prop["label"]))
        texts.append((f"{prop['name']} description", prop["description"]))
        texts.extend((f"{prop['name']} option", o["label"]) for o in prop.get("options", ()))
    assert len(texts) > 40  # every property was read
    assert not _offending(texts)


def test_the_problems_the_card_shows_read_in_french() -> None:
    french = [(key, value["fr"]) for key, value in MESSAGES.items()]
    assert len(french) > 20
    assert not _offending(french)
    assert any("transaction" in text for _, text in french)


def test_the_cards_french_texts_say_transaction() -> None:
    source = (ROOT / "hubspot_app/card/src/app/cards/i18n.ts").read_text(encoding="utf-8")
    french_block = source.split("const fr: Messages = {", 1)[1].split("const en: Messages = {", 1)[0]
    strings = re.findall(r"'((?:[^'\\]|\\.)*)'|`([^`]*)`", french_block)
    texts = [("i18n.ts fr", single or template) for single, template in strings]
    assert len(texts) > 50
    assert not _offending(texts)
