"""Who is signed in, for which tenant.

Customers have no password of ours: HubSpot's OAuth flow signs them in (install, or "Se
connecter avec HubSpot"), and the card's settings link carries a short-lived signed token. Both
end in ``tenant_login``, which ties the browser session to exactly one tenant.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from connector.logging import bind_tenant
from connector.models import Tenant

SESSION_TENANT_ID = "tenant_id"
SESSION_USER_EMAIL = "tenant_user_email"
SESSION_USER_ID = "tenant_user_id"


def tenant_login(
    request: HttpRequest, *, tenant: Tenant, user_email: str = "", user_id: int | None = None
) -> None:
    """Bind this browser session to ``tenant`` (a new session key, against fixation)."""
    request.session.cycle_key()
    request.session[SESSION_TENANT_ID] = tenant.pk
    request.session[SESSION_USER_EMAIL] = user_email
    request.session[SESSION_USER_ID] = user_id


def tenant_logout(request: HttpRequest) -> None:
    request.session.flush()


def session_tenant(request: HttpRequest) -> Tenant | None:
    """The tenant this session is signed in to, or None (also None once the app is uninstalled)."""
    tenant_id = request.session.get(SESSION_TENANT_ID)
    if tenant_id is None:
        return None
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is None or tenant.status == Tenant.Status.UNINSTALLED:
        return None
    return tenant


def tenant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Views behind it get ``request.tenant``; anonymous visitors go to the sign-in page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        tenant = session_tenant(request)
        if tenant is None:
            return HttpResponseRedirect(f"{reverse('signin')}?{urlencode({'next': request.get_full_path()})}")
        request.tenant = tenant  # type: ignore[attr-defined]
        bind_tenant(tenant.portal_id)
        return view(request, *args, **kwargs)

    return wrapper
