"""History from day one: import runs and the invoices they could not attach on their own."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from connector.models.base import BaseModel
from connector.models.tenants import Tenant


class HistoryImport(BaseModel):
    """One run of the history import: existing Qonto invoices attached to the tenant's deals."""

    class Status(models.TextChoices):
        RUNNING = "running", _("En cours")
        SUCCEEDED = "succeeded", _("Réussie")
        FAILED = "failed", _("Échec")

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="history_imports", verbose_name=_("tenant")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    requested_by = models.CharField(
        _("requested by"),
        max_length=254,
        blank=True,
        help_text=_("Who asked: onboarding, admin (their e-mail), command."),
    )
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    pages = models.PositiveIntegerField(_("pages read"), default=0)
    truncated = models.BooleanField(
        _("stopped early"),
        default=False,
        help_text=_("Stopped at the page limit: older invoices were not read."),
    )
    invoices_seen = models.PositiveIntegerField(_("invoices seen"), default=0)
    already_known = models.PositiveIntegerField(_("already known"), default=0)
    attached = models.PositiveIntegerField(_("attached"), default=0)
    candidates = models.PositiveIntegerField(
        _("to decide"), default=0, help_text=_("Listed for a person to decide.")
    )
    unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    reasons = models.JSONField(
        _("reasons"), default=dict, blank=True, help_text=_("Unmatched invoices, counted by reason.")
    )
    credit_notes = models.PositiveIntegerField(_("credit notes"), default=0)
    qonto_calls = models.PositiveIntegerField(_("Qonto calls"), default=0)
    hubspot_calls = models.PositiveIntegerField(_("HubSpot calls"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("history import")
        verbose_name_plural = _("history imports")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"History {self.tenant_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class HistoryCandidate(BaseModel):
    """An existing Qonto invoice the history import could not place alone: a person decides."""

    class State(models.TextChoices):
        PENDING = "pending", _("À décider")
        ATTACHED = "attached", _("Rattachée")
        DISMISSED = "dismissed", _("Écartée")

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="history_candidates", verbose_name=_("tenant")
    )
    qonto_invoice_id = models.CharField(_("Qonto invoice id"), max_length=64)
    number = models.CharField(_("number"), max_length=64, blank=True)
    client_name = models.CharField(_("client name"), max_length=250, blank=True)
    tax_id = models.CharField(_("tax id (SIRET)"), max_length=30, blank=True)
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    subtotal_amount = models.DecimalField(
        _("subtotal excl. VAT"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    total_amount = models.DecimalField(
        _("total incl. VAT"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    qonto_status = models.CharField(_("Qonto status"), max_length=10, blank=True)
    reason = models.CharField(_("reason"), max_length=40, db_index=True)
    options = models.JSONField(
        _("candidate deals"),
        default=list,
        blank=True,
        help_text=_("The deals it may belong to: id, name, amount, left to invoice."),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    deal_id = models.CharField(
        _("attached to deal"), max_length=32, blank=True, help_text=_("The deal it was attached to.")
    )
    resolved_by = models.CharField(_("resolved by"), max_length=254, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    last_import = models.ForeignKey(
        HistoryImport,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("last import"),
    )

    class Meta:
        verbose_name = _("existing invoice to attach")
        verbose_name_plural = _("existing invoices to attach")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "qonto_invoice_id"], name="history_candidate_unique_qonto_id"
            )
        ]

    def __str__(self) -> str:
        return f"Facture Qonto {self.number or self.qonto_invoice_id}"
