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
