"""HubSpot OAuth tokens: the one place that reads, refreshes and forgets them.

- ``get_access_token(tenant)`` returns a token good for at least ``REFRESH_MARGIN`` (HubSpot's
  ``expires_in`` is 30 min today; we never assume it). When less remains, it refreshes under a
  per-tenant lock — a Redis lock when ``REDIS_URL`` is set, else a PostgreSQL row lock on the
  installation — and re-reads the row once the lock is held, so of N workers racing on an
  expiring token exactly one calls HubSpot and the others use its result.
- A refresh answered ``invalid_grant`` / ``BAD_REFRESH_TOKEN`` means the app was uninstalled or
  its access revoked (HubSpot sends no uninstall webhook): ``installation_mark_uninstalled``
  wipes the tokens, marks the tenant uninstalled with the reason, and ``HubSpotAuthError`` is
  raised. Its invoices and settings are kept, so a later reinstall revives the tenant as it was.
- ``installation_store_tokens`` writes a new token set (install, sign-in, refresh), keeping the
  old refresh token when HubSpot does not return a new one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import cache

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connector.exceptions import HubSpotAuthError, HubSpotRetryableError
from connector.logging import register_secret
from connector.models import Tenant
from hubspot_app.models import HubSpotInstallation
from hubspot_app.oauth import HubSpotOAuth, TokenSet
from hubspot_app.transport import HubSpotOAuthError

logger = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(minutes=5)
LOCK_TIMEOUT_S = 30  # the lock expires by itself if its holder dies mid-refresh
LOCK_WAIT_S = 30


def _tenant_id(tenant: Tenant | int) -> int:
    return tenant if isinstance(tenant, int) else int(tenant.pk)


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def _lock_name(tenant_id: int) -> str:
    prefix = settings.CACHES.get("default", {}).get("KEY_PREFIX", "")
    return f"{prefix}:hubspot:token-refresh:{tenant_id}"


def _usable_installation(tenant_id: int, *, for_update: bool = False) -> HubSpotInstallation:
    qs = HubSpotInstallation.objects.select_related("tenant")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    installation = qs.filter(tenant_id=tenant_id).first()
    if installation is None or installation.uninstalled_at is not None or not installation.refresh_token:
        raise HubSpotAuthError(f"tenant {tenant_id}: no active HubSpot installation")
    return installation


def _needs_refresh(installation: HubSpotInstallation, stale_token: str | None) -> bool:
    if not installation.access_token or installation.expires_at is None:
        return True
    if stale_token is not None and installation.access_token == stale_token:
        return True  # HubSpot refused this very token: get another one
    return installation.expires_at - timezone.now() < REFRESH_MARGIN


def get_access_token(tenant: Tenant | int, *, stale_token: str | None = None) -> str:
    """A Bearer token for the tenant's portal, refreshed first if it expires within 5 minutes.

    ``stale_token``: a token HubSpot just answered 401 to; it is replaced even if not expired
    (unless another worker already replaced it). Raises ``HubSpotAuthError`` when the app is no
    longer installed, ``HubSpotRetryableError`` when HubSpot or the lock is unavailable.
    """
    tenant_id = _tenant_id(tenant)
    installation = _usable_installation(tenant_id)
    register_secret(installation.access_token)  # a token read from the database is masked too
    register_secret(installation.refresh_token)
    if not _needs_refresh(installation, stale_token):
        return installation.access_token
    if settings.REDIS_URL:
        return _refresh_with_redis_lock(tenant_id, stale_token)
    return _refresh_with_row_lock(tenant_id, stale_token)


def _refresh_with_redis_lock(tenant_id: int, stale_token: str | None) -> str:
    lock = _redis(settings.REDIS_URL).lock(
        _lock_name(tenant_id), timeout=LOCK_TIMEOUT_S, blocking_timeout=LOCK_WAIT_S
    )
    try:
        acquired = lock.acquire()
    except redis.RedisError as exc:
        raise HubSpotRetryableError(
            f"tenant {tenant_id}: token lock unavailable ({type(exc).__name__})", code="hubspot_token_lock"
        ) from exc
    if not acquired:
        raise HubSpotRetryableError(
            f"tenant {tenant_id}: token lock wait timed out", code="hubspot_token_lock"
        )
    try:
        # Re-read: the worker that held the lock before us may have refreshed already.
        installation = _usable_installation(tenant_id)
        if not _needs_refresh(installation, stale_token):
            return installation.access_token
        return _refresh(installation)
    finally:
        try:
            lock.release()
        except redis.RedisError:  # expired meanwhile (a very slow HubSpot): nothing to release
            logger.warning("token refresh lock of tenant %s had expired before release", tenant_id)


def _refresh_with_row_lock(tenant_id: int, stale_token: str | None) -> str:
    refused: HubSpotOAuthError | None = None
    with transaction.atomic():
        installation = _usable_installation(tenant_id, for_update=True)
        if not _needs_refresh(installation, stale_token):
            return installation.access_token
        try:
            return _refresh(installation, mark_on_invalid_grant=False)
        except HubSpotOAuthError as exc:
            if not exc.is_invalid_grant:
                raise
            refused = exc
    # Outside the atomic block: raising inside it would roll the uninstall back.
    raise _mark_refused(tenant_id, refused) from refused


def _refresh(installation: HubSpotInstallation, *, mark_on_invalid_grant: bool = True) -> str:
    try:
        token_set = HubSpotOAuth().refresh(refresh_token=installation.refresh_token)
    except HubSpotOAuthError as exc:
        if exc.is_invalid_grant and mark_on_invalid_grant:
            raise _mark_refused(int(installation.tenant_id), exc) from exc
        raise
    installation_store_tokens(installation, token_set)
    logger.info(
        "HubSpot token refreshed for portal %s (expires in %ss)",
        installation.tenant.portal_id,
        token_set.expires_in,
    )
    return token_set.access_token


def _mark_refused(tenant_id: int, exc: HubSpotOAuthError | None) -> HubSpotAuthError:
    """Mark the tenant uninstalled after a refused refresh; the error to raise."""
    status = (exc.hubspot_status or exc.error) if exc else "invalid_grant"
    installation_mark_uninstalled(
        tenant_id=tenant_id,
        reason=f"HubSpot a refusé le jeton de renouvellement ({status}) : "
        "l'application a été désinstallée du portail ou son accès révoqué.",
    )
    return HubSpotAuthError(f"tenant {tenant_id}: refresh refused ({status})", status_code=400)


def installation_store_tokens(installation: HubSpotInstallation, token_set: TokenSet) -> None:
    """Save a new token set on the installation (encrypted fields), with its expiry."""
    installation.access_token = token_set.access_token
    if token_set.refresh_token:  # HubSpot may rotate it; keep the old one when it does not
        installation.refresh_token = token_set.refresh_token
    installation.expires_at = timezone.now() + timedelta(seconds=token_set.expires_in)
    installation.save(update_fields=["access_token", "refresh_token", "expires_at", "updated_at"])


@transaction.atomic
def installation_mark_uninstalled(*, tenant_id: int, reason: str) -> None:
    """Stop all work for the tenant: delete its tokens, record when and why. Idempotent.

    Invoices, deals and settings stay: a reinstall of the same portal revives the tenant.
    """
    tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
    now = timezone.now()
    installation = HubSpotInstallation.objects.select_for_update().filter(tenant=tenant).first()
    if installation is not None:
        installation.access_token = ""
        installation.refresh_token = ""
        installation.expires_at = None
        update = ["access_token", "refresh_token", "expires_at", "updated_at"]
        if installation.uninstalled_at is None:
            installation.uninstalled_at = now
            installation.uninstall_reason = reason
            update += ["uninstalled_at", "uninstall_reason"]
        installation.save(update_fields=update)
    if tenant.status != Tenant.Status.UNINSTALLED:
        tenant.status = Tenant.Status.UNINSTALLED
        tenant.status_reason = reason
        tenant.status_changed_at = now
        tenant.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
        logger.warning("portal %s marked uninstalled: %s", tenant.portal_id, reason)
