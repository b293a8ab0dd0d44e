"""Automation: the stage rule and the runs of the workflow action."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from connector.models.base import BaseModel
from connector.models.invoices import Invoice
from connector.models.tenants import Tenant


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
