"""What a user asked Qonto to do with an invoice from the card (finalize, send), one row per click."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from connector.models.base import BaseModel
from connector.models.invoices import Invoice
from connector.models.tenants import Tenant


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
