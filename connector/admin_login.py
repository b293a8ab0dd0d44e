"""Brute-force protection of the staff login (customers have no password of ours).

After ``MAX_FAILURES`` failed attempts within ``WINDOW_S`` for one username, or from one client
address, the login form refuses every attempt (even a right password) until the window ends.
Counters live in the shared cache (Redis in production), so every web process sees them.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

MAX_FAILURES = 5
WINDOW_S = 15 * 60
THROTTLED = _("Trop de tentatives de connexion : réessayez dans 15 minutes.")


def _key(kind: str, value: str) -> str:
    return f"admin-login:{kind}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()}"


def client_address(request: Any) -> str:
    """The client's address; behind our TLS proxy, the address it saw (last X-Forwarded-For hop)."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if request is not None else ""
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


class _ThrottleMixin:
    data: Any
    request: Any
    error_messages: dict[str, Any]

    def _keys(self) -> list[str]:
        return [_key("user", str(self.data.get("username", ""))), _key("ip", client_address(self.request))]

    def clean(self) -> dict[str, Any]:
        keys = self._keys()
        if any((cache.get(k) or 0) >= MAX_FAILURES for k in keys):
            raise ValidationError(THROTTLED, code="throttled")
        try:
            return super().clean()  # type: ignore[misc]
        except ValidationError:
            for k in keys:
                cache.add(k, 0, WINDOW_S)
                try:
                    cache.incr(k)
                except ValueError:  # expired between add and incr
                    cache.set(k, 1, WINDOW_S)
            raise


class ThrottledAdminAuthenticationForm(_ThrottleMixin, AdminAuthenticationForm):
    """Username and password, throttled."""


class ThrottledOTPAdminAuthenticationForm(_ThrottleMixin, OTPAdminAuthenticationForm):
    """Username, password and a one-time code from a registered device (django-otp), throttled."""


def configure_admin_site(site: AdminSite, *, require_2fa: bool) -> None:
    """Throttle the staff login; with ``require_2fa`` (``ADMIN_REQUIRE_2FA``) also demand a TOTP code.

    With 2FA the site becomes django-otp's ``OTPAdminSite``: only users verified by a device of
    theirs (admin → TOTP devices, added by an administrator) get in.
    """
    if require_2fa:
        site.__class__ = OTPAdminSite
        site.login_form = ThrottledOTPAdminAuthenticationForm
        site.login_template = OTPAdminSite.login_template
    else:
        site.__class__ = AdminSite
        site.login_form = ThrottledAdminAuthenticationForm
        site.login_template = None
