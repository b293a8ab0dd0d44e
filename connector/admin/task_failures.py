"""Background tasks that failed (read-only): what, when, and the masked error."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from connector.models import TaskFailure


@admin.register(TaskFailure)
class TaskFailureAdmin(admin.ModelAdmin):
    """Background tasks that failed (read-only): what, when, and the masked error."""

    list_display = ("created_at", "task_name", "exception_type", "short_message", "task_id")
    list_filter = ("task_name", "exception_type")
    search_fields = ("task_id", "task_name", "message")
    readonly_fields = ("created_at", "task_name", "task_id", "args", "exception_type", "message", "traceback")
    date_hierarchy = "created_at"

    @admin.display(description=_("Message"))
    def short_message(self, obj: TaskFailure) -> str:
        return obj.message[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
