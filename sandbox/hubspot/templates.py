"""HTML of the HubSpot web-app simulator: consent page, index, deal page with our card.

The pages are files under ``pages/``; ``{{>file}}`` includes another file of that folder (the
shared stylesheet, the card script) when the page is loaded. ``render`` fills ``{{name}}``
placeholders: values are HTML-escaped unless the name ends in ``_html`` (fragments the caller
already built from escaped pieces). The card script builds its DOM with ``textContent`` only:
nothing coming from our backend or from HubSpot data is parsed as HTML.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

PAGES_DIR = Path(__file__).with_name("pages")
HEADER_HTML = '<div class="brand">Hub<span>S</span>pot <span class="muted">simulateur</span></div>'
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
_INCLUDE = re.compile(r"\{\{>([\w.-]+)\}\}")


def load(name: str) -> str:
    """A page of ``pages/`` with its ``{{>file}}`` includes resolved."""
    text = (PAGES_DIR / name).read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: load(m.group(1)), text)


def render(template: str, **values: Any) -> str:
    values.setdefault("header_html", HEADER_HTML)

    def sub(match: re.Match[str]) -> str:
        key = match.group(1)
        value = values[key]
        return str(value) if key.endswith("_html") else html.escape(str(value))

    return _PLACEHOLDER.sub(sub, template)


def json_for_script(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">`` (no ``</script>`` break-out)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


ERROR_PAGE = load("error.html")
CONSENT_PAGE = load("consent.html")
INDEX_PAGE = load("index.html")
DEAL_PAGE = load("deal.html")
COMPANY_PAGE = load("company.html")
