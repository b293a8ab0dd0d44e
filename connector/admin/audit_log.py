"""The audit log (read-only): who did what, when, to which tenant."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from connector.admin.base import ReadOnlyMixin
from connector.models import AuditLog


def audit_who(row: AuditLog) -> str:
    """Who acted: the staff user (login and e-mail) when there is one, else the e-mail recorded."""
    user = row.user if row.user_id else None
    if user is not None:
        login, email = user.get_username(), getattr(user, "email", "")
        return f"{login} ({email})" if email and email != login else login
    return row.user_email or "—"


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "who", "action", "tenant", "detail")
    list_filter = ("action",)
    search_fields = ("user_email", "user__username", "tenant__portal_id", "tenant__name")
    list_select_related = ("tenant", "user")
    date_hierarchy = "created_at"

    @admin.display(description=_("Qui"), ordering="user_email")
    def who(self, obj: AuditLog) -> str:
        return audit_who(obj)
