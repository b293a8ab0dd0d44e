"""Qonto credit notes (avoirs) on our invoices, as the sync brought them back (read-only)."""

from __future__ import annotations

from django.contrib import admin

from connector.admin.base import MoneyFieldsMixin, ReadOnlyMixin
from connector.admin.formatting import money_display
from connector.models import CreditNote


@admin.register(CreditNote)
class CreditNoteAdmin(MoneyFieldsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "tenant",
        "hubspot_deal_id",
        "invoice",
        "subtotal_ht",
        "total_ttc",
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
    money_fields = {"subtotal_amount": "subtotal_ht", "vat_amount": "vat", "total_amount": "total_ttc"}
    subtotal_ht = money_display(CreditNote, "subtotal_amount")
    vat = money_display(CreditNote, "vat_amount")
    total_ttc = money_display(CreditNote, "total_amount")
