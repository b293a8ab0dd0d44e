"""Qonto connections (read-only): the key is never shown, only its last characters."""

from __future__ import annotations

from django.contrib import admin

from connector.admin.base import ReadOnlyMixin
from connector.models import QontoConnection


@admin.register(QontoConnection)
class QontoConnectionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # The secret key and staging token are never shown: only the key's last characters.
    list_display = ("tenant", "organization_slug", "environment", "legal_name", "verified_at")
    fields = (
        "tenant",
        "environment",
        "organization_slug",
        "organization_id",
        "secret_key_hint",
        "vat_rate",
        "iban",
        "legal_name",
        "verified_at",
        "last_error",
    )
    readonly_fields = fields
    search_fields = ("organization_slug", "legal_name", "tenant__portal_id")
    list_select_related = ("tenant",)
