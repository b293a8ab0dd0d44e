"""Tenants (one per HubSpot portal) and their Qonto connection (secret key encrypted)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedCharField

from connector.models.base import BaseModel


class Tenant(BaseModel):
    """One HubSpot account (portal) that installed the app."""

    class Status(models.TextChoices):
        INSTALLED = "installed", _("Installé")
        UNINSTALLED = "uninstalled", _("Désinstallé")
        SUSPENDED = "suspended", _("Suspendu")

    portal_id = models.PositiveBigIntegerField(
        _("HubSpot portal id"), unique=True, help_text=_("HubSpot hub_id of the account.")
    )
    name = models.CharField(_("name"), max_length=255, blank=True)
    hub_domain = models.CharField(_("hub domain"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.INSTALLED, db_index=True
    )
    status_reason = models.TextField(
        _("status reason"), blank=True, help_text=_("Why the status last changed (shown to support).")
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    # Invoicing settings.
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"),
        default=30,
        validators=[MaxValueValidator(365)],
        help_text=_("Due date = issue date + this many days."),
    )
    siret_property = models.CharField(
        _("SIRET property"),
        max_length=100,
        default="qonto_siret",
        help_text=_("Name of the HubSpot company property holding the SIRET."),
    )
    allow_siren = models.BooleanField(
        _("accept a SIREN"),
        default=False,
        help_text=_("Accept a 9-digit SIREN as the client's tax id when no SIRET is given."),
    )
    # Status sync.
    sync_cursor = models.DateTimeField(
        _("sync cursor"),
        null=True,
        blank=True,
        help_text=_("Highest Qonto updated_at applied by the status sync."),
    )
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)
    drafts_checked_at = models.DateTimeField(
        _("drafts checked at"),
        null=True,
        blank=True,
        help_text=_("When the sync last compared our drafts with Qonto's (a deleted draft vanishes)."),
    )

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["-created_at"]
        # Support's admin actions check these (granted to the "Admins support" group).
        permissions = [
            ("suspend_tenant", _("Suspendre ou réactiver un tenant")),
            ("operate_tenant", _("Tester Qonto, synchroniser, relancer le setup HubSpot")),
            ("retry_invoice", _("Relancer une facture en échec")),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'Portal'} ({self.portal_id})"


class QontoConnection(BaseModel):
    """A tenant's Qonto organisation and API key. The key is encrypted at rest and never shown."""

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        SANDBOX = "sandbox", _("Sandbox Qonto")

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="qonto_connection", verbose_name=_("tenant")
    )
    environment = models.CharField(
        _("environment"), max_length=20, choices=Environment.choices, default=Environment.PRODUCTION
    )
    organization_slug = models.CharField(
        _("organization slug"), max_length=100, help_text=_("Qonto login, e.g. acme-sas-3066.")
    )
    secret_key = EncryptedCharField(max_length=255)
    staging_token = EncryptedCharField(max_length=255, blank=True, default="")
    vat_rate = models.DecimalField(
        _("VAT rate (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("20.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Default VAT in percent (20 means 20 %)."),
    )
    iban = models.CharField(
        _("IBAN"), max_length=34, blank=True, help_text=_("Receiving account printed on invoices.")
    )
    bank_accounts = models.JSONField(
        _("bank accounts"),
        default=list,
        blank=True,
        help_text=_("Usable accounts (iban, name, main) seen at the last verification: the IBAN choices."),
    )
    legal_name = models.CharField(_("legal name"), max_length=255, blank=True)
    organization_id = models.CharField(_("organization id"), max_length=64, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("Qonto connection")
        verbose_name_plural = _("Qonto connections")

    def __str__(self) -> str:
        return f"{self.organization_slug} ({self.tenant.portal_id})"

    @property
    def secret_key_hint(self) -> str:
        """The last four characters only, for display."""
        return f"…{self.secret_key[-4:]}" if self.secret_key else ""
