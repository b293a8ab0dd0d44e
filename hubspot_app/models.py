"""HubSpot installation of a tenant: OAuth tokens (encrypted), expiry, scopes, installer."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedTextField

from connector.models import BaseModel, Tenant


class HubSpotInstallation(BaseModel):
    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="hubspot_installation", verbose_name=_("tenant")
    )
    # HubSpot says token lengths vary: keep them in text columns, encrypted.
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    expires_at = models.DateTimeField(
        _("token expires at"), null=True, blank=True, help_text=_("When the access token expires.")
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    installer_user_id = models.BigIntegerField(_("installer user id"), null=True, blank=True)
    installer_email = models.EmailField(_("installer e-mail"), blank=True)
    hub_domain = models.CharField(_("hub domain"), max_length=255, blank=True)
    installed_at = models.DateTimeField(_("installed at"), null=True, blank=True)
    uninstalled_at = models.DateTimeField(_("uninstalled at"), null=True, blank=True)
    uninstall_reason = models.TextField(_("uninstall reason"), blank=True)
    setup_completed_at = models.DateTimeField(
        _("setup completed at"),
        null=True,
        blank=True,
        help_text=_("When our deal properties were last ensured in HubSpot."),
    )

    class Meta:
        verbose_name = _("HubSpot installation")
        verbose_name_plural = _("HubSpot installations")

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

    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    portal_id = models.PositiveBigIntegerField(_("portal id"))
    event_id = models.CharField(_("event id"), max_length=40)
    subscription_id = models.CharField(_("subscription id"), max_length=40, blank=True)
    subscription_type = models.CharField(_("subscription type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=32, blank=True)
    property_name = models.CharField(_("property name"), max_length=100, blank=True)
    property_value = models.CharField(_("property value"), max_length=255, blank=True)
    change_source = models.CharField(_("change source"), max_length=60, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    attempt_number = models.PositiveIntegerField(_("attempt number"), default=0)
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="webhook_events",
        verbose_name=_("tenant"),
    )
    outcome = models.CharField(_("outcome"), max_length=40, help_text=_("What was done with the event."))

    class Meta:
        verbose_name = _("HubSpot webhook event")
        verbose_name_plural = _("HubSpot webhook events")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["portal_id", "event_id"], name="webhook_event_unique_per_portal")
        ]

    def __str__(self) -> str:
        return f"{self.subscription_type} {self.event_id} ({self.outcome})"


class SettingsLinkUse(models.Model):
    """One use of a card settings link: a link works once (its nonce is unique), and says who."""

    nonce = models.CharField(_("nonce"), max_length=64, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", verbose_name=_("tenant"))
    hubspot_user_id = models.BigIntegerField(
        _("HubSpot user id"), help_text=_("The HubSpot user the card call named.")
    )
    user_email = models.CharField(_("user e-mail"), max_length=254, blank=True)
    used_at = models.DateTimeField(_("used at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("settings link use")
        verbose_name_plural = _("settings link uses")
        ordering = ["-used_at"]

    def __str__(self) -> str:
        return f"Settings link of {self.tenant_id} used by {self.hubspot_user_id}"
