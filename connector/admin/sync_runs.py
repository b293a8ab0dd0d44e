"""Status sync runs (read-only): when, what they saw and changed, and their error."""

from __future__ import annotations

from django.contrib import admin

from connector.admin.base import ReadOnlyMixin
from connector.models import SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "tenant",
        "status",
        "full",
        "started_at",
        "finished_at",
        "invoices_seen",
        "invoices_changed",
        "drafts_deleted",
        "credit_notes_new",
        "deals_written",
        "error",
    )
    list_filter = ("status", "full", ("tenant", admin.RelatedOnlyFieldListFilter))
    search_fields = ("tenant__portal_id", "tenant__name", "error")
    list_select_related = ("tenant",)
    date_hierarchy = "started_at"
