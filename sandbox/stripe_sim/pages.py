"""The browser pages' shared layout and formatting (French, like our customers' Stripe pages)."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

from sandbox.stripe_sim.base import StripeBase


def euros(cents: int) -> str:
    """French formatting: 118800 → "1 188,00 €"."""
    sign = "-" if cents < 0 else ""
    text = f"{abs(cents) / 100:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{sign}{text} €"


def date_fr(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d/%m/%Y") if ts else "—"


def form_html(
    action_url: str, action: str, button_id: str, label: str, css: str, hidden: dict[str, str] | None = None
) -> str:
    """A one-button POST form."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in {"action": action, **(hidden or {})}.items()
    )
    return (
        f'<form method="post" action="{html.escape(action_url)}">{fields}'
        f'<button class="{css}" id="{html.escape(button_id)}" type="submit">{html.escape(label)}</button>'
        "</form>"
    )


def interval_label(price: dict[str, Any]) -> tuple[str, str]:
    interval = (price.get("recurring") or {}).get("interval", "")
    return {"month": ("Mensuel", "mois"), "year": ("Annuel", "an")}.get(interval, (interval, interval))


class Pages(StripeBase):
    """The page layout."""

    @staticmethod
    def _html(title: str, body: str, status: int = 200) -> Response:
        page = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; margin: 0; }}
main {{ max-width: 34rem; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: 8px;
        box-shadow: 0 2px 8px rgba(0,0,0,.08); }}
.sandbox {{ background: #fff4e5; color: #8a4b00; padding: .3rem .6rem; border-radius: 4px;
            font-size: .8rem; }}
table {{ width: 100%; border-collapse: collapse; margin: 1rem 0; }}
td {{ padding: .35rem 0; }} td.amount {{ text-align: right; }} tr.total td {{ font-weight: 700;
        border-top: 1px solid #e3e8ee; }}
label {{ display: block; margin: .6rem 0 .2rem; font-size: .9rem; }}
input {{ width: 100%; padding: .5rem; box-sizing: border-box; border: 1px solid #cfd7df;
         border-radius: 4px; }}
button {{ margin: 1rem .5rem 0 0; padding: .6rem 1.2rem; border: 0; border-radius: 4px; cursor: pointer; }}
button.primary {{ background: #635bff; color: #fff; }} button.danger {{ background: #df1b41; color: #fff; }}
button.secondary {{ background: #e3e8ee; }}
.error {{ color: #df1b41; font-weight: 600; }} .notice {{ color: #0e6245; font-weight: 600; }}
</style></head>
<body><main><p class="sandbox">Stripe sandbox — mode test</p>
{body}
</main></body></html>"""
        return Response(page, status=status, content_type="text/html; charset=utf-8")
