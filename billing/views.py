"""Billing pages and the Stripe webhook. Each view parses input, calls one service or selector and
renders; the rules live in ``billing.services`` and ``billing.selectors``."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import selectors, services, stripe_api
from billing.models import StripeEvent
from connector.exceptions import BillingError
from connector.tenancy import tenant_required

logger = logging.getLogger(__name__)


def _tenant(request: HttpRequest) -> Any:
    return request.tenant  # type: ignore[attr-defined]


def _plans_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    tenant = _tenant(request)
    catalog = None
    price_error = None
    try:
        catalog = selectors.plan_catalog_get()
    except BillingError as exc:
        price_error = exc.user_message
    context: dict[str, Any] = {
        "tenant": tenant,
        "decision": selectors.tenant_can_invoice(tenant),
        "can_checkout": selectors.checkout_allowed(tenant=tenant),
        "catalog": catalog,
        "price_error": price_error,
        "attempt": str(uuid.uuid4()),
        "checkout_canceled": request.GET.get("checkout") == "canceled",
    }
    if catalog is not None:
        context.update(
            monthly_price=selectors.format_money(catalog.monthly.unit_amount, catalog.monthly.currency),
            annual_price=selectors.format_money(catalog.annual.unit_amount, catalog.annual.currency),
            annual_per_month=selectors.format_money(catalog.annual_per_month, catalog.annual.currency),
            annual_saving=selectors.format_money(catalog.annual_saving, catalog.annual.currency),
        )
    context.update(extra)
    return context


@never_cache
@require_http_methods(["GET", "POST"])
@tenant_required
def plans(request: HttpRequest) -> HttpResponse:
    """GET: the two plans. POST (plan, attempt): a Checkout Session, then 303 to Stripe."""
    if request.method == "GET":
        return render(request, "billing/plans.html", _plans_context(request))
    plan = request.POST.get("plan", "")
    if plan not in selectors.PLANS:
        return render(
            request,
            "billing/plans.html",
            _plans_context(request, error=_("Choisissez une offre.")),
            status=400,
        )
    try:
        url = services.checkout_session_create(
            tenant=_tenant(request),
            plan=plan,
            attempt=request.POST.get("attempt", ""),
            language=get_language(),
        )
    except services.AlreadySubscribedError:
        # The page explains it (with the portal button) since the tenant can no longer check out.
        return render(request, "billing/plans.html", _plans_context(request), status=409)
    except BillingError as exc:
        status = 503 if exc.retryable else 502
        return render(
            request, "billing/plans.html", _plans_context(request, error=exc.user_message), status=status
        )
    return HttpResponseRedirect(url, status=303)


@never_cache
@require_GET
@tenant_required
def checkout_return(request: HttpRequest) -> HttpResponse:
    """Back from Checkout: check and sync the session, then show (and poll) the activation."""
    tenant = _tenant(request)
    session_id = request.GET.get("session_id", "")
    try:
        result = services.checkout_return_sync(tenant=tenant, session_id=session_id)
    except services.CheckoutSessionMismatchError as exc:
        return render(
            request, "billing/return.html", {"error": exc.user_message, "forbidden": True}, status=403
        )
    except BillingError as exc:
        status = 503 if exc.retryable else 404
        return render(request, "billing/return.html", {"error": exc.user_message}, status=status)
    return render(
        request,
        "billing/return.html",
        {"result": result, "decision": result.decision, "tenant": tenant, "session_id": session_id},
    )


@never_cache
@require_GET
@tenant_required
def status(request: HttpRequest) -> JsonResponse:
    """``tenant_can_invoice`` as JSON, for the return page's polling."""
    return JsonResponse(selectors.tenant_can_invoice(_tenant(request)).as_json())


@never_cache
@require_GET
@tenant_required
def overview(request: HttpRequest) -> HttpResponse:
    return _overview_render(request, _tenant(request))


def _overview_render(request: HttpRequest, tenant: Any, *, status: int = 200, **extra: Any) -> HttpResponse:
    """The subscription page for ``tenant``; ``extra`` adds to its context (e.g. ``error``)."""
    return render(
        request,
        "billing/overview.html",
        {
            "tenant": tenant,
            "decision": selectors.tenant_can_invoice(tenant),
            "subscription": selectors.subscription_get(tenant=tenant),
            "can_checkout": selectors.checkout_allowed(tenant=tenant),
            **extra,
        },
        status=status,
    )


@require_POST
@tenant_required
def portal(request: HttpRequest) -> HttpResponse:
    """A Customer Portal session per click, then 303 to it."""
    tenant = _tenant(request)
    try:
        url = services.billing_portal_session_create(tenant=tenant, language=get_language())
    except BillingError as exc:
        return _overview_render(request, tenant, error=exc.user_message, status=503 if exc.retryable else 400)
    return HttpResponseRedirect(url, status=303)


# The handler records the event before processing it, and a failed handler must not roll the record
# back: no request-wide transaction here. Processing is synchronous on purpose: a failure answers 500
# and Stripe's redelivery (for up to 3 days) is the retry; support can also replay from the admin.
@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        stripe_api.webhook_event_construct(
            payload=request.body, sig_header=request.headers.get("Stripe-Signature")
        )
        payload = json.loads(request.body)
    except (stripe_api.StripeSignatureError, ValueError) as exc:
        logger.warning("Stripe webhook rejected: %s", exc)
        return HttpResponseBadRequest("invalid signature or payload")
    if not isinstance(payload, dict) or not payload.get("id"):
        return HttpResponseBadRequest("not an event")
    receipt = services.stripe_event_receive(payload=payload)
    event = receipt.event
    body = {"id": event.id, "status": event.status, "duplicate": receipt.duplicate}
    return JsonResponse(body, status=500 if event.status == StripeEvent.Status.FAILED else 200)
