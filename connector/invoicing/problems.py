"""A problem to fix before invoicing: a stable ``code``, the ``field`` to fix, a message in FR/EN."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from connector.invoicing.amounts import decimal_str, format_eur_en, format_eur_fr, format_number_fr
from connector.invoicing.messages import MESSAGES, Localized, MessageParam, Money

LANGUAGES = ("fr", "en")


def _language(lang: str | None) -> str:
    """ "en-us" → "en"; anything that is not English reads French, the product's language."""
    base = (lang or "fr").lower().replace("_", "-").split("-")[0]
    return base if base in LANGUAGES else "fr"


def _render(param: MessageParam, lang: str) -> str:
    if isinstance(param, Money):
        return format_eur_en(param.value) if lang == "en" else format_eur_fr(param.value)
    if isinstance(param, Localized):
        return param.en if lang == "en" else param.fr
    if isinstance(param, Decimal):
        return decimal_str(param) if lang == "en" else format_number_fr(param)
    return param


@dataclass(frozen=True)
class Problem:
    """Something to fix before invoicing. ``field`` is a path such as ``company.siret`` or
    ``line_items[2].quantity`` (0-based; messages count lines from 1)."""

    code: str
    field: str
    params: Mapping[str, MessageParam] = dataclasses.field(default_factory=dict, hash=False)
    variant: str | None = None

    @property
    def template_key(self) -> str:
        return f"{self.code}:{self.variant}" if self.variant else self.code

    def message_for(self, lang: str | None) -> str:
        """The message in ``lang`` ("fr", "en", "en-GB"…; French for anything else)."""
        language = _language(lang)
        template = MESSAGES[self.template_key][language]
        return template.format(**{key: _render(value, language) for key, value in self.params.items()})

    @property
    def message(self) -> str:
        """The message in Django's active language (``translation.override("en")`` gives English)."""
        from django.utils import translation

        return self.message_for(translation.get_language())

    def as_dict(self, lang: str | None = None) -> dict[str, str]:
        """The card API shape ``{code, field, message}``; ``lang=None`` uses Django's active language."""
        message = self.message if lang is None else self.message_for(lang)
        return {"code": self.code, "field": self.field, "message": message}

    as_json = as_dict

    @classmethod
    def invoice_exists(cls) -> Problem:
        """A live invoice already blocks this one (e.g. the database constraint caught a race)."""
        return cls("invoice_exists", "kind", variant="generic")

    @classmethod
    def tenant_not_operational(cls, status: str, message: str) -> Problem:
        """The tenant cannot invoice (``status`` as the card shows it); ``message`` says what to do."""
        return cls("tenant_not_operational", "tenant", {"status": status, "message": message})


class InvoiceNotBuildable(ValueError):
    """Raised by the builder when validation fails; ``problems`` says why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("invoice cannot be built: " + ", ".join(p.code for p in self.problems))
