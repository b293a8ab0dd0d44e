"""The card caller's language: French or English (card-api.md "Error shape")."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.request import Request


def locale_from(raw: str | None) -> str:
    """``en…`` → English; anything else (or nothing) → French, the product's default."""
    return "en" if (raw or "fr").lower().startswith("en") else "fr"


def caller_locale(request: Request | HttpRequest) -> str:
    """``locale`` query parameter (the card's ``context.user.locale``), else Accept-Language, else French."""
    query = request.query_params if isinstance(request, Request) else request.GET
    return locale_from(query.get("locale") or request.headers.get("Accept-Language"))
