"""Billing writes: the Stripe customer, Checkout and portal sessions, the subscription sync, and
webhook event intake and replay.

``subscription_sync_from_stripe`` is the only writer of a tenant's billing state. It always
re-reads the subscription from Stripe under a row lock, so neither the order nor the number of
webhook deliveries (nor a return page racing a webhook) can leave a stale state behind.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing import selectors, stripe_api
from billing.models import StripeEvent, Subscription
from billing.selectors import ENDED_STRIPE_STATUSES, BillingDecision
from connector.exceptions import ApplicationError, BillingError, BillingPermanentError
from connector.logging import mask_text
from connector.models import Tenant

logger = logging.getLogger(__name__)

CLIENT_REFERENCE_PREFIX = "hubspot-portal-"
_CHECKOUT_SESSION_ID = re.compile(r"^cs_[A-Za-z0-9_]{1,250}$")
_STRIPE_LOCALES = {"fr": "fr", "en": "en"}


class AlreadySubscribedError(BillingPermanentError):
    code = "already_subscribed"
    default_user_message = _(
        "Votre abonnement est déjà en place : pour changer d'offre, de moyen de paiement ou résilier, "
        "passez par le portail client."
    )


class CheckoutSessionMismatchError(BillingPermanentError):
    """The Checkout Session belongs to another tenant (or is not one of ours)."""

    code = "checkout_session_mismatch"
    default_user_message = _("Cette session de paiement ne correspond pas à votre compte HubSpot.")


class NoCustomerError(BillingPermanentError):
    code = "no_customer"
    default_user_message = _("Aucun abonnement à gérer pour le moment : choisissez d'abord une offre.")


def client_reference_id_for(tenant: Tenant) -> str:
    return f"{CLIENT_REFERENCE_PREFIX}{tenant.portal_id}"


def stripe_locale(language: str | None) -> str:
    return _STRIPE_LOCALES.get((language or "")[:2].lower(), "auto")


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), UTC) if value else None


def _id_of(value: Any) -> str:
    """A Stripe reference that may be an id or an expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


# --- customer, checkout, portal --------------------------------------------------------------------
def customer_get_or_create(*, tenant: Tenant) -> Subscription:
    """The tenant's billing row with its Stripe Customer, created once (``metadata.portal_id``).

    The row is locked while the customer is created, so two clicks cannot create two customers,
    and the idempotency key is derived from the tenant: a retry after a lost answer gets the
    customer Stripe already created.
    """
    with transaction.atomic():
        row, _created = Subscription.objects.select_for_update().get_or_create(tenant=tenant)
        if row.stripe_customer_id:
            return row
        customer = stripe_api.customer_create(
            params={
                "name": tenant.name or f"HubSpot {tenant.portal_id}",
                "description": f"HubSpot portal {tenant.portal_id} {tenant.hub_domain}".strip(),
                "metadata": {"portal_id": str(tenant.portal_id)},
            },
            idempotency_key=f"customer-create:tenant-{tenant.pk}:portal-{tenant.portal_id}",
        )
        row.stripe_customer_id = customer.id
        row.save(update_fields=["stripe_customer_id", "updated_at"])
        logger.info("Stripe customer %s created", customer.id, extra={"tenant_id": tenant.pk})
        return row


def checkout_session_create(*, tenant: Tenant, plan: str, attempt: str, language: str | None) -> str:
    """A Checkout Session (subscription mode) for ``plan``; returns the URL to send the browser to.

    ``attempt`` is the token of the form the user submitted: the same submission twice (double
    click, resent form) reuses the idempotency key and so gets the same session.
    """
    if plan not in selectors.PLANS:
        raise BillingPermanentError(f"unknown plan {plan!r}", user_message=_("Offre inconnue."))
    if not selectors.checkout_allowed(tenant=tenant):
        raise AlreadySubscribedError(f"tenant {tenant.pk} already has a live subscription")
    row = customer_get_or_create(tenant=tenant)
    base = settings.PUBLIC_BASE_URL
    locale = stripe_locale(language)
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": selectors.plan_price_id(plan), "quantity": 1}],
        "customer": row.stripe_customer_id,
        "customer_update": {"name": "auto", "address": "auto"},
        "client_reference_id": client_reference_id_for(tenant),
        "subscription_data": {"metadata": {"portal_id": str(tenant.portal_id)}},
        "tax_id_collection": {"enabled": True, "required": "if_supported"},
        "automatic_tax": {"enabled": True},
        "success_url": f"{base}/billing/return?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base}/billing/plans?checkout=canceled",
        "locale": locale,
        "metadata": {"portal_id": str(tenant.portal_id), "plan": plan},
    }
    try:
        attempt = str(uuid.UUID(attempt))
    except (TypeError, ValueError):
        attempt = str(uuid.uuid4())
    key = f"checkout:{tenant.portal_id}:{plan}:{locale}:{attempt}"
    session = stripe_api.checkout_session_create(params=params, idempotency_key=key)
    if session.status != "open" or not session.url:
        # An old form (back button) replayed a session that is already used: start a fresh one.
        session = stripe_api.checkout_session_create(params=params, idempotency_key=f"{key}:{uuid.uuid4()}")
    logger.info("Checkout session %s created (%s)", session.id, plan, extra={"tenant_id": tenant.pk})
    return str(session.url)


def billing_portal_session_create(*, tenant: Tenant, language: str | None) -> str:
    """A Customer Portal session (one per click: its URL is short-lived); returns its URL."""
    row = selectors.subscription_get(tenant=tenant)
    if row is None or not row.stripe_customer_id:
        raise NoCustomerError(f"tenant {tenant.pk} has no Stripe customer")
    session = stripe_api.billing_portal_session_create(
        params={
            "customer": row.stripe_customer_id,
            "return_url": f"{settings.PUBLIC_BASE_URL}/billing/",
            "locale": stripe_locale(language),
        },
        idempotency_key=f"portal:{row.stripe_customer_id}:{uuid.uuid4()}",
    )
    return str(session.url)


@dataclasses.dataclass(frozen=True)
class CheckoutReturn:
    session_status: str  # open / complete / expired
    payment_status: str  # paid / unpaid / no_payment_required
    decision: BillingDecision
    synced: bool  # False when Stripe could not be read now (the webhook will do it)


def checkout_return_sync(*, tenant: Tenant, session_id: str) -> CheckoutReturn:
    """Back from Checkout: check the session is this tenant's, then run the webhook's sync now, so
    the page is right even when the webhook is late."""
    if not _CHECKOUT_SESSION_ID.match(session_id or ""):
        raise CheckoutSessionMismatchError(f"malformed session id {session_id[:40]!r}")
    session = stripe_api.checkout_session_retrieve(session_id).to_dict()
    if session.get("client_reference_id") != client_reference_id_for(tenant):
        logger.warning(
            "Checkout session %s does not belong to this tenant", session_id, extra={"tenant_id": tenant.pk}
        )
        raise CheckoutSessionMismatchError(f"session {session_id} is not for portal {tenant.portal_id}")
    synced = True
    if session.get("status") == "complete" and session.get("subscription"):
        try:
            checkout_session_apply(tenant=tenant, session=session)
        except BillingError as exc:
            logger.warning(
                "Sync on return failed, the webhook will do it: %s", exc, extra={"tenant_id": tenant.pk}
            )
            synced = False
    return CheckoutReturn(
        session_status=str(session.get("status") or ""),
        payment_status=str(session.get("payment_status") or ""),
        decision=selectors.tenant_can_invoice(tenant),
        synced=synced,
    )


def checkout_session_apply(*, tenant: Tenant, session: dict[str, Any]) -> Subscription | None:
    """Link the tenant to the session's customer and subscription, then sync that subscription.

    Access never comes from the session itself: only from the subscription's status.
    """
    customer_id = _id_of(session.get("customer"))
    subscription_id = _id_of(session.get("subscription"))
    if customer_id:
        with transaction.atomic():
            row, _created = Subscription.objects.select_for_update().get_or_create(tenant=tenant)
            if not row.stripe_customer_id:
                row.stripe_customer_id = customer_id
                row.save(update_fields=["stripe_customer_id", "updated_at"])
            elif row.stripe_customer_id != customer_id:
                logger.warning(
                    "Checkout used customer %s but the tenant has %s",
                    customer_id,
                    row.stripe_customer_id,
                    extra={"tenant_id": tenant.pk},
                )
    if not subscription_id:
        return None
    return subscription_sync_from_stripe(subscription_id=subscription_id, tenant=tenant)


# --- the sync --------------------------------------------------------------------------------------
def _status_rank(status: str) -> int:
    if status in ("active", "trialing", "past_due"):
        return 2
    if status in ENDED_STRIPE_STATUSES or not status:
        return 0
    return 1


def subscription_sync_from_stripe(
    *, subscription_id: str, tenant: Tenant | None = None, now: datetime | None = None
) -> Subscription:
    """Re-read the subscription from Stripe and upsert the tenant's row (the only writer).

    The tenant comes from the caller, else from our rows (subscription or customer id), else from
    the subscription's ``metadata.portal_id``. The row is locked *before* Stripe is read, so two
    concurrent syncs apply their reads in order and the later read always wins.
    """
    if tenant is None:
        tenant = _tenant_resolve(subscription_id=subscription_id)
    if tenant is None:
        sub_first = stripe_api.subscription_retrieve(subscription_id).to_dict()
        tenant = _tenant_resolve(
            portal_id=(sub_first.get("metadata") or {}).get("portal_id"),
            customer_id=_id_of(sub_first.get("customer")),
        )
        if tenant is None:
            raise BillingPermanentError(f"no tenant for subscription {subscription_id}")
    with transaction.atomic():
        Subscription.objects.get_or_create(tenant=tenant)
        row = Subscription.objects.select_for_update().get(tenant=tenant)
        sub = stripe_api.subscription_retrieve(subscription_id).to_dict()
        now = now or timezone.now()
        portal_id = (sub.get("metadata") or {}).get("portal_id")
        if portal_id and str(portal_id) != str(tenant.portal_id):
            raise BillingPermanentError(
                f"subscription {subscription_id} is for portal {portal_id}, not {tenant.portal_id}"
            )
        status = str(sub.get("status") or "")
        if (
            row.stripe_subscription_id
            and row.stripe_subscription_id != sub["id"]
            and _status_rank(status) < _status_rank(row.status)
        ):
            # An older subscription of this tenant (e.g. the one it replaced) must not override the
            # one that currently gives access.
            logger.info(
                "Ignoring subscription %s (%s): tenant follows %s (%s)",
                sub["id"],
                status,
                row.stripe_subscription_id,
                row.status,
                extra={"tenant_id": tenant.pk},
            )
            return row
        if row.stripe_subscription_id != sub["id"]:
            row.grace_until = None
        items = (sub.get("items") or {}).get("data") or []
        item = items[0] if items else {}
        price = item.get("price") or {}
        previous = row.status
        row.stripe_subscription_id = sub["id"]
        row.stripe_customer_id = row.stripe_customer_id or _id_of(sub.get("customer"))
        row.status = status
        row.price_id = str(price.get("id") or "")
        row.plan = selectors.plan_for_price(
            price_id=row.price_id, interval=(price.get("recurring") or {}).get("interval")
        )
        row.current_period_end = _ts(item.get("current_period_end"))
        row.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
        row.cancel_at = _ts(sub.get("cancel_at"))
        if status == "past_due":
            if row.grace_until is None:  # set once, on first seeing the failure
                row.grace_until = now + timedelta(days=settings.BILLING_GRACE_DAYS)
        elif status in ("active", "trialing"):
            row.grace_until = None
        row.last_synced_at = now
        row.save()
    if previous != status:
        logger.info(
            "Subscription %s: %s → %s", sub["id"], previous or "-", status, extra={"tenant_id": tenant.pk}
        )
    return row


def _tenant_resolve(
    *, portal_id: Any = None, subscription_id: str = "", customer_id: str = ""
) -> Tenant | None:
    if portal_id:
        try:
            tenant = Tenant.objects.filter(portal_id=int(portal_id)).first()
        except (TypeError, ValueError):
            tenant = None
        if tenant is not None:
            return tenant
    row = None
    if subscription_id:
        row = (
            Subscription.objects.select_related("tenant")
            .filter(stripe_subscription_id=subscription_id)
            .first()
        )
    if row is None and customer_id:
        row = Subscription.objects.select_related("tenant").filter(stripe_customer_id=customer_id).first()
    return row.tenant if row is not None else None


# --- webhook events --------------------------------------------------------------------------------
def _portal_from_reference(value: Any) -> str | None:
    text = str(value or "")
    return text[len(CLIENT_REFERENCE_PREFIX) :] if text.startswith(CLIENT_REFERENCE_PREFIX) else None


def _handle_checkout_session(obj: dict[str, Any]) -> Tenant | None:
    if obj.get("mode") != "subscription":
        return None
    tenant = _tenant_resolve(
        portal_id=_portal_from_reference(obj.get("client_reference_id"))
        or (obj.get("metadata") or {}).get("portal_id"),
        customer_id=_id_of(obj.get("customer")),
    )
    if tenant is None:
        raise BillingPermanentError(f"no tenant for checkout session {obj.get('id')}")
    checkout_session_apply(tenant=tenant, session=obj)
    return tenant


def _handle_subscription(obj: dict[str, Any]) -> Tenant | None:
    tenant = _tenant_resolve(
        portal_id=(obj.get("metadata") or {}).get("portal_id"),
        subscription_id=str(obj.get("id") or ""),
        customer_id=_id_of(obj.get("customer")),
    )
    return subscription_sync_from_stripe(subscription_id=str(obj["id"]), tenant=tenant).tenant


def _handle_invoice(obj: dict[str, Any]) -> Tenant | None:
    details = ((obj.get("parent") or {}).get("subscription_details")) or {}
    subscription_id = _id_of(details.get("subscription"))
    if not subscription_id:
        return None  # a one-off invoice: nothing to do with access
    tenant = _tenant_resolve(
        portal_id=(details.get("metadata") or {}).get("portal_id"),
        subscription_id=subscription_id,
        customer_id=_id_of(obj.get("customer")),
    )
    return subscription_sync_from_stripe(subscription_id=subscription_id, tenant=tenant).tenant


EVENT_HANDLERS: dict[str, Callable[[dict[str, Any]], Tenant | None]] = {
    "checkout.session.completed": _handle_checkout_session,
    "checkout.session.async_payment_succeeded": _handle_checkout_session,
    "checkout.session.async_payment_failed": _handle_checkout_session,
    "customer.subscription.created": _handle_subscription,
    "customer.subscription.updated": _handle_subscription,
    "customer.subscription.deleted": _handle_subscription,
    "customer.subscription.paused": _handle_subscription,
    "customer.subscription.resumed": _handle_subscription,
    "invoice.paid": _handle_invoice,
    "invoice.payment_failed": _handle_invoice,
}


@dataclasses.dataclass(frozen=True)
class EventReceipt:
    event: StripeEvent
    duplicate: bool


def stripe_event_receive(*, payload: dict[str, Any]) -> EventReceipt:
    """Record a verified event once, then process it (unless it was already handled).

    Call only with a payload whose signature was verified. A redelivery of an event we processed or
    ignored does nothing; a redelivery of one that failed is processed again (that is Stripe's
    retry after our 500).
    """
    event_id = str(payload["id"])
    event, created = StripeEvent.objects.get_or_create(
        id=event_id,
        defaults={
            "type": str(payload.get("type") or ""),
            "api_version": str(payload.get("api_version") or ""),
            "created": _ts(payload.get("created")) or timezone.now(),
            "livemode": bool(payload.get("livemode")),
            "payload": payload,
        },
    )
    if not created and event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
        logger.info("Stripe event %s already %s", event_id, event.status)
        return EventReceipt(event=event, duplicate=True)
    if created and event.api_version and event.api_version != stripe.api_version:
        logger.warning(
            "Stripe event %s has API version %s, ours is %s", event_id, event.api_version, stripe.api_version
        )
    return EventReceipt(event=stripe_event_process(event_id=event_id), duplicate=False)


def stripe_event_process(*, event_id: str, force: bool = False) -> StripeEvent:
    """Run the handler of a recorded event and record the outcome (processed, ignored or failed).

    The event row stays locked while it runs, so two deliveries of one event never run together.
    ``force`` runs it again even when it was already processed (replay).
    """
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_id)
        if not force and event.status in (StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED):
            return event
        event.attempts += 1
        handler = EVENT_HANDLERS.get(event.type)
        if handler is None:
            event.status = StripeEvent.Status.IGNORED
            event.error = ""
            event.processed_at = timezone.now()
            event.save()
            return event
        obj = ((event.payload or {}).get("data") or {}).get("object") or {}
        try:
            with transaction.atomic():  # a failed handler's writes are rolled back, the record stays
                tenant = handler(obj)
        except Exception as exc:
            # Any failure (ours or Stripe's) is recorded on the event, logged with its traceback and
            # answered 500, so Stripe redelivers and support can replay: nothing is swallowed.
            logger.exception("Stripe event %s (%s) failed", event.id, event.type)
            event.status = StripeEvent.Status.FAILED
            event.error = _error_text(exc)
        else:
            event.status = StripeEvent.Status.PROCESSED
            event.error = ""
            event.processed_at = timezone.now()
            if tenant is not None:
                event.tenant = tenant
        event.save()
    return event


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ApplicationError):
        text = f"{type(exc).__name__} ({exc.code}): {exc.detail or exc.user_message}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return mask_text(text)[:4000]


def stripe_events_replay(*, event_ids: Iterable[str] = (), failed: bool = False) -> list[StripeEvent]:
    """Process events again: the given ids (whatever their status) and/or every failed one.

    Safe to repeat: handlers only re-read Stripe and upsert.
    """
    ids = list(dict.fromkeys(event_ids))
    if failed:
        ids += [
            e
            for e in StripeEvent.objects.filter(status=StripeEvent.Status.FAILED)
            .order_by("created")
            .values_list("id", flat=True)
            if e not in ids
        ]
    known = set(StripeEvent.objects.filter(id__in=ids).values_list("id", flat=True))
    results = []
    for event_id in ids:
        if event_id not in known:
            continue
        results.append(stripe_event_process(event_id=event_id, force=True))
    return results
