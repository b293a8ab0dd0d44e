from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hubspot_app.models import HubSpotInstallation, WebhookEvent


@admin.register(HubSpotInstallation)
class HubSpotInstallationAdmin(admin.ModelAdmin):
    """Read-only: support sees when and by whom the app was installed, and when and why it left.

    The tokens are never shown (not even their presence in clear: only ``has_tokens``).
    """

    list_display = (
        "tenant",
        "installer_email",
        "installed_at",
        "uninstalled_at",
        "setup_completed_at",
        "has_tokens",
    )
    list_filter = (("uninstalled_at", admin.EmptyFieldListFilter),)
    search_fields = ("tenant__portal_id", "tenant__name", "installer_email", "hub_domain")
    list_select_related = ("tenant",)
    fields = (
        "tenant",
        "hub_domain",
        "installer_email",
        "installer_user_id",
        "scopes",
        "installed_at",
        "expires_at",
        "has_tokens",
        "setup_completed_at",
        "uninstalled_at",
        "uninstall_reason",
    )
    readonly_fields = fields

    @admin.display(boolean=True, description=_("Jetons présents"))
    def has_tokens(self, obj: HubSpotInstallation) -> bool:
        return obj.has_tokens

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    """Read-only: every webhook event HubSpot sent, and what was done with it (deduplicated by eventId)."""

    list_display = ("received_at", "portal_id", "subscription_type", "object_id", "property_value", "outcome")
    list_filter = ("outcome", "subscription_type")
    search_fields = ("event_id", "object_id", "portal_id")
    date_hierarchy = "received_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
