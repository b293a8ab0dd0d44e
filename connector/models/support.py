"""What support reads: the audit log and the Celery task failures."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connector.models.tenants import Tenant


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
