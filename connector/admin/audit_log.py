"""The audit log (read-only): who did what, when, to which tenant."""

from __future__ import annotations

from django.contrib import admin

from connector.admin.base import ReadOnlyMixin
from connector.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "user_email", "action", "tenant", "detail")
    list_filter = ("action",)
    search_fields = ("user_email", "tenant__portal_id", "tenant__name")
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"
