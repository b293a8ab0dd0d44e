"""The outcome texts of an automatic invoice request, in French and English at once.

The run keeps both (``AutomationRun.messages``); the deal property and the workflow's output get
the French one (HubSpot stores one value; French is the product's language), our admin shows both.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from connector.invoicing.amounts import format_eur_en, format_eur_fr, format_number_fr
from connector.invoicing.problems import Problem

LANGUAGES = ("fr", "en")


def both(render: Callable[[str], str]) -> dict[str, str]:
    """``{"fr": render("fr"), "en": render("en")}``, each under that language (for ``gettext``)."""
    out = {}
    for lang in LANGUAGES:
        with translation.override(lang):
            out[lang] = render(lang)[:2000]
    return out


def _eur(value: Decimal, lang: str) -> str:
    return format_eur_en(value) if lang == "en" else format_eur_fr(value, thousands=" ", space=" ")


def kind_label(kind: str, percentage: Decimal | None, lang: str) -> str:
    if kind == "deposit" and percentage is not None:
        pct = f"{percentage.normalize():f}" if lang == "en" else format_number_fr(percentage)
        return gettext("acompte de %(percentage)s %%") % {"percentage": pct}
    return {"full": gettext("facture complète"), "balance": gettext("facture de solde")}.get(
        kind, gettext("facture")
    )


def created(kind: str, percentage: Decimal | None, total: Decimal, number: str | None) -> dict[str, str]:
    def render(lang: str) -> str:
        text = gettext("Brouillon créé dans Qonto : %(kind)s, %(total)s TTC.") % {
            "kind": kind_label(kind, percentage, lang),
            "total": _eur(total, lang),
        }
        if number:  # Qonto numbered it (it was not left as a draft)
            text = gettext("Facture %(number)s créée dans Qonto : %(kind)s, %(total)s TTC.") % {
                "number": number,
                "kind": kind_label(kind, percentage, lang),
                "total": _eur(total, lang),
            }
        return text

    return both(render)


def from_problem(problem: Problem) -> dict[str, str]:
    """Why the request was refused, as the card says it (what to fix)."""
    return both(
        lambda lang: gettext("Aucune facture créée : %(reason)s") % {"reason": problem.message_for(lang)}
    )


def already_invoiced(kind_name: Any, invoice_label: Callable[[str], str]) -> dict[str, str]:
    """The deal already has a live invoice of this kind (``kind_name``: a lazy label; ``invoice_label(lang)``
    names the invoice)."""
    return both(
        lambda lang: (
            gettext(
                "Aucune facture créée : cette transaction a déjà une facture de type « %(kind)s » "
                "(%(invoice)s). L'automatisation ne crée jamais deux factures du même type pour une "
                "transaction ; utilisez la carte Qonto de la transaction pour en faire une autre."
            )
            % {"kind": str(kind_name), "invoice": invoice_label(lang)}
        )
    )


def invalid_input(field: str) -> dict[str, str]:
    texts = {
        "kind": lambda: gettext(
            "Aucune facture créée : le type de facture de l'action doit être « Facture complète », "
            "« Acompte » ou « Solde »."
        ),
        "percentage": lambda: gettext(
            "Aucune facture créée : pour un acompte, indiquez un pourcentage entre 1 et 99 "
            "(deux décimales au plus) dans l'action."
        ),
        "object": lambda: gettext(
            "Aucune facture créée : cette action ne s'utilise que sur des transactions."
        ),
    }
    return both(lambda lang: texts[field]())


def not_installed() -> dict[str, str]:
    return both(
        lambda lang: gettext(
            "Aucune facture créée : Qonto Connector n'est pas installé sur ce compte HubSpot, ou a été "
            "désinstallé."
        )
    )


def tenant_not_operational(message_fr: str, message_en: str) -> dict[str, str]:
    by_lang = {"fr": message_fr, "en": message_en}
    return both(lambda lang: gettext("Aucune facture créée : %(reason)s") % {"reason": by_lang[lang]})


def invoice_failed(error_messages: dict[str, str], fallback: str) -> dict[str, str]:
    return both(
        lambda lang: (
            gettext("La création de la facture dans Qonto a échoué : %(reason)s")
            % {"reason": error_messages.get(lang) or fallback}
        )
    )


def hubspot_unavailable() -> dict[str, str]:
    return both(
        lambda lang: gettext(
            "Aucune facture créée : HubSpot n'a pas pu être lu après plusieurs essais. Relancez l'action "
            "ou utilisez la carte Qonto de la transaction."
        )
    )


def deal_not_found() -> dict[str, str]:
    return both(lambda lang: gettext("Aucune facture créée : cette transaction n'existe plus dans HubSpot."))
