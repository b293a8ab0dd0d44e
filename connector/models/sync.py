"""The status sync's records: credit notes brought back from Qonto, and sync runs."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from connector.models.base import BaseModel
from connector.models.invoices import Invoice
from connector.models.tenants import Tenant


class CreditNote(BaseModel):
    """A Qonto credit note (avoir) on one of our invoices. Qonto gives it no status: it is final
    once created, and credit notes adding up to the invoice's total cancel the invoice."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="credit_notes", verbose_name=_("tenant")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="credit_notes", verbose_name=_("invoice")
    )
    hubspot_deal_id = models.CharField(_("HubSpot deal id"), max_length=32, db_index=True)
    qonto_credit_note_id = models.CharField(_("Qonto credit note id"), max_length=64)
    number = models.CharField(_("number"), max_length=64, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    subtotal_amount = models.DecimalField(
        _("credited amount excl. VAT"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Amount credited excl. VAT."),
    )
    vat_amount = models.DecimalField(_("VAT amount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total_amount = models.DecimalField(
        _("credited amount incl. VAT"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        help_text=_("Amount credited incl. VAT."),
    )
    vat_breakdown = models.JSONField(
        _("VAT breakdown"),
        default=dict,
        blank=True,
        help_text=_("Amount credited excl. VAT per VAT fraction ('0.2')."),
    )
    qonto_created_at = models.DateTimeField(_("created in Qonto at"), null=True, blank=True)
    qonto_url = models.URLField(_("Qonto URL"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("credit note")
        verbose_name_plural = _("credit notes")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "qonto_credit_note_id"], name="credit_note_unique_qonto_id"
            )
        ]

    def __str__(self) -> str:
        return f"Avoir {self.number or self.qonto_credit_note_id}"


class SyncRun(BaseModel):
    """One run of the Qonto → HubSpot status sync for one tenant."""

    class Status(models.TextChoices):
        RUNNING = "running", _("En cours")
        SUCCEEDED = "succeeded", _("Réussie")
        FAILED = "failed", _("Échec")
        SKIPPED = "skipped", _("Ignorée")

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="sync_runs", verbose_name=_("tenant")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    full = models.BooleanField(_("full sync"), default=False)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cursor_from = models.DateTimeField(_("cursor from"), null=True, blank=True)
    cursor_to = models.DateTimeField(_("cursor to"), null=True, blank=True)
    invoices_seen = models.PositiveIntegerField(_("invoices seen"), default=0)
    invoices_changed = models.PositiveIntegerField(_("invoices changed"), default=0)
    drafts_deleted = models.PositiveIntegerField(
        _("drafts deleted"), default=0, help_text=_("Drafts found deleted in Qonto (confirmed by a 404).")
    )
    credit_notes_seen = models.PositiveIntegerField(_("credit notes seen"), default=0)
    credit_notes_new = models.PositiveIntegerField(_("new credit notes"), default=0)
    deals_written = models.PositiveIntegerField(_("deals written"), default=0)
    qonto_calls = models.PositiveIntegerField(_("Qonto calls"), default=0)
    hubspot_calls = models.PositiveIntegerField(_("HubSpot calls"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Sync {self.tenant_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
