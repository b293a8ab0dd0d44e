"""Deals, the Qonto client each HubSpot company is billed to, and invoices."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from connector.models.base import BaseModel
from connector.models.tenants import Tenant


class Deal(BaseModel):
    """A HubSpot deal we invoiced, and what we last wrote back to it."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="deals", verbose_name=_("tenant")
    )
    hubspot_deal_id = models.CharField(_("HubSpot deal id"), max_length=32)
    name = models.CharField(_("name"), max_length=500, blank=True)
    amount = models.DecimalField(
        _("amount excl. VAT"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Deal amount excl. VAT."),
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    pushed_fingerprint = models.CharField(
        _("pushed fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("Hash of the properties last written to HubSpot."),
    )
    pushed_at = models.DateTimeField(_("pushed at"), null=True, blank=True)
    hubspot_deleted_at = models.DateTimeField(
        _("deleted in HubSpot at"),
        null=True,
        blank=True,
        help_text=_("Set when HubSpot says the deal no longer exists; syncing stops."),
    )
    qonto_read_at = models.DateTimeField(
        _("read from Qonto at"),
        null=True,
        blank=True,
        help_text=_("When the card's Refresh last read this deal's invoices from Qonto."),
    )

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "hubspot_deal_id"], name="deal_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return f"Deal {self.hubspot_deal_id}"


class QontoClientLink(BaseModel):
    """Which Qonto client a HubSpot company became, so it is found again without a search."""

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="qonto_clients", verbose_name=_("tenant")
    )
    hubspot_company_id = models.CharField(_("HubSpot company id"), max_length=32)
    qonto_client_id = models.CharField(_("Qonto client id"), max_length=64)
    tax_id = models.CharField(_("tax id (SIRET)"), max_length=30, blank=True)
    fingerprint = models.CharField(
        _("fingerprint"), max_length=64, blank=True, help_text=_("Hash of the billing data sent.")
    )
    qonto_name = models.CharField(
        _("name in Qonto"),
        max_length=250,
        blank=True,
        help_text=_("The client's name in Qonto when we last read it."),
    )
    differences = models.JSONField(
        _("differences"),
        default=list,
        blank=True,
        help_text=_("Fields where Qonto's client differs from HubSpot (Qonto's are kept): name, address…"),
    )

    class Meta:
        verbose_name = _("Qonto client link")
        verbose_name_plural = _("Qonto client links")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "hubspot_company_id"], name="qonto_client_unique_per_company"
            )
        ]

    def __str__(self) -> str:
        return f"Company {self.hubspot_company_id} → client {self.qonto_client_id}"


class Invoice(BaseModel):
    """One invoice we create in Qonto for a deal (several per deal are normal).

    The state machine only moves forward: PENDING → CREATING → DRAFT (or FAILED); then the status
    sync follows Qonto (DRAFT → UNPAID → PAID, CANCELED, DELETED).
    """

    class Kind(models.TextChoices):
        FULL = "full", _("Facture complète")
        DEPOSIT = "deposit", _("Acompte")
        BALANCE = "balance", _("Solde")
        # Made in Qonto before (or without) the connector, then attached to the deal by the
        # history import: its amounts count, but it was never built from the deal.
        IMPORTED = "imported", _("Facture existante")

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        CREATING = "creating", _("En cours de création")
        DRAFT = "draft", _("Brouillon")
        UNPAID = "unpaid", _("À payer")
        PAID = "paid", _("Payée")
        CANCELED = "canceled", _("Annulée")
        DELETED = "deleted", _("Brouillon supprimé")
        FAILED = "failed", _("Échec")

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="invoices", verbose_name=_("tenant")
    )
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="invoices", verbose_name=_("deal"))
    hubspot_deal_id = models.CharField(_("HubSpot deal id"), max_length=32, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    percentage = models.DecimalField(_("percentage"), max_digits=5, decimal_places=2, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=80, help_text=_("Made by the card per click.")
    )
    reference = models.CharField(
        _("reference"),
        max_length=120,
        help_text=_("Printed on the invoice (Qonto purchase_order): the deal name, then our key."),
    )
    # NULL on rows made before the key had its own column: their key is inside ``reference``.
    reconcile_key = models.CharField(
        _("reconciliation key"),
        max_length=40,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Our unique key (QC-…) ending the reference: how the invoice is found in Qonto again."),
    )
    # What we asked Qonto for, and what Qonto answered.
    # NULL (not "") until Qonto answers, so the partial unique constraint ignores pending rows.
    qonto_invoice_id = models.CharField(_("Qonto invoice id"), max_length=64, null=True, blank=True)  # noqa: DJ001
    qonto_client_id = models.CharField(_("Qonto client id"), max_length=64, blank=True)
    number = models.CharField(_("number"), max_length=64, null=True, blank=True)  # noqa: DJ001 - null until finalized
    issue_date = models.DateField(_("issue date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    subtotal_amount = models.DecimalField(
        _("subtotal excl. VAT"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    vat_amount = models.DecimalField(_("VAT amount"), max_digits=14, decimal_places=2, default=Decimal("0"))
    total_amount = models.DecimalField(
        _("total incl. VAT"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    finalized_at = models.DateTimeField(_("finalized at"), null=True, blank=True)
    qonto_url = models.URLField(_("Qonto URL"), max_length=500, blank=True)
    qonto_updated_at = models.DateTimeField(_("updated in Qonto at"), null=True, blank=True)
    # Sums of the invoice's Qonto credit notes (``CreditNote``), kept here so every total reads
    # one row: excl. VAT like ``subtotal_amount``, and incl. VAT like ``total_amount``.
    credited_subtotal = models.DecimalField(
        _("credited excl. VAT"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    credited_total = models.DecimalField(
        _("credited incl. VAT"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    payload = models.JSONField(
        _("payload sent"), default=dict, blank=True, help_text=_("The body sent to Qonto.")
    )
    qonto_subtotal_by_vat = models.JSONField(
        _("Qonto subtotal by VAT rate"),
        default=dict,
        blank=True,
        help_text=_("What the invoice charges excl. VAT per VAT rate, as Qonto says now (from its lines)."),
    )
    deducted = models.JSONField(
        _("deducted invoices"),
        default=list,
        blank=True,
        help_text=_("For a balance: the invoices it deducts (id, number, amount)."),
    )
    # Failure, if any.
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    error_retryable = models.BooleanField(_("retryable error"), default=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    submitted_at = models.DateTimeField(
        _("submitted at"),
        null=True,
        blank=True,
        help_text=_("When the create call was last sent (NULL: never, or refused by Qonto)."),
    )
    hubspot_written_at = models.DateTimeField(_("written to HubSpot at"), null=True, blank=True)
    # Finalize and send from the card (``InvoiceAction``), the PDF on the deal, e-invoicing.
    sent_at = models.DateTimeField(
        _("sent at"),
        null=True,
        blank=True,
        help_text=_("When Qonto last accepted to e-mail it (Qonto has no 'sent' status)."),
    )
    attachment_id = models.CharField(
        _("Qonto PDF (attachment) id"),
        max_length=64,
        blank=True,
        help_text=_("Qonto's PDF (attachment) id, known ~10 s after finalize."),
    )
    pdf_noted_at = models.DateTimeField(
        _("PDF note added at"),
        null=True,
        blank=True,
        help_text=_("When the note linking to the PDF was added to the deal."),
    )
    einvoicing_status = models.CharField(
        _("e-invoicing status"),
        max_length=40,
        blank=True,
        help_text=_("Qonto's einvoicing_status (submitted, approved, declined…)."),
    )

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="invoice_unique_idempotency_key"
            ),
            models.UniqueConstraint(
                fields=["tenant", "qonto_invoice_id"],
                condition=Q(qonto_invoice_id__isnull=False),
                name="invoice_unique_qonto_id",
            ),
            # At most one live "full" invoice per deal: two clicks cannot both create one.
            models.UniqueConstraint(
                fields=["tenant", "hubspot_deal_id"],
                condition=Q(kind="full") & ~Q(status__in=["canceled", "deleted", "failed"]),
                name="invoice_one_live_full_per_deal",
            ),
            models.CheckConstraint(
                condition=Q(percentage__isnull=True) | (Q(percentage__gt=0) & Q(percentage__lt=100)),
                name="invoice_percentage_range",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "qonto_updated_at"], name="invoice_tenant_qonto_upd")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number or self.id}"
