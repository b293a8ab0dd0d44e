"""Security headers on every response: Content-Security-Policy, Permissions-Policy and friends.

Django's ``SecurityMiddleware`` already sends ``X-Content-Type-Options``, ``Referrer-Policy``,
``Cross-Origin-Opener-Policy`` (and HSTS in production) and ``XFrameOptionsMiddleware`` sends
``X-Frame-Options: DENY``. This middleware adds what Django 5.2 does not have:

- ``Content-Security-Policy``: everything from our own origin only, no plugin, no framing.
  Styles may be inline (``base.html`` carries its stylesheet). Scripts may not, except the few
  inline scripts of our own templates, allowed by their SHA-256 (``INLINE_SCRIPT_HASHES``; a test
  renders those pages and fails when a template's script no longer matches its hash).
  ``form-action`` lists the origins a form's answer may redirect to (Stripe Checkout and the
  Customer Portal after a POST, HubSpot's consent page): browsers enforce ``form-action`` on the
  redirects that follow a form submission too.
- ``Permissions-Policy``: no camera, microphone, geolocation, payment… for any origin.

A view may set its own ``Content-Security-Policy`` header; it is then left as it is. (The card
API's 1 MB body limit is ``hubspot_app.card_api.middleware``, which runs right after this one.)
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# sha256 of the inline <script> of billing/templates/billing/return.html (the activation polling).
INLINE_SCRIPT_HASHES: tuple[str, ...] = ("sha256-oCGBd/B61T+n8xbjM419EEceXVsd9iVX1n/e83T8P6A=",)

# Where a form's answer may send the browser (besides our own origin).
STRIPE_REDIRECT_ORIGINS = ("https://checkout.stripe.com", "https://billing.stripe.com")

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") and parts.netloc else ""


def form_action_origins() -> list[str]:
    """Our origin, Stripe's hosted pages and HubSpot's consent page (or the sandbox that plays them)."""
    origins = ["'self'", *STRIPE_REDIRECT_ORIGINS]
    for url in (
        getattr(settings, "HUBSPOT_AUTH_BASE", ""),
        # The sandbox serves Checkout and the Portal from the same origin as its API.
        "" if "api.stripe.com" in getattr(settings, "STRIPE_API_BASE", "") else settings.STRIPE_API_BASE,
    ):
        origin = _origin(url)
        if origin and origin not in origins:
            origins.append(origin)
    return origins


def content_security_policy() -> str:
    script_src = " ".join(["'self'", *(f"'{h}'" for h in INLINE_SCRIPT_HASHES)])
    directives = [
        "default-src 'self'",
        f"script-src {script_src}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        f"form-action {' '.join(form_action_origins())}",
    ]
    return "; ".join(directives)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy()
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        response.setdefault("X-Content-Type-Options", "nosniff")
        response.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        return response
