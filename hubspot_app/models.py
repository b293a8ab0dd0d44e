"""HubSpot installation of a tenant: OAuth tokens (encrypted), expiry, scopes, installer."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedTextField

from connector.models import BaseModel, Tenant


class HubSpotInstallation(BaseModel):
    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="hubspot_installation")
    # HubSpot says token lengths vary: keep them in text columns, encrypted.
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True, help_text=_("When the access token expires."))
    scopes = models.JSONField(default=list, blank=True)
    installer_user_id = models.BigIntegerField(null=True, blank=True)
    installer_email = models.EmailField(blank=True)
    hub_domain = models.CharField(max_length=255, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    uninstalled_at = models.DateTimeField(null=True, blank=True)
    uninstall_reason = models.TextField(blank=True)
    setup_completed_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When our deal properties were last ensured in HubSpot.")
    )

    def __str__(self) -> str:
        return f"HubSpot installation of {self.tenant.portal_id}"

    @property
    def has_tokens(self) -> bool:
        return bool(self.refresh_token)


class WebhookEvent(models.Model):
    """One event of a HubSpot webhook batch, recorded before anything acts on it (STYLE.md §6).

    The unique (portal, eventId) makes a redelivered event (HubSpot retries a batch that did not
    get a 2xx, with the same ``eventId``) a no-op.
    """

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    portal_id = models.PositiveBigIntegerField()
    event_id = models.CharField(max_length=40)
    subscription_id = models.CharField(max_length=40, blank=True)
    subscription_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=32, blank=True)
    property_name = models.CharField(max_length=100, blank=True)
    property_value = models.CharField(max_length=255, blank=True)
    change_source = models.CharField(max_length=60, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    attempt_number = models.PositiveIntegerField(default=0)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.SET_NULL, null=True, blank=True, related_name="webhook_events"
    )
    outcome = models.CharField(max_length=40, help_text=_("What was done with the event."))

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["portal_id", "event_id"], name="webhook_event_unique_per_portal")
        ]

    def __str__(self) -> str:
        return f"{self.subscription_type} {self.event_id} ({self.outcome})"


class SettingsLinkUse(models.Model):
    """One use of a card settings link: a link works once (its nonce is unique), and says who."""

    nonce = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    hubspot_user_id = models.BigIntegerField(help_text=_("The HubSpot user the card call named."))
    user_email = models.CharField(max_length=254, blank=True)
    used_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-used_at"]

    def __str__(self) -> str:
        return f"Settings link of {self.tenant_id} used by {self.hubspot_user_id}"
