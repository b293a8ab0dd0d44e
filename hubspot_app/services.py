"""HubSpot install lifecycle: install / sign-in from an OAuth code, setup of our properties,
disconnect. (The card's settings link and who may change what: ``hubspot_app.settings_access``.)

Writes live here; views and tasks call one function each.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from connector import jobs
from connector.exceptions import HubSpotAuthError, HubSpotPermanentError
from connector.logging import bind_tenant
from connector.models import Tenant
from connector.ratelimit import RateLimitTimeout, hubspot_limiter
from hubspot_app.client import HubSpotClient
from hubspot_app.models import HubSpotInstallation
from hubspot_app.oauth import HubSpotOAuth, TokenInfo, TokenSet
from hubspot_app.properties import (
    COMPANY_PROPERTIES,
    COMPANY_PROPERTY_GROUP,
    DEAL_PROPERTIES,
    DEAL_PROPERTY_GROUP,
    SIRET_PROPERTY_NAME,
    definition_changes,
)
from hubspot_app.scopes import missing_scopes
from hubspot_app.tokens import installation_mark_uninstalled, installation_store_tokens
from hubspot_app.transport import HubSpotConflictError, HubSpotRateLimitedError

logger = logging.getLogger(__name__)


def oauth_redirect_uri() -> str:
    """The callback URL registered in app-hsmeta.json (``auth.redirectUrls``)."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('hubspot_oauth_callback')}"


# --- install / sign-in ----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class InstallResult:
    tenant: Tenant
    user_email: str
    user_id: int | None
    created: bool  # a portal we had never seen
    revived: bool  # a portal that had uninstalled the app, back with its invoices


def install_from_oauth_code(*, code: str) -> InstallResult:
    """Exchange the code, read who installed where, then create or revive the tenant.

    Raises ``HubSpotOAuthError`` (code refused), ``HubSpotRetryableError`` (HubSpot unreachable)
    or ``HubSpotPermanentError``.
    """
    oauth = HubSpotOAuth()
    token_set = oauth.exchange_code(code=code, redirect_uri=oauth_redirect_uri())
    info = oauth.introspect(token=token_set.access_token)
    if not info.active:
        raise HubSpotPermanentError("HubSpot says the access token it just issued is not active")
    return tenant_install(token_set=token_set, info=info)


@transaction.atomic
def tenant_install(*, token_set: TokenSet, info: TokenInfo) -> InstallResult:
    """Create the tenant for the portal, or revive it after an uninstall, and store the tokens.

    Runs for the first install, a reinstall and each "Se connecter avec HubSpot" (the same flow).
    Queues the HubSpot setup after commit whenever it may be needed.
    """
    portal_id = token_set.hub_id or info.hub_id
    if not portal_id:
        raise HubSpotPermanentError("HubSpot returned no hub_id for the new token")
    now = timezone.now()
    tenant, created = Tenant.objects.select_for_update().get_or_create(
        portal_id=portal_id, defaults={"name": info.hub_domain, "hub_domain": info.hub_domain}
    )
    revived = tenant.status == Tenant.Status.UNINSTALLED
    user_email = info.user
    user_id = info.user_id or token_set.user_id
    if revived:
        tenant.status = Tenant.Status.INSTALLED
        tenant.status_reason = f"Réinstallée par {user_email or 'un administrateur'}."
        tenant.status_changed_at = now
    if info.hub_domain:
        tenant.hub_domain = info.hub_domain
        tenant.name = tenant.name or info.hub_domain
    tenant.save()

    installation, _ = HubSpotInstallation.objects.select_for_update().get_or_create(tenant=tenant)
    fresh_install = (
        created or revived or installation.installed_at is None or installation.uninstalled_at is not None
    )
    if fresh_install:
        installation.installed_at = now
        installation.uninstalled_at = None
        installation.uninstall_reason = ""
        installation.installer_email = user_email
        installation.installer_user_id = user_id
    installation.scopes = list(token_set.scopes or info.scopes)
    installation.hub_domain = info.hub_domain or installation.hub_domain
    installation.save()
    installation_store_tokens(installation, token_set)

    missing = missing_scopes(installation.scopes)
    if missing:
        logger.warning("portal %s granted without scopes %s", portal_id, ", ".join(missing))
    if fresh_install or installation.setup_completed_at is None:
        hubspot_setup_enqueue(tenant_id=tenant.pk)
    logger.info(
        "portal %s %s by user %s",
        portal_id,
        "installed" if created else "reinstalled" if revived else "signed in",
        user_id,
    )
    return InstallResult(tenant, user_email, user_id, created, revived)


# --- setup of our HubSpot properties --------------------------------------------------------------
@dataclasses.dataclass
class SetupReport:
    created: list[str] = dataclasses.field(default_factory=list)
    updated: list[str] = dataclasses.field(default_factory=list)
    unchanged: list[str] = dataclasses.field(default_factory=list)
    skipped: bool = False


def _ensure_group(client: HubSpotClient, object_type: str, group: Any, report: SetupReport) -> None:
    label = f"{object_type}:group:{group['name']}"
    existing = client.get_property_group(object_type, group["name"])
    if existing is None:
        try:
            client.create_property_group(object_type, dict(group))
            report.created.append(label)
            return
        except HubSpotConflictError:  # created meanwhile: fine
            existing = client.get_property_group(object_type, group["name"])
            if existing is None:  # not readable yet (eventual consistency): nothing to compare
                report.unchanged.append(label)
                return
    if existing.get("label") != group["label"]:
        client.update_property_group(object_type, group["name"], {"label": group["label"]})
        report.updated.append(label)
    else:
        report.unchanged.append(label)


def _ensure_property(
    client: HubSpotClient,
    object_type: str,
    wanted: Any,
    existing: dict[str, Any] | None,
    report: SetupReport,
) -> None:
    label = f"{object_type}:{wanted['name']}"
    if existing is None:
        try:
            client.create_property(object_type, dict(wanted))
            report.created.append(label)
            return
        except HubSpotConflictError:  # "already there" (HubSpot's 409): compare and patch
            existing = client.get_property(object_type, wanted["name"])
            if existing is None:
                raise
    changes = definition_changes(wanted, existing)
    if changes:
        client.update_property(object_type, wanted["name"], changes)
        report.updated.append(label)
    else:
        report.unchanged.append(label)


def _limiter_for(tenant: Tenant) -> Callable[[], None]:
    """The portal's shared HubSpot budget; a wait too long becomes a retryable error for the task."""
    limiter = hubspot_limiter(tenant.portal_id)

    def acquire() -> None:
        try:
            limiter.acquire(timeout=30)
        except RateLimitTimeout as exc:
            raise HubSpotRateLimitedError(str(exc), retry_after=10.0) from exc

    return acquire


def hubspot_setup(*, tenant_id: int) -> SetupReport:
    """Create (or repair) our property group and properties in the tenant's portal. Idempotent.

    Deal group ``qonto_connector`` + ``DEAL_PROPERTIES``; and the company group with
    ``qonto_vat_number``, plus ``qonto_siret`` when the tenant keeps the SIRET in our own property.
    One listing per object type tells which exist; a 409 on create (a race, or a stale listing)
    counts as "already there".
    """
    tenant = Tenant.objects.get(pk=tenant_id)
    bind_tenant(tenant.portal_id)
    report = SetupReport()
    if tenant.status == Tenant.Status.UNINSTALLED:
        report.skipped = True
        return report
    client = HubSpotClient(tenant, before_request=_limiter_for(tenant))
    company_properties = tuple(
        p
        for p in COMPANY_PROPERTIES
        if p["name"] != SIRET_PROPERTY_NAME or tenant.siret_property == p["name"]
    )
    wanted_by_type: list[tuple[str, Any, tuple[Any, ...]]] = [
        ("deals", DEAL_PROPERTY_GROUP, DEAL_PROPERTIES),
        ("companies", COMPANY_PROPERTY_GROUP, company_properties),
    ]
    for object_type, group, definitions in wanted_by_type:
        _ensure_group(client, object_type, group, report)
        existing = {p.get("name"): p for p in client.list_properties(object_type)}
        for definition in definitions:
            _ensure_property(client, object_type, definition, existing.get(definition["name"]), report)
    HubSpotInstallation.objects.filter(tenant_id=tenant_id).update(setup_completed_at=timezone.now())
    logger.info(
        "HubSpot setup of portal %s: %d created, %d updated, %d unchanged (%d calls)",
        tenant.portal_id,
        len(report.created),
        len(report.updated),
        len(report.unchanged),
        client.calls,
    )
    return report


def hubspot_setup_enqueue(*, tenant_id: int) -> None:
    """Queue the setup after the current transaction commits (a broker hiccup is only logged)."""
    jobs.hubspot_setup(tenant_id)


# --- disconnect -----------------------------------------------------------------------------------
def tenant_disconnect(*, tenant: Tenant, by_email: str = "") -> None:
    """Uninstall the app from the portal (HubSpot removes the card), then forget the tokens.

    Raises ``HubSpotRetryableError`` when HubSpot cannot be told (nothing changes on our side, so
    the user can try again). Invoices and settings are kept for a later reinstall.
    """
    # HubSpotAuthError: HubSpot had already dropped us; the local cleanup below is all that is left.
    with contextlib.suppress(HubSpotAuthError):
        HubSpotClient(tenant).uninstall()
    installation_mark_uninstalled(
        tenant_id=tenant.pk,
        reason=f"Déconnectée depuis la page Réglages par {by_email or 'un administrateur'}.",
    )
    from connector.audit import audit
    from connector.models import AuditLog

    audit(
        action=AuditLog.Action.TENANT_DISCONNECTED,
        user_email=by_email,
        tenant=tenant,
        detail={"source": "settings"},
    )
