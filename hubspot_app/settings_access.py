"""Who may open the tenant's settings from the card, and who may change the Qonto connection.

**The card's settings link.** The card API signs a link for the HubSpot user the (verified) card
call names (``userId`` / ``userEmail`` in the signed query string, card-api.md): 15 minutes, one
use. Opening it consumes its nonce (``SettingsLinkUse``, unique), signs the browser into the
tenant as that HubSpot user and writes the audit trail (``settings_link_used``: who, when). A
second use, another tenant's id, a forged or expired token: refused. A card call without a user
gets no link.

**Changing the Qonto connection or disconnecting** is for the portal's HubSpot *super admins*
only, whoever opened the pages (card link or "Se connecter avec HubSpot"). We ask HubSpot:
``GET /settings/users/2026-03/{userId}`` answers the user with ``superAdmin`` [doc: Settings API,
user provisioning, "Retrieve a user"; legacy twin ``/settings/v3/users/{userId}``], under the
scope ``settings.users.read`` [doc]. That scope is *optional* in the app (installs made before it
existed lack it, and HubSpot may not grant it): without it — or when HubSpot cannot answer — we
cannot verify, so the change is refused with a message that says how to fix it (a super admin
signs in with HubSpot, which grants the scope) [decision: the safe side]. Every refusal is audited.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from connector.audit import audit
from connector.exceptions import HubSpotAuthError, HubSpotPermanentError, HubSpotRetryableError
from connector.models import AuditLog, Tenant
from connector.ratelimit import RateLimitTimeout, hubspot_limiter
from hubspot_app.client import HubSpotClient, HubSpotForbiddenError, HubSpotNotFoundError
from hubspot_app.models import SettingsLinkUse
from hubspot_app.scopes import USERS_SCOPE, optional_scope_denied, optional_scope_granted

logger = logging.getLogger(__name__)

# --- the card's settings link ---------------------------------------------------------------------
SETTINGS_LINK_SALT = "hubspot_app.settings-link"
SETTINGS_LINK_MAX_AGE_S = 15 * 60


class SettingsLinkError(Exception):
    """``expired``, ``invalid``, ``used`` or ``uninstalled``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _user_id(raw: Any) -> int | None:
    """HubSpot user ids are positive integers; anything else is no user."""
    text = str(raw or "").strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > 18:
        return None
    value = int(text)
    return value if value > 0 else None


def settings_link_for(tenant: Tenant, *, user_id: Any, user_email: str = "") -> str | None:
    """An absolute, single-use link that signs ``user_id`` into ``tenant``'s settings (15 minutes).

    ``user_id`` / ``user_email``: the HubSpot user of the verified card call. None without a user:
    a link must say who will use it.
    """
    uid = _user_id(user_id)
    if uid is None:
        return None
    token = signing.dumps(
        {
            "t": tenant.pk,
            "p": tenant.portal_id,
            "u": uid,
            "e": str(user_email or "")[:254],
            "n": secrets.token_urlsafe(16),
        },
        salt=SETTINGS_LINK_SALT,
    )
    return f"{settings.PUBLIC_BASE_URL}{reverse('settings_open')}?t={token}"


@dataclasses.dataclass(frozen=True)
class SettingsLinkPayload:
    tenant: Tenant
    user_email: str
    user_id: int


def settings_link_consume(token: str | None, *, client_ip: str = "") -> SettingsLinkPayload:
    """Check a settings link and use it up; who used it goes to the audit trail.

    Raises ``SettingsLinkError``: ``expired``, ``invalid`` (forged, edited, another tenant, no
    user), ``used`` (opened before: a link works once) or ``uninstalled``.
    """
    if not token:
        raise SettingsLinkError("invalid")
    try:
        data = signing.loads(token, salt=SETTINGS_LINK_SALT, max_age=SETTINGS_LINK_MAX_AGE_S)
    except signing.SignatureExpired as exc:
        raise SettingsLinkError("expired") from exc
    except signing.BadSignature as exc:
        raise SettingsLinkError("invalid") from exc
    if not isinstance(data, dict):
        raise SettingsLinkError("invalid")
    tenant_id, portal_id, nonce = data.get("t"), data.get("p"), data.get("n")
    user_id = _user_id(data.get("u"))
    if not isinstance(tenant_id, int) or not isinstance(portal_id, int) or not isinstance(nonce, str):
        raise SettingsLinkError("invalid")
    if user_id is None or not nonce:
        raise SettingsLinkError("invalid")
    tenant = Tenant.objects.filter(pk=tenant_id, portal_id=portal_id).first()
    if tenant is None:
        raise SettingsLinkError("invalid")
    if tenant.status == Tenant.Status.UNINSTALLED:
        raise SettingsLinkError("uninstalled")
    email = str(data.get("e") or "")[:254]
    try:
        with transaction.atomic():
            SettingsLinkUse.objects.create(
                nonce=nonce[:64], tenant=tenant, hubspot_user_id=user_id, user_email=email
            )
            audit(
                action=AuditLog.Action.SETTINGS_LINK_USED,
                user_email=email,
                tenant=tenant,
                detail={"hubspot_user_id": user_id, "client_ip": client_ip[:64]},
            )
    except IntegrityError:
        raise SettingsLinkError("used") from None
    return SettingsLinkPayload(tenant, email, user_id)


# --- who may change the Qonto connection ----------------------------------------------------------

_REFUSALS = {
    "not_super_admin": _(
        "Seuls les super administrateurs du compte HubSpot peuvent modifier la connexion Qonto ou "
        "déconnecter l'application. Demandez-le à l'un d'eux."
    ),
    "no_user": _(
        "Nous ne savons pas quel utilisateur HubSpot vous êtes : connectez-vous avec HubSpot pour "
        "modifier la connexion Qonto ou déconnecter l'application."
    ),
    "scope_missing": _(
        "Pour vérifier que vous êtes super administrateur, l'application doit pouvoir lire les "
        "utilisateurs du compte HubSpot, une autorisation qui ne lui a pas été accordée. Un super "
        "administrateur l'accorde en se connectant avec HubSpot ; d'ici là, la connexion Qonto ne "
        "peut pas être modifiée ici."
    ),
    "uninstalled": _(
        "L'application n'est plus installée sur ce compte HubSpot : réinstallez-la depuis HubSpot."
    ),
    "unavailable": _(
        "HubSpot ne répond pas : vos droits n'ont pas pu être vérifiés. Réessayez dans un instant."
    ),
}


@dataclasses.dataclass(frozen=True)
class ChangeAccess:
    """May this HubSpot user change the Qonto connection or disconnect? ``reason`` when not."""

    allowed: bool
    reason: str = ""

    @property
    def message(self) -> Any:
        return _REFUSALS.get(self.reason, "")


def connection_change_access(*, tenant: Tenant, user_id: Any) -> ChangeAccess:
    """Ask HubSpot whether ``user_id`` is a super admin of ``tenant``'s portal (one call)."""
    uid = _user_id(user_id)
    if uid is None:
        return ChangeAccess(False, "no_user")
    if not optional_scope_granted(tenant, USERS_SCOPE):
        return ChangeAccess(False, "scope_missing")
    client = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
    try:
        user = client.get_user(uid)
    except HubSpotNotFoundError:
        return ChangeAccess(False, "not_super_admin")  # not (or no longer) a user of this portal
    except HubSpotForbiddenError as exc:
        optional_scope_denied(tenant, USERS_SCOPE, detail=exc.detail)  # not asked again until reinstall
        return ChangeAccess(False, "scope_missing")
    except HubSpotAuthError:
        # HubSpot refused a fresh token: the app was uninstalled there (the client has already
        # marked the tenant uninstalled). Nothing is left to change or disconnect.
        return ChangeAccess(False, "uninstalled")
    except (HubSpotRetryableError, RateLimitTimeout):
        return ChangeAccess(False, "unavailable")
    except HubSpotPermanentError as exc:
        logger.warning("super admin check of user %s failed: %s", uid, exc.code)
        return ChangeAccess(False, "unavailable")
    if user.get("superAdmin") is True:
        return ChangeAccess(True)
    return ChangeAccess(False, "not_super_admin")


def connection_change_refused(
    *, tenant: Tenant, user_id: Any, user_email: str, what: str, reason: str
) -> None:
    """Audit a refused change (``what``: ``qonto_connection``, ``qonto_iban`` or ``disconnect``)."""
    audit(
        action=AuditLog.Action.CONNECTION_CHANGE_REFUSED,
        user_email=user_email,
        tenant=tenant,
        detail={"what": what, "reason": reason, "hubspot_user_id": _user_id(user_id)},
    )
