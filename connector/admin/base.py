"""What every support admin page shares: rows are read-only, amounts read as "14 017,00 €"."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyMixin:
    """Support looks and replays; it never adds, edits or deletes rows by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MoneyFieldsMixin:
    """A read-only change page listing every model field, amounts through ``fmt_money``.

    ``money_fields`` maps a model field to the admin attribute made by ``money_display``; the
    raw field is left out so the page shows each amount once, formatted.
    """

    model: Any
    money_fields: dict[str, str] = {}

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [self.money_fields.get(f.name, f.name) for f in self.model._meta.fields if not f.auto_created]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)
