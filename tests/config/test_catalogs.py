"""The translation catalogs compile and what runs is what is written.

``compilemessages`` refuses a catalog with a duplicate message, and Django serves the compiled
``.mo`` files that are committed: a ``.po`` edited without recompiling (or with a message defined
twice) silently shows the wrong language to a customer.
"""

from __future__ import annotations

from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted(p for p in ROOT.glob("**/locale/*/LC_MESSAGES/django.po") if ".venv" not in p.parts)


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def test_every_app_has_french_and_english_catalogs() -> None:
    found = {(p.parents[3].name if p.parents[3] != ROOT else "", p.parents[1].name) for p in CATALOGS}
    for app in ("", "hubspot_app", "billing"):
        assert {(app, "fr"), (app, "en")} <= found, f"missing catalogs for {app or 'locale/'}"


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_catalog_defines_each_message_once(po_path: Path) -> None:
    seen: dict[tuple[str, str], int] = {}
    duplicates = []
    for entry in polib.pofile(str(po_path)):
        if entry.obsolete:
            continue
        if _key(entry) in seen:
            duplicates.append(f"line {entry.linenum} repeats line {seen[_key(entry)]}: {entry.msgid[:60]!r}")
        seen.setdefault(_key(entry), entry.linenum)
    assert not duplicates, "\n".join(duplicates)


@pytest.mark.parametrize("po_path", CATALOGS, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_committed_mo_file_matches_its_po_file(po_path: Path) -> None:
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path.relative_to(ROOT)} missing: run manage.py compilemessages"
    wanted = {
        _key(e): e.msgstr
        for e in polib.pofile(str(po_path))
        if e.msgstr and not e.obsolete and "fuzzy" not in e.flags and not e.msgid_plural
    }
    compiled = {_key(e): e.msgstr for e in polib.mofile(str(mo_path)) if not e.msgid_plural and e.msgid}
    stale = sorted(k[1][:60] for k, v in wanted.items() if compiled.get(k) != v)
    extra = sorted(k[1][:60] for k in compiled.keys() - wanted.keys())
    hint = f"{mo_path.relative_to(ROOT)} is stale: run manage.py compilemessages"
    assert not stale, f"{hint} ({len(stale)} messages differ or are missing, e.g. {stale[:3]})"
    assert not extra, f"{hint} ({len(extra)} messages no longer in the .po, e.g. {extra[:3]})"
