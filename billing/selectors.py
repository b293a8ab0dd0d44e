"""Reads of billing state. ``tenant_can_invoice`` is the one question the rest of the product asks.

The rule (spec/stripe.md §4.3): a tenant works while its subscription is ``active`` or
``trialing`` (also when canceled at period end, until that end), and while ``past_due`` until its
grace window closes; never when support suspended it; in every other case it does not work, and
the decision says why in a sentence for people.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from billing import stripe_api
from billing.models import Subscription
from connector.models import NOT_LOADED, Tenant, loaded_relation

logger = logging.getLogger(__name__)

# Decision statuses (BillingDecision.status).
ACTIVE = "active"
GRACE = "grace"
NEEDS_PLAN = "needs_plan"
SUSPENDED = "suspended"
PENDING_PAYMENT = "pending_payment"
CANCELED = "canceled"
DECISION_STATUSES = (ACTIVE, GRACE, NEEDS_PLAN, SUSPENDED, PENDING_PAYMENT, CANCELED)

MONTHLY = "monthly"
ANNUAL = "annual"
PLANS = (MONTHLY, ANNUAL)

# Stripe statuses of a subscription that still belongs to the customer (a new checkout would
# create a second, paid-twice subscription): changes go through the customer portal instead.
LIVE_STRIPE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "paused"})
ENDED_STRIPE_STATUSES = frozenset({"canceled", "incomplete_expired"})

PRICES_CACHE_SECONDS = 3600


@dataclasses.dataclass(frozen=True)
class BillingDecision:
    """May this tenant work now, and why (``message`` is translated, for people)."""

    allowed: bool
    status: str  # one of DECISION_STATUSES
    plan: str | None  # "monthly" / "annual"
    until: datetime | None  # grace end, or the end of a canceled subscription's period
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "allowed": self.allowed,
            "status": self.status,
            "plan": self.plan,
            "until": self.until.isoformat() if self.until else None,
            "message": self.message,
        }


def format_date(value: datetime) -> str:
    """ "2 décembre 2026" / "2 December 2026", in the site's time zone and the active language."""
    return date_format(timezone.localtime(value), "j F Y")


def subscription_get(*, tenant: Tenant) -> Subscription | None:
    """The tenant's subscription row: the one loaded with it (``select_related``), else a query."""
    loaded = loaded_relation(tenant, "billing_subscription")
    if loaded is NOT_LOADED:
        return Subscription.objects.filter(tenant=tenant).first()
    return loaded


def tenant_can_invoice(tenant: Tenant, *, now: datetime | None = None) -> BillingDecision:
    """The one rule: may ``tenant`` create and sync invoices at ``now`` (default: now)?"""
    now = now or timezone.now()
    if tenant.status == Tenant.Status.SUSPENDED:
        return BillingDecision(
            False,
            SUSPENDED,
            None,
            None,
            _("Compte suspendu par le support : contactez-nous pour le réactiver."),
        )
    if tenant.status == Tenant.Status.UNINSTALLED:
        return BillingDecision(
            False, SUSPENDED, None, None, _("L'application a été désinstallée de HubSpot : réinstallez-la.")
        )
    row = subscription_get(tenant=tenant)
    if row is None or not row.stripe_subscription_id or not row.status:
        return BillingDecision(
            False,
            NEEDS_PLAN,
            None,
            None,
            _("Aucun abonnement : choisissez une offre pour activer le connecteur."),
        )
    return subscription_decision(row, now=now)


def subscription_decision(row: Subscription, *, now: datetime) -> BillingDecision:
    """The decision for a subscription row (the tenant's own status is checked by the caller)."""
    plan = row.plan or None
    status = row.status
    if status in ("active", "trialing"):
        ends_at = row.cancel_at or (row.current_period_end if row.cancel_at_period_end else None)
        if ends_at is not None:
            if now >= ends_at:
                # Stripe's "deleted" event should follow; the period is over either way.
                return BillingDecision(
                    False,
                    CANCELED,
                    plan,
                    ends_at,
                    _("Abonnement terminé le %(date)s : choisissez une offre pour réactiver le connecteur.")
                    % {"date": format_date(ends_at)},
                )
            return BillingDecision(
                True,
                ACTIVE,
                plan,
                ends_at,
                _("Abonnement résilié : le connecteur reste actif jusqu'au %(date)s.")
                % {"date": format_date(ends_at)},
            )
        if plan == ANNUAL:
            message = _("Abonnement annuel actif.")
        elif plan == MONTHLY:
            message = _("Abonnement mensuel actif.")
        else:
            message = _("Abonnement actif.")
        return BillingDecision(True, ACTIVE, plan, None, message)
    if status == "past_due":
        grace_until = row.grace_until
        if grace_until is not None and now < grace_until:
            return BillingDecision(
                True,
                GRACE,
                plan,
                grace_until,
                _("Paiement échoué : le connecteur reste actif jusqu'au %(date)s.")
                % {"date": format_date(grace_until)},
            )
        return BillingDecision(
            False,
            SUSPENDED,
            plan,
            grace_until,
            _(
                "Paiement échoué : le connecteur est suspendu. Mettez à jour votre moyen de paiement "
                "dans le portail client."
            ),
        )
    if status == "unpaid":
        return BillingDecision(
            False,
            SUSPENDED,
            plan,
            None,
            _(
                "Paiements échoués : le connecteur est suspendu. Mettez à jour votre moyen de paiement "
                "dans le portail client."
            ),
        )
    if status == "incomplete":
        return BillingDecision(
            False,
            PENDING_PAYMENT,
            plan,
            None,
            _("Paiement en attente : le connecteur s'activera dès sa confirmation."),
        )
    if status in ENDED_STRIPE_STATUSES:
        return BillingDecision(
            False,
            CANCELED,
            plan,
            None,
            _("Abonnement terminé : choisissez une offre pour réactiver le connecteur."),
        )
    if status == "paused":
        return BillingDecision(
            False, SUSPENDED, plan, None, _("Abonnement en pause : le connecteur est suspendu.")
        )
    logger.warning("Unknown Stripe subscription status %r for tenant %s", status, row.tenant_id)
    return BillingDecision(
        False,
        SUSPENDED,
        plan,
        None,
        _(
            "Abonnement dans un état inattendu (%(status)s) : le connecteur est suspendu. "
            "Contactez le support."
        )
        % {"status": status},
    )


def checkout_allowed(*, tenant: Tenant) -> bool:
    """False when the tenant already has a subscription that is not over (no second checkout)."""
    row = subscription_get(tenant=tenant)
    return row is None or not row.stripe_subscription_id or row.status not in LIVE_STRIPE_STATUSES


# --- plans and prices ------------------------------------------------------------------------------
def plan_price_id(plan: str) -> str:
    return {MONTHLY: settings.STRIPE_PRICE_MONTHLY, ANNUAL: settings.STRIPE_PRICE_ANNUAL}[plan]


def plan_for_price(*, price_id: str, interval: str | None) -> str:
    """Our plan name for a Stripe price (by id, or by its billing interval for other prices)."""
    if price_id and price_id == settings.STRIPE_PRICE_MONTHLY:
        return MONTHLY
    if price_id and price_id == settings.STRIPE_PRICE_ANNUAL:
        return ANNUAL
    return {"month": MONTHLY, "year": ANNUAL}.get(interval or "", "")


@dataclasses.dataclass(frozen=True)
class PlanOffer:
    plan: str
    price_id: str
    unit_amount: int  # cents, excluding VAT
    currency: str
    interval: str


@dataclasses.dataclass(frozen=True)
class PlanCatalog:
    monthly: PlanOffer
    annual: PlanOffer

    @property
    def annual_saving(self) -> int:
        """Cents saved in a year by paying annually (0 if the annual price is not cheaper)."""
        return max(0, self.monthly.unit_amount * 12 - self.annual.unit_amount)

    @property
    def months_free(self) -> int:
        return self.annual_saving // self.monthly.unit_amount if self.monthly.unit_amount else 0

    @property
    def annual_per_month(self) -> int:
        return round(self.annual.unit_amount / 12)


def plan_catalog_get() -> PlanCatalog:
    """Both plans with their prices read from Stripe, cached for an hour. Raises ``BillingError``."""
    monthly_id, annual_id = settings.STRIPE_PRICE_MONTHLY, settings.STRIPE_PRICE_ANNUAL
    key = f"billing:prices:v1:{monthly_id}:{annual_id}"
    cached = cache.get(key)
    if cached is None:
        cached = {plan: _price_data(plan_price_id(plan)) for plan in PLANS}
        cache.set(key, cached, PRICES_CACHE_SECONDS)
    return PlanCatalog(
        monthly=PlanOffer(plan=MONTHLY, **cached[MONTHLY]), annual=PlanOffer(plan=ANNUAL, **cached[ANNUAL])
    )


def _price_data(price_id: str) -> dict[str, Any]:
    # StripeObjects are not dicts in stripe 16 (no .get): work on a plain copy.
    price = stripe_api.price_retrieve(price_id).to_dict()
    recurring = price.get("recurring") or {}
    return {
        "price_id": str(price["id"]),
        "unit_amount": int(price.get("unit_amount") or 0),
        "currency": str(price.get("currency") or "eur"),
        "interval": str(recurring.get("interval") or ""),
    }


def format_money(cents: int, currency: str = "eur") -> str:
    """39 € / 32,50 € (French) or €39 / €32.50 (English); whole amounts without decimals."""
    decimals = 0 if cents % 100 == 0 else 2
    amount = number_format(cents / 100, decimal_pos=decimals, use_l10n=True, force_grouping=True)
    if currency.lower() == "eur":
        return _("%(amount)s €") % {"amount": amount}
    return f"{amount} {currency.upper()}"
