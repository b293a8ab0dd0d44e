"""How the support admin prints dates, amounts and small tables."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db import models
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language

from connector.invoicing.amounts import NBSP, decimal_str, format_eur_en, format_eur_fr, format_number_fr


def fmt_datetime(value: Any) -> str:
    return f"{timezone.localtime(value):%d/%m/%Y %H:%M}" if value else "—"


def fmt_money(value: Decimal | None, currency: str = "EUR") -> str:
    """An amount as support reads it: "14 017,00 €" in French, "€14,017.00" in English.

    The one formatter of amounts in the admin (the card and the deal use the same
    ``connector.invoicing.amounts`` functions). French groups thousands with a narrow no-break
    space (U+202F) and puts a no-break space (U+00A0) before the sign, so an amount never breaks
    across lines. Another currency shows its ISO code instead of the sign ("1 000,00 USD",
    "USD 1,000.00").
    """
    if value is None:
        return "—"
    code = (currency or "EUR").upper()
    if (get_language() or "fr").startswith("en"):
        text = format_eur_en(value)
        return text if code == "EUR" else text.replace("€", f"{code}{NBSP}")
    text = format_eur_fr(value)
    return text if code == "EUR" else text.replace("€", code)


def fmt_percent(value: Decimal | None) -> str:
    """A rate without its useless zeros: "20", "5,5" in French, "5.5" in English (no sign)."""
    if value is None:
        return "—"
    return decimal_str(value) if (get_language() or "fr").startswith("en") else format_number_fr(value)


def money_display(model: type[models.Model], field: str) -> Callable[[Any, Any], str]:
    """An admin column / read-only field showing ``model.field`` with ``fmt_money``.

    Labelled with the field's verbose name, sortable by the field, in the row's ``currency``.
    """

    label = getattr(model._meta.get_field(field), "verbose_name", field)

    @admin.display(description=label, ordering=field)
    def show(model_admin: Any, obj: Any) -> str:
        return fmt_money(getattr(obj, field), getattr(obj, "currency", "EUR") or "EUR")

    return show


def html_table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return "—"
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join(
            "",
            "<tr>{}</tr>",
            ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
        ),
    )
