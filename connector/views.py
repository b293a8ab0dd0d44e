from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from connector.health import health_report, readiness_report

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer; 503 naming the one that failed otherwise."""
    ok, checks = health_report()
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database, the broker and the migrations are ready; 503 naming what is not."""
    ok, checks = readiness_report()
    return JsonResponse(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


PRICES_DOWN_KEY = "home:prices-unavailable"


def _home_prices() -> dict[str, str]:
    """The plans' prices as Stripe has them (cached an hour by billing), for the landing page.

    Empty when Stripe cannot be read: the page then shows the list prices written in the template.
    A failure is remembered five minutes so a Stripe outage never slows every visit down.
    """
    from django.core.cache import cache

    from billing import selectors
    from connector.exceptions import ApplicationError

    if cache.get(PRICES_DOWN_KEY):
        return {}
    try:
        catalog = selectors.plan_catalog_get()
    except ApplicationError as exc:
        logger.info("home: plan prices unavailable (%s)", exc.code)
        cache.set(PRICES_DOWN_KEY, True, 300)
        return {}
    return {
        "monthly_price": selectors.format_money(catalog.monthly.unit_amount, catalog.monthly.currency),
        "annual_price": selectors.format_money(catalog.annual.unit_amount, catalog.annual.currency),
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", _home_prices())
