"""The one module that talks to Stripe.

Every call goes through ``get_stripe_client()`` (a ``StripeClient`` with its own key, base address
and retries: never the global ``stripe.api_key``) and through ``_call``, which turns the SDK's
exceptions into ours:

- ``BillingRetryableError``: connection errors, timeouts, rate limits, 5xx. Stripe will be asked
  again (by the SDK's own retries first, then by Stripe redelivering the webhook, or the user).
- ``BillingPermanentError``: every other Stripe error (4xx, bad parameters, unknown ids, auth).

Creates carry an idempotency key chosen by the caller, so a retried request (SDK retry, double
click, resubmitted form) returns the object created the first time instead of a second one.

Only ids, status codes, error codes and request ids are logged: never the key or a body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import stripe
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from connector.exceptions import BillingPermanentError, BillingRetryableError
from connector.http import build_session

logger = logging.getLogger(__name__)

T = TypeVar("T")

WEBHOOK_TOLERANCE_S = 300


class StripeSignatureError(Exception):
    """The webhook's ``Stripe-Signature`` is missing, malformed, wrong or too old, or the body is not
    JSON. Nothing from such a request may be trusted or stored."""


def get_stripe_client() -> stripe.StripeClient:
    """The configured client (one per key/base pair, reused so connections are kept alive)."""
    return _client(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        float(settings.HTTP_CONNECT_TIMEOUT),
        float(settings.HTTP_READ_TIMEOUT),
    )


@lru_cache(maxsize=8)
def _client(api_key: str, api_base: str, connect_timeout: float, read_timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base},
        # Without it the client never retries, even on a 503. POSTs are safe to retry: the SDK
        # resends the same Idempotency-Key.
        max_network_retries=2,
        # Our session: a timeout on every call and redirects never followed. Its own read retries
        # are off because the SDK retries (with the same idempotency key).
        http_client=stripe.RequestsClient(
            timeout=(connect_timeout, read_timeout),
            session=build_session(connect_timeout=connect_timeout, read_timeout=read_timeout, read_retries=0),
        ),
    )


def _call(operation: str, fn: Callable[[], T]) -> T:
    try:
        return fn()
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        _log_error(operation, exc)
        raise BillingRetryableError(
            f"stripe {operation}: {type(exc).__name__} {exc.http_status or ''} {exc.code or ''}".strip(),
            user_message=_("Le service de paiement ne répond pas pour le moment. Réessayez dans un instant."),
            status_code=exc.http_status,
            extra={"request_id": exc.request_id},
        ) from exc
    except stripe.StripeError as exc:
        _log_error(operation, exc)
        status = exc.http_status
        if status is not None and status >= 500:
            raise BillingRetryableError(
                f"stripe {operation}: {type(exc).__name__} {status} {exc.code or ''}".strip(),
                user_message=_(
                    "Le service de paiement ne répond pas pour le moment. Réessayez dans un instant."
                ),
                status_code=status,
                extra={"request_id": exc.request_id},
            ) from exc
        raise BillingPermanentError(
            f"stripe {operation}: {type(exc).__name__} {status or ''} {exc.code or ''}".strip(),
            user_message=_(
                "Le service de paiement a refusé la demande. Contactez le support si cela persiste."
            ),
            code=exc.code or "billing_rejected",
            status_code=status,
            extra={"request_id": exc.request_id},
        ) from exc


def _log_error(operation: str, exc: stripe.StripeError) -> None:
    logger.warning(
        "Stripe %s failed: %s status=%s stripe_code=%s request_id=%s",
        operation,
        type(exc).__name__,
        exc.http_status,
        exc.code,
        exc.request_id,
    )


# --- operations ------------------------------------------------------------------------------------
def price_retrieve(price_id: str) -> stripe.Price:
    return _call("price.retrieve", lambda: get_stripe_client().v1.prices.retrieve(price_id))


def customer_create(*, params: dict[str, Any], idempotency_key: str) -> stripe.Customer:
    return _call(
        "customer.create",
        lambda: get_stripe_client().v1.customers.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        ),
    )


def checkout_session_create(*, params: dict[str, Any], idempotency_key: str) -> stripe.checkout.Session:
    return _call(
        "checkout.session.create",
        lambda: get_stripe_client().v1.checkout.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        ),
    )


def checkout_session_retrieve(session_id: str) -> stripe.checkout.Session:
    return _call(
        "checkout.session.retrieve", lambda: get_stripe_client().v1.checkout.sessions.retrieve(session_id)
    )


def billing_portal_session_create(
    *, params: dict[str, Any], idempotency_key: str
) -> stripe.billing_portal.Session:
    return _call(
        "billing_portal.session.create",
        lambda: get_stripe_client().v1.billing_portal.sessions.create(
            params,  # type: ignore[arg-type]
            {"idempotency_key": idempotency_key},
        ),
    )


def subscription_retrieve(subscription_id: str) -> stripe.Subscription:
    return _call(
        "subscription.retrieve", lambda: get_stripe_client().v1.subscriptions.retrieve(subscription_id)
    )


def webhook_event_construct(*, payload: bytes, sig_header: str | None) -> stripe.Event:
    """Verify the signature (300 s tolerance) and parse the event, or raise ``StripeSignatureError``."""
    if not sig_header:
        raise StripeSignatureError("missing Stripe-Signature header")
    try:
        return stripe.Webhook.construct_event(
            payload, sig_header, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_S
        )
    except stripe.SignatureVerificationError as exc:
        raise StripeSignatureError(f"bad signature: {exc.user_message or 'invalid'}") from exc
    except ValueError as exc:  # the body is not JSON (json.JSONDecodeError is a ValueError)
        raise StripeSignatureError("body is not JSON") from exc
