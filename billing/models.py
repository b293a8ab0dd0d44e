"""Billing state, kept apart from the connector's models.

``Subscription`` is our copy of the one Stripe subscription that decides whether a tenant may
work; it is written only by ``billing.services.subscription_sync_from_stripe`` (and the customer
creation before checkout). ``StripeEvent`` keeps every webhook event we accepted, once, so support
can see what arrived and replay what failed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from connector.models import BaseModel, Tenant


class Subscription(BaseModel):
    """One per tenant: its Stripe customer and current subscription, as last read from Stripe."""

    class Status(models.TextChoices):
        # Stripe's subscription statuses; "" until the tenant has a subscription. The column keeps
        # any string Stripe sends (the field is ``Literal[...] | str``): an unknown one means OFF.
        NONE = "", _("Aucun abonnement")
        INCOMPLETE = "incomplete", _("Premier paiement en attente")
        INCOMPLETE_EXPIRED = "incomplete_expired", _("Premier paiement expiré")
        TRIALING = "trialing", _("Essai")
        ACTIVE = "active", _("Actif")
        PAST_DUE = "past_due", _("Paiement en retard")
        UNPAID = "unpaid", _("Impayé")
        CANCELED = "canceled", _("Résilié")
        PAUSED = "paused", _("En pause")

    class Plan(models.TextChoices):
        NONE = "", _("Aucune")
        MONTHLY = "monthly", _("Mensuelle")
        ANNUAL = "annual", _("Annuelle")

    tenant = models.OneToOneField(
        Tenant, on_delete=models.CASCADE, related_name="billing_subscription", verbose_name=_("tenant")
    )
    stripe_customer_id = models.CharField(
        _("Stripe customer id"),
        max_length=255,
        blank=True,
        help_text=_("Stripe Customer (cus_…), created once per portal."),
    )
    stripe_subscription_id = models.CharField(
        _("Stripe subscription id"),
        max_length=255,
        blank=True,
        help_text=_("The subscription that currently decides access (sub_…)."),
    )
    status = models.CharField(
        _("status"), max_length=32, blank=True, default="", db_index=True, choices=Status.choices
    )
    price_id = models.CharField(
        _("Stripe price id"),
        max_length=255,
        blank=True,
        help_text=_("Stripe Price of the subscription item."),
    )
    plan = models.CharField(_("plan"), max_length=10, blank=True, default="", choices=Plan.choices)
    current_period_end = models.DateTimeField(_("current period end"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(
        _("cancels at period end"),
        default=False,
        help_text=_("Canceled by the customer: works until the period ends."),
    )
    cancel_at = models.DateTimeField(
        _("cancels at"), null=True, blank=True, help_text=_("When Stripe will end it, if set.")
    )
    grace_until = models.DateTimeField(
        _("grace until"),
        null=True,
        blank=True,
        help_text=_("Set when first seen past_due (+ BILLING_GRACE_DAYS); cleared when active again."),
    )
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_customer_id"],
                condition=~Q(stripe_customer_id=""),
                name="billing_subscription_unique_customer",
            ),
            models.UniqueConstraint(
                fields=["stripe_subscription_id"],
                condition=~Q(stripe_subscription_id=""),
                name="billing_subscription_unique_subscription",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.status or '-'} {self.plan or ''}".strip()


class StripeEvent(BaseModel):
    """A webhook event, stored once (the ``evt_…`` id is the primary key)."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Reçu")
        PROCESSED = "processed", _("Traité")
        IGNORED = "ignored", _("Ignoré")
        FAILED = "failed", _("Échec")

    id = models.CharField(
        _("Stripe event id"), primary_key=True, max_length=255, help_text=_("Stripe's event id (evt_…).")
    )
    type = models.CharField(_("type"), max_length=100, db_index=True)
    api_version = models.CharField(_("API version"), max_length=64, blank=True)
    created = models.DateTimeField(_("created by Stripe at"), help_text=_("When Stripe created the event."))
    livemode = models.BooleanField(_("live mode"), default=False)
    payload = models.JSONField(_("payload"), help_text=_("The event exactly as Stripe sent it."))
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stripe_events",
        help_text=_("Set once the event was matched to a tenant."),
        verbose_name=_("tenant"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    error = models.TextField(_("error"), blank=True, help_text=_("Why the last processing attempt failed."))
    attempts = models.PositiveSmallIntegerField(
        _("attempts"), default=0, help_text=_("Processing attempts (replays included).")
    )
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.id} {self.type} ({self.status})"
