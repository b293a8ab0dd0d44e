"""Qonto credit notes (avoirs) on our invoices, as the sync brought them back (read-only)."""

from __future__ import annotations

from django.contrib import admin

from connector.admin.base import ReadOnlyMixin
from connector.models import CreditNote


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "tenant",
        "hubspot_deal_id",
        "invoice",
        "subtotal_amount",
        "total_amount",
        "issue_date",
        "created_at",
    )
    list_filter = (("tenant", admin.RelatedOnlyFieldListFilter),)
    search_fields = (
        "qonto_credit_note_id",
        "number",
        "hubspot_deal_id",
        "invoice__number",
        "tenant__portal_id",
    )
    list_select_related = ("tenant", "invoice")
    raw_id_fields = ("tenant", "invoice")
    date_hierarchy = "created_at"
