"""The core records: tenants, their Qonto connection, deals, invoices and sync runs.

Every tenant-owned row carries ``tenant`` and every unique constraint includes it, so one
tenant's data cannot collide with, or leak into, another's.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from encrypted_model_fields.fields import EncryptedCharField


class BaseModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


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


class InvoiceAction(BaseModel):
    """One click on *Finaliser* or *Envoyer* in the card: what was asked, by whom, and how it ended.

    ``idempotency_key`` is made by the card per click: the same key finds this row again. At most
    one action of a kind is in flight per invoice (a partial unique constraint), so a double click
    with two keys still finalizes or sends once.
    """

    class Kind(models.TextChoices):
        FINALIZE = "finalize", _("Finalisation")
        SEND = "send", _("Envoi par e-mail")

    class Status(models.TextChoices):
        PENDING = "pending", _("En attente")
        RUNNING = "running", _("En cours")
        SUCCEEDED = "succeeded", _("Réussie")
        FAILED = "failed", _("Échec")

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="invoice_actions", verbose_name=_("tenant")
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="actions", verbose_name=_("invoice")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=80, help_text=_("Made by the card per click.")
    )
    requested_by_id = models.CharField(
        _("requested by (HubSpot user id)"),
        max_length=40,
        blank=True,
        help_text=_("HubSpot user id (signed call)."),
    )
    requested_by_email = models.CharField(_("requested by (e-mail)"), max_length=254, blank=True)
    params = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_("For a send: send_to, email_title, email_body, copy_to_self."),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("invoice action")
        verbose_name_plural = _("invoice actions")
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "idempotency_key"], name="invoice_action_unique_idempotency_key"
            ),
            models.UniqueConstraint(
                fields=["invoice", "kind"],
                condition=Q(status__in=["pending", "running"]),
                name="invoice_action_one_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.invoice_id} ({self.status})"


class StageRule(BaseModel):
    """The tenant's optional rule "when a deal enters stage X, create invoice Y" (off by default).

    Applied to HubSpot's signed ``dealstage`` change webhooks (``connector.automation.stage_rule``).
    Stage ids are unique among a portal's deal pipelines [assumed], so an event is matched on the
    stage; the pipeline is kept to show the choice.
    """

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="stage_rule", verbose_name=_("tenant")
    )
    enabled = models.BooleanField(_("enabled"), default=False)
    pipeline_id = models.CharField(_("pipeline id"), max_length=100, blank=True)
    pipeline_label = models.CharField(_("pipeline"), max_length=255, blank=True)
    stage_id = models.CharField(_("stage id"), max_length=100, blank=True)
    stage_label = models.CharField(_("stage"), max_length=255, blank=True)
    # The kinds a click can ask for (an imported invoice is never created by a rule).
    kind = models.CharField(
        _("kind"),
        max_length=10,
        choices=[c for c in Invoice.Kind.choices if c[0] != Invoice.Kind.IMPORTED],
        default=Invoice.Kind.FULL,
    )
    percentage = models.DecimalField(_("percentage"), max_digits=5, decimal_places=2, null=True, blank=True)
    active_since = models.DateTimeField(
        _("active since"),
        null=True,
        blank=True,
        help_text=_("When the rule was last switched on or changed: earlier stage changes are ignored."),
    )

    class Meta:
        verbose_name = _("stage rule")
        verbose_name_plural = _("stage rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(percentage__isnull=True) | (Q(percentage__gt=0) & Q(percentage__lt=100)),
                name="stage_rule_percentage_range",
            ),
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"Stage rule {self.tenant_id} ({state}): {self.stage_id} → {self.kind}"


class AutomationRun(BaseModel):
    """One automatic invoice request: a workflow action execution or a stage-rule webhook event.

    ``trigger_id`` is HubSpot's ``callbackId`` (workflow action) or ``eventId`` (stage webhook); the
    unique constraint makes a redelivery find this row instead of making a second invoice, and the
    invoice's idempotency key is derived from it. The outcome is written on the deal
    (``qonto_automation_status`` / ``qonto_automation_message``) and, for an action, sent back to
    HubSpot by completing the callback.
    """

    class Trigger(models.TextChoices):
        WORKFLOW_ACTION = "workflow_action", _("Action de workflow")
        STAGE_RULE = "stage_rule", _("Règle de phase")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Reçue")
        PENDING = "pending", _("Facture en cours de création")
        SUCCEEDED = "succeeded", _("Facture créée")
        FAILED = "failed", _("Échec")

    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="automation_runs", verbose_name=_("tenant")
    )
    trigger = models.CharField(_("trigger"), max_length=20, choices=Trigger.choices)
    trigger_id = models.CharField(
        _("trigger id"), max_length=200, help_text=_("HubSpot callbackId or webhook eventId.")
    )
    hubspot_deal_id = models.CharField(_("HubSpot deal id"), max_length=32, db_index=True)
    kind = models.CharField(_("kind"), max_length=10, blank=True)
    percentage = models.DecimalField(_("percentage"), max_digits=5, decimal_places=2, null=True, blank=True)
    workflow_id = models.CharField(_("workflow id"), max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    invoice = models.ForeignKey(
        Invoice,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="automation_runs",
        verbose_name=_("invoice"),
    )
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    messages = models.JSONField(
        _("messages"), default=dict, blank=True, help_text=_("The outcome, in French and English.")
    )
    deal_written_at = models.DateTimeField(_("deal written at"), null=True, blank=True)
    callback_completed_at = models.DateTimeField(_("callback completed at"), null=True, blank=True)
    callback_error = models.CharField(_("callback error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("automation run")
        verbose_name_plural = _("automation runs")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "trigger", "trigger_id"], name="automation_run_unique_trigger"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.trigger_id} ({self.status})"

    def message(self, lang: str = "fr") -> str:
        return str((self.messages or {}).get(lang) or (self.messages or {}).get("fr") or "")


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


class AuditLog(models.Model):
    """Who did what, when, to which tenant: every support action and every sensitive change.

    Written only by ``connector.audit.audit``; never edited. ``user_email`` keeps who it was when
    the user row is deleted, and names HubSpot users (who have no Django account).
    """

    class Action(models.TextChoices):
        QONTO_TESTED = "qonto_tested", _("Connexion Qonto testée")
        SYNC_REQUESTED = "sync_requested", _("Synchronisation demandée")
        HUBSPOT_SETUP_REQUESTED = "hubspot_setup_requested", _("Setup HubSpot relancé")
        TENANT_SUSPENDED = "tenant_suspended", _("Tenant suspendu")
        TENANT_RESUMED = "tenant_resumed", _("Tenant réactivé")
        INVOICE_RETRIED = "invoice_retried", _("Facture relancée")
        CREDENTIALS_REPLACED = "credentials_replaced", _("Identifiants Qonto remplacés")
        TENANT_DISCONNECTED = "tenant_disconnected", _("Application déconnectée")
        SETTINGS_LINK_USED = "settings_link_used", _("Réglages ouverts depuis la carte")
        CONNECTION_CHANGE_REFUSED = "connection_change_refused", _("Modification refusée (droits HubSpot)")
        STAGE_RULE_CHANGED = "stage_rule_changed", _("Règle d'automatisation modifiée")
        HISTORY_IMPORT_REQUESTED = "history_import_requested", _("Import de l'historique Qonto demandé")
        HISTORY_INVOICE_ATTACHED = (
            "history_invoice_attached",
            _("Facture existante rattachée à une transaction"),
        )
        HISTORY_INVOICE_DISMISSED = "history_invoice_dismissed", _("Facture existante écartée")
        STRIPE_EVENT_REPLAYED = "stripe_event_replayed", _("Événement Stripe rejoué")
        SUBSCRIPTION_RESYNCED = "subscription_resynced", _("Abonnement re-synchronisé depuis Stripe")
        INVOICE_FINALIZE_REQUESTED = "invoice_finalize_requested", _("Finalisation demandée depuis la carte")
        INVOICE_SEND_REQUESTED = "invoice_send_requested", _("Envoi par e-mail demandé depuis la carte")

    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff user"),
    )
    user_email = models.CharField(
        _("who (e-mail)"), max_length=254, blank=True, help_text=_("Who acted, as text.")
    )
    action = models.CharField(_("action"), max_length=40, choices=Action.choices, db_index=True)
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_logs",
        verbose_name=_("tenant"),
    )
    detail = models.JSONField(
        _("detail"), default=dict, blank=True, help_text=_("What changed and the outcome.")
    )

    class Meta:
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.user_email or '-'}"


class TaskFailure(models.Model):
    """A background task that ended in an exception (retries exhausted or an unexpected error).

    Written by the ``task_failure`` signal (``connector.task_failures``) so support sees it in the
    admin; the exception text is masked like our logs.
    """

    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    task_name = models.CharField(_("task name"), max_length=200, db_index=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    exception_type = models.CharField(_("exception type"), max_length=200)
    message = models.TextField(_("message"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)

    class Meta:
        verbose_name = _("task failure")
        verbose_name_plural = _("task failures")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.task_name}: {self.exception_type}"
