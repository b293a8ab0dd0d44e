"""What every page's layout needs: is someone signed in (for the header navigation)?"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from connector.models import Tenant
from connector.tenancy import session_tenant


def navigation(request: HttpRequest) -> dict[str, Any]:
    """``nav_tenant``: the tenant this browser is signed in to, or None (no header navigation).

    Views behind ``tenant_required`` already resolved it; other pages read the session (one query,
    only when the session names a tenant).
    """
    tenant = getattr(request, "tenant", None)
    if tenant is None and hasattr(request, "session"):
        tenant = session_tenant(request)
    match = getattr(request, "resolver_match", None)
    return {
        "nav_tenant": tenant,
        "nav_current": match.view_name if match else "",
        "nav_hubspot_url": hubspot_deals_url(tenant) if tenant is not None else "",
    }


def hubspot_deals_url(tenant: Tenant) -> str:
    """The portal's deals index in HubSpot, where the card is used.

    [assumed] ``/contacts/{portalId}/objects/0-3/views/all/list`` is HubSpot's URL of the deals
    index (the record pages we link to follow the same ``/contacts/{portalId}/…`` scheme);
    app.hubspot.com sends EU portals on to their own host itself.
    """
    return f"{settings.HUBSPOT_AUTH_BASE.rstrip('/')}/contacts/{tenant.portal_id}/objects/0-3/views/all/list"
