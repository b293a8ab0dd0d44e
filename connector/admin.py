from django.contrib import admin
from django.http import HttpRequest

from connector.models import Invoice, QontoConnection, SyncRun, Tenant


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("portal_id", "name", "status", "created_at", "last_synced_at")
    list_filter = ("status",)
    search_fields = ("portal_id", "name", "hub_domain")


@admin.register(QontoConnection)
class QontoConnectionAdmin(admin.ModelAdmin):
    # The secret key and staging token are never shown: only their last characters.
    list_display = ("tenant", "organization_slug", "environment", "legal_name", "verified_at")
    fields = (
        "tenant",
        "environment",
        "organization_slug",
        "secret_key_hint",
        "vat_rate",
        "iban",
        "legal_name",
    )
    readonly_fields = fields
    search_fields = ("organization_slug", "legal_name", "tenant__portal_id")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "tenant",
        "hubspot_deal_id",
        "kind",
        "status",
        "number",
        "total_amount",
        "created_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("id", "hubspot_deal_id", "qonto_invoice_id", "number", "tenant__portal_id")
    list_select_related = ("tenant",)
    raw_id_fields = ("tenant", "deal")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("tenant", "status", "started_at", "finished_at", "invoices_seen", "invoices_changed")
    list_filter = ("status", "full")
    list_select_related = ("tenant",)
