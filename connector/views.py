from __future__ import annotations

import logging
from pathlib import Path

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import render
from django.template import loader
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


# --- favicon and error pages ---------------------------------------------------------------------
# Production has no static file server (gunicorn only, no whitenoise): the favicon is served by
# this view, from the file collectstatic would also pick up.
_FAVICON = (Path(__file__).resolve().parent / "static" / "connector" / "favicon.svg").read_bytes()


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_FAVICON, content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=604800"
    return response


@require_GET
def favicon_ico(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on their own; the SVG is the icon."""
    return HttpResponsePermanentRedirect("/favicon.svg")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Branded 404 in the visitor's language (LocaleMiddleware: session, cookie, Accept-Language)."""
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """Branded 500, rendered without context processors: the database may be what failed."""
    try:
        body = loader.get_template("500.html").render({"request_id": getattr(request, "request_id", "")})
    except Exception:  # the error page itself must never fail
        logger.exception("500 page could not be rendered")
        body = "<h1>Server Error (500)</h1>"
    return HttpResponseServerError(body)
