"""The one module that speaks HTTP to HubSpot (``HUBSPOT_API_BASE``, 2026-03 paths).

Two entry points:

- ``HubSpotOAuth``: the app-level OAuth endpoints (code exchange, refresh, introspection) and the
  authorize URL. No tenant, no Bearer token: the client id and secret are sent in the form.
- ``HubSpotClient(tenant)``: every call made *for* a portal. ``request()`` takes the Bearer token
  from the token service (``hubspot_app.tokens``: proactive refresh, one refresh at a time),
  counts calls and turns every failure into one of our errors:

  - ``HubSpotRetryableError`` (``HubSpotRateLimitedError`` for 429): timeouts, connection errors,
    429 (``retry_after`` from the ``X-HubSpot-RateLimit-*`` headers or the body's policy), 5xx;
  - 401: the token is refreshed once and the call replayed; a 401 with that fresh token means the
    app was uninstalled → the tenant is marked uninstalled and ``HubSpotAuthError`` is raised;
  - ``HubSpotPermanentError`` subclasses for 400 / 403 (``MISSING_SCOPES``) / 404 / 409, with
    ``code`` and HubSpot's ``category``, ``message`` and ``correlationId`` in ``extra``.

CRM reads and writes (deals, line items, companies, notes, batch update…) belong in
``HubSpotClient`` too, one small method per remote operation, each going through ``request()``.
HubSpot facts this relies on: spec/hubspot.md §2 (OAuth), §5 (CRM), §6 (limits and errors).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from connector.exceptions import (
    HubSpotAuthError,
    HubSpotPermanentError,
    HubSpotRetryableError,
)
from connector.http import build_session
from connector.logging import register_secret
from hubspot_app.scopes import OPTIONAL_SCOPES, REQUIRED_SCOPES

logger = logging.getLogger(__name__)

API_VERSION = "2026-03"
OAUTH_PATH = f"/oauth/{API_VERSION}/token"
INTROSPECT_PATH = f"/oauth/{API_VERSION}/token/introspect"
UNINSTALL_PATH = f"/appinstalls/{API_VERSION}/external-install"
PROPERTIES_PATH = f"/crm/properties/{API_VERSION}"
OBJECTS_PATH = f"/crm/objects/{API_VERSION}"
ASSOCIATIONS_PATH = f"/crm/associations/{API_VERSION}"

# Back-off HubSpot's official SDKs use per rate-limit policy (spec/hubspot.md §6).
_POLICY_RETRY_AFTER = {"TEN_SECONDLY_ROLLING": 10.0, "SECONDLY": 1.0, "SECONDLY_ROLLING": 1.0}
_DEFAULT_RATE_LIMIT_WAIT = 10.0


# --- errors -------------------------------------------------------------------------------------
class HubSpotRateLimitedError(HubSpotRetryableError):
    code = "hubspot_rate_limited"
    default_user_message = _("HubSpot limite le nombre de requêtes : nouvel essai dans un instant.")


class HubSpotValidationError(HubSpotPermanentError):
    code = "hubspot_validation"
    default_user_message = _("HubSpot a refusé les données envoyées.")


class HubSpotForbiddenError(HubSpotPermanentError):
    code = "hubspot_missing_scopes"
    default_user_message = _(
        "L'application n'a pas les autorisations HubSpot nécessaires : réinstallez-la pour les accorder."
    )


class HubSpotNotFoundError(HubSpotPermanentError):
    code = "hubspot_not_found"
    default_user_message = _("Cet objet n'existe pas (ou plus) dans HubSpot.")


class HubSpotConflictError(HubSpotPermanentError):
    code = "hubspot_conflict"
    default_user_message = _("Cet objet existe déjà dans HubSpot.")


class HubSpotOAuthError(HubSpotPermanentError):
    """The token endpoint refused a grant (``invalid_grant``, ``BAD_AUTH_CODE``, bad client…)."""

    code = "hubspot_oauth_rejected"
    default_user_message = _("HubSpot a refusé l'autorisation. Recommencez l'installation.")

    @property
    def error(self) -> str:
        return str(self.extra.get("error", ""))

    @property
    def hubspot_status(self) -> str:
        return str(self.extra.get("status", ""))

    @property
    def is_invalid_grant(self) -> bool:
        """The refresh token (or code) is dead: revoked, or the app was uninstalled."""
        return self.error == "invalid_grant" or self.hubspot_status in ("BAD_REFRESH_TOKEN", "BAD_AUTH_CODE")


def _error_fields(body: Any) -> dict[str, Any]:
    """HubSpot's error body, every field optional (spec/hubspot.md §6)."""
    if not isinstance(body, dict):
        return {}
    return {
        "category": str(body.get("category") or body.get("errorType") or ""),
        "message": str(body.get("message") or body.get("error_description") or ""),
        "correlation_id": str(body.get("correlationId") or ""),
        "sub_category": str(body.get("subCategory") or ""),
        "context": body.get("context") if isinstance(body.get("context"), dict) else {},
        "policy": str(body.get("policyName") or ""),
        "error": str(body.get("error") or ""),
        "status": str(body.get("status") or "") if body.get("status") != "error" else "",
    }


def _json(response: requests.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None


def rate_limit_wait(response: requests.Response, fields: dict[str, Any]) -> float:
    """Seconds to wait after a 429: Retry-After, else the exhausted window, else the policy's."""
    headers = response.headers
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    if headers.get("X-HubSpot-RateLimit-Remaining") == "0":
        interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
        if interval and interval.isdigit():
            return int(interval) / 1000
    policy = str(fields.get("policy") or "").upper()
    if policy in _POLICY_RETRY_AFTER:
        return _POLICY_RETRY_AFTER[policy]
    if "secondly limit" in str(fields.get("message", "")).lower():
        return 1.0
    return _DEFAULT_RATE_LIMIT_WAIT


def _transport_error(method: str, path: str, exc: requests.RequestException) -> HubSpotRetryableError:
    if isinstance(exc, requests.Timeout):
        return HubSpotRetryableError(f"HubSpot {method} {path}: timeout", code="hubspot_timeout")
    return HubSpotRetryableError(
        f"HubSpot {method} {path}: connection error ({type(exc).__name__})",
        code="hubspot_unreachable",
        user_message=_("HubSpot est injoignable pour le moment. Réessayez dans un instant."),
    )


# --- OAuth (app level) --------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TokenSet:
    """What the token endpoint returns (spec/hubspot.md §2.2)."""

    access_token: str
    refresh_token: str
    expires_in: int
    hub_id: int | None = None
    user_id: int | None = None
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"  # noqa: S105 - a token kind, not a secret

    def __repr__(self) -> str:  # never print a token
        return f"TokenSet(hub_id={self.hub_id}, expires_in={self.expires_in}, access_token='…')"


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """What introspection says about an access token (spec/hubspot.md §2.3)."""

    active: bool
    hub_id: int | None = None
    hub_domain: str = ""
    user: str = ""
    user_id: int | None = None
    scopes: tuple[str, ...] = ()
    app_id: int | None = None
    expires_in: int | None = None


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _scopes(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(s for s in value.replace(",", " ").split() if s)
    if isinstance(value, list | tuple):
        return tuple(str(s) for s in value)
    return ()


class HubSpotOAuth:
    """Authorize URL, code exchange, refresh and introspection for our app."""

    def __init__(self, *, session: requests.Session | None = None, base_url: str | None = None) -> None:
        self.base_url = (base_url or settings.HUBSPOT_API_BASE).rstrip("/")
        self.session = session or build_session()
        self.calls = 0
        register_secret(settings.HUBSPOT_CLIENT_SECRET)

    @staticmethod
    def authorize_url(
        *,
        state: str,
        redirect_uri: str,
        scopes: tuple[str, ...] = REQUIRED_SCOPES,
        optional_scopes: tuple[str, ...] = OPTIONAL_SCOPES,
    ) -> str:
        params = {
            "client_id": settings.HUBSPOT_CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": " ".join(scopes),
            "state": state,
        }
        if optional_scopes:
            params["optional_scope"] = " ".join(optional_scopes)
        query = urlencode(params, quote_via=quote)  # scopes separated by %20, as HubSpot documents
        return f"{settings.HUBSPOT_AUTH_BASE.rstrip('/')}/oauth/authorize?{query}"

    def _post_form(self, path: str, form: dict[str, str]) -> dict[str, Any]:
        self.calls += 1
        try:
            response = self.session.post(
                f"{self.base_url}{path}",
                data=form,
                headers={"Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise _transport_error("POST", path, exc) from exc
        body = _json(response)
        status = response.status_code
        if status < 300 and isinstance(body, dict):
            return body
        fields = _error_fields(body)
        reason = " ".join(str(fields.get(k) or "") for k in ("error", "status")).strip()
        detail = f"HubSpot POST {path}: HTTP {status} {reason}".rstrip()
        if fields.get("correlation_id"):
            detail += f" (correlationId {fields['correlation_id']})"
        logger.warning("%s", detail, extra={"hubspot_status": status})
        if status == 429:
            raise HubSpotRateLimitedError(
                detail, status_code=status, retry_after=rate_limit_wait(response, fields), extra=fields
            )
        if status >= 500 or status < 300:  # < 300 here: a 2xx without a JSON object
            raise HubSpotRetryableError(detail, status_code=status, extra=fields)
        raise HubSpotOAuthError(detail, status_code=status, extra=fields)

    @staticmethod
    def _token_set(body: dict[str, Any]) -> TokenSet:
        access = str(body.get("access_token") or "")
        refresh = str(body.get("refresh_token") or "")
        if not access:
            raise HubSpotRetryableError("HubSpot token endpoint answered without an access_token")
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(body.get("expires_in") or 1800),
            hub_id=_int_or_none(body.get("hub_id")),
            user_id=_int_or_none(body.get("user_id")),
            scopes=_scopes(body.get("scopes") or body.get("scope")),
            token_type=str(body.get("token_type") or "bearer"),
        )

    def exchange_code(self, *, code: str, redirect_uri: str) -> TokenSet:
        body = self._post_form(
            OAUTH_PATH,
            {
                "grant_type": "authorization_code",
                "client_id": settings.HUBSPOT_CLIENT_ID,
                "client_secret": settings.HUBSPOT_CLIENT_SECRET,
                "redirect_uri": redirect_uri,
                "code": code,
            },
        )
        return self._token_set(body)

    def refresh(self, *, refresh_token: str) -> TokenSet:
        body = self._post_form(
            OAUTH_PATH,
            {
                "grant_type": "refresh_token",
                "client_id": settings.HUBSPOT_CLIENT_ID,
                "client_secret": settings.HUBSPOT_CLIENT_SECRET,
                "refresh_token": refresh_token,
            },
        )
        return self._token_set(body)

    def introspect(self, *, token: str, token_type_hint: str = "access_token") -> TokenInfo:  # noqa: S107
        body = self._post_form(
            INTROSPECT_PATH,
            {
                "client_id": settings.HUBSPOT_CLIENT_ID,
                "client_secret": settings.HUBSPOT_CLIENT_SECRET,
                "token": token,
                "token_type_hint": token_type_hint,
            },
        )
        return TokenInfo(
            active=bool(body.get("active", True)),
            hub_id=_int_or_none(body.get("hub_id")),
            hub_domain=str(body.get("hub_domain") or ""),
            user=str(body.get("user") or ""),
            user_id=_int_or_none(body.get("user_id")),
            scopes=_scopes(body.get("scopes")),
            app_id=_int_or_none(body.get("app_id")),
            expires_in=_int_or_none(body.get("expires_in")),
        )


# --- Portal API -----------------------------------------------------------------------------------
TokenProvider = Callable[[str | None], str]
"""``provider(stale_token) -> access token``; ``stale_token`` is the one HubSpot just refused."""


class HubSpotClient:
    """Calls made for one tenant's portal. Cheap to build; not shared across threads."""

    def __init__(
        self,
        tenant: Any,
        *,
        session: requests.Session | None = None,
        base_url: str | None = None,
        token_provider: TokenProvider | None = None,
        before_request: Callable[[], None] | None = None,
    ) -> None:
        self.tenant = tenant
        self.base_url = (base_url or settings.HUBSPOT_API_BASE).rstrip("/")
        self.session = session or build_session()
        self.before_request = before_request  # e.g. a per-portal rate limiter kept in Redis
        self.calls = 0  # HTTP requests sent (SyncRun statistics, benchmarks)
        if token_provider is None:
            from hubspot_app import tokens  # tokens uses HubSpotOAuth from this module

            def token_provider(stale: str | None) -> str:
                return tokens.get_access_token(tenant, stale_token=stale)

        self._token_provider = token_provider
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()

    def _current_token(self) -> str:
        """The access token, asked of the token service at most once a minute per client.

        A client lives for one task or request; keeping the token avoids a database read per
        call, and lets the parallel reads of one deal share it.
        """
        with self._token_lock:
            if self._token is None or time.monotonic() - self._token[1] > 60:
                self._token = (self._token_provider(None), time.monotonic())
            return self._token[0]

    # --- transport ----------------------------------------------------------------------------
    def _send(
        self, method: str, path: str, token: str, params: dict[str, Any] | None, json: Any
    ) -> requests.Response:
        if self.before_request is not None:
            self.before_request()
        self.calls += 1
        try:
            return self.session.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                json=json,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
        except requests.RequestException as exc:
            raise _transport_error(method, path, exc) from exc

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one call; the decoded JSON body (``None`` for 204) or one of our errors."""
        token = self._current_token()
        response = self._send(method, path, token, params, json)
        if response.status_code == 401:
            # HubSpot says a 401 is not a reliable refresh signal, but it is cheap to check:
            # refresh once (under the token lock) and replay. A 401 with the fresh token, or a
            # refused refresh, means the app was uninstalled (spec/hubspot.md §2.5).
            fresh = self._token_provider(token)
            self._token = (fresh, time.monotonic())
            response = self._send(method, path, fresh, params, json)
            if response.status_code == 401:
                from hubspot_app import tokens

                tokens.installation_mark_uninstalled(
                    tenant_id=self.tenant.pk,
                    reason="HubSpot a refusé un jeton d'accès tout juste renouvelé (HTTP 401) : "
                    "l'application a été désinstallée ou son accès révoqué.",
                )
                raise HubSpotAuthError(f"HubSpot {method} {path}: 401 with a fresh token", status_code=401)
        return self._handle(method, path, response)

    def _handle(self, method: str, path: str, response: requests.Response) -> Any:
        status = response.status_code
        body = _json(response)
        if status < 300:
            return body
        fields = _error_fields(body)
        detail = f"HubSpot {method} {path}: HTTP {status}"
        if fields.get("category"):
            detail += f" {fields['category']}"
        if fields.get("message"):
            detail += f": {fields['message'][:300]}"
        if fields.get("correlation_id"):
            detail += f" (correlationId {fields['correlation_id']})"
        level = logging.INFO if status in (404, 409) else logging.WARNING
        logger.log(
            level,
            "%s",
            detail,
            extra={"hubspot_status": status, "hubspot_correlation_id": fields.get("correlation_id", "")},
        )
        kwargs: dict[str, Any] = {"status_code": status, "extra": fields}
        if status == 429:
            raise HubSpotRateLimitedError(detail, retry_after=rate_limit_wait(response, fields), **kwargs)
        if status >= 500:
            raise HubSpotRetryableError(detail, **kwargs)
        if status == 400:
            raise HubSpotValidationError(detail, **kwargs)
        if status == 403:
            raise HubSpotForbiddenError(detail, **kwargs)
        if status == 404:
            raise HubSpotNotFoundError(detail, **kwargs)
        if status == 409:
            raise HubSpotConflictError(detail, **kwargs)
        raise HubSpotPermanentError(detail, **kwargs)

    # --- properties and groups (setup, SIRET picker) ------------------------------------------
    def get_property_group(self, object_type: str, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.request("GET", f"{PROPERTIES_PATH}/{object_type}/groups/{quote(name)}") or {})
        except HubSpotNotFoundError:
            return None

    def create_property_group(self, object_type: str, group: dict[str, Any]) -> dict[str, Any]:
        """Raises ``HubSpotConflictError`` when a group of that name exists."""
        return dict(self.request("POST", f"{PROPERTIES_PATH}/{object_type}/groups", json=group) or {})

    def update_property_group(self, object_type: str, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        path = f"{PROPERTIES_PATH}/{object_type}/groups/{quote(name)}"
        return dict(self.request("PATCH", path, json=changes) or {})

    def list_properties(self, object_type: str) -> list[dict[str, Any]]:
        """Every property of an object type (custom and HubSpot-defined), with definitions."""
        body = self.request("GET", f"{PROPERTIES_PATH}/{object_type}") or {}
        return [p for p in body.get("results") or [] if isinstance(p, dict)]

    def get_property(self, object_type: str, name: str) -> dict[str, Any] | None:
        try:
            return dict(self.request("GET", f"{PROPERTIES_PATH}/{object_type}/{quote(name)}") or {})
        except HubSpotNotFoundError:
            return None

    def create_property(self, object_type: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Raises ``HubSpotConflictError`` when a property of that name exists."""
        return dict(self.request("POST", f"{PROPERTIES_PATH}/{object_type}", json=definition) or {})

    def update_property(self, object_type: str, name: str, changes: dict[str, Any]) -> dict[str, Any]:
        path = f"{PROPERTIES_PATH}/{object_type}/{quote(name)}"
        return dict(self.request("PATCH", path, json=changes) or {})

    def list_company_properties(self) -> list[dict[str, Any]]:
        return self.list_properties("companies")

    # --- app install ----------------------------------------------------------------------------
    def uninstall(self) -> None:
        """Uninstall the app from the portal (204). HubSpot e-mails the portal's Super Admins."""
        self.request("DELETE", UNINSTALL_PATH)
