"""Automatic invoice requests (workflow action, stage rule) and the tenants' stage rules: read-only.

Support sees each run's trigger, outcome (in French and English), invoice, and whether the deal
and the workflow's callback were told; a lost step is queued again by the beat sweeper.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from connector.admin.base import ReadOnlyMixin
from connector.models import AutomationRun, StageRule


@admin.register(AutomationRun)
class AutomationRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "tenant",
        "trigger",
        "hubspot_deal_id",
        "kind",
        "status",
        "error_code",
        "message_fr",
        "deal_written_at",
        "callback_completed_at",
    )
    list_filter = ("trigger", "status", ("tenant", admin.RelatedOnlyFieldListFilter))
    search_fields = ("trigger_id", "hubspot_deal_id", "tenant__portal_id", "invoice__qonto_invoice_id")
    list_select_related = ("tenant",)
    raw_id_fields = ("tenant", "invoice")
    date_hierarchy = "created_at"

    @admin.display(description=_("Message (FR)"))
    def message_fr(self, obj: AutomationRun) -> str:
        return obj.message("fr")


@admin.register(StageRule)
class StageRuleAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "tenant",
        "enabled",
        "pipeline_label",
        "stage_label",
        "kind",
        "percentage",
        "active_since",
    )
    list_filter = ("enabled", "kind")
    search_fields = ("tenant__portal_id", "tenant__name", "stage_id")
    list_select_related = ("tenant",)
    raw_id_fields = ("tenant",)
