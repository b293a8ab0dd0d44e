"""The HubSpot portal client (``HUBSPOT_API_BASE``, 2026-03 paths): every call made *for* a portal.

The HubSpot client is three modules, one way: ``transport`` (error classes, error bodies, 429
waits) ← ``oauth`` (app-level OAuth endpoints: authorize URL, code exchange, refresh,
introspection) ← ``tokens`` (the token service) ← this module.

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

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from connector.exceptions import HubSpotAuthError, HubSpotPermanentError, HubSpotRetryableError
from connector.http import build_session
from connector.logging import mask_text, register_secret
from hubspot_app import tokens
from hubspot_app.transport import (
    API_VERSION,
    HubSpotConflictError,
    HubSpotForbiddenError,
    HubSpotNotFoundError,
    HubSpotRateLimitedError,
    HubSpotValidationError,
    error_fields,
    json_body,
    rate_limit_wait,
    transport_error,
)

__all__ = [
    "HubSpotClient",
    "HubSpotConflictError",
    "HubSpotForbiddenError",
    "HubSpotNotFoundError",
    "HubSpotRateLimitedError",
    "HubSpotValidationError",
    "rate_limit_wait",
]

logger = logging.getLogger(__name__)

UNINSTALL_PATH = f"/appinstalls/{API_VERSION}/external-install"
PROPERTIES_PATH = f"/crm/properties/{API_VERSION}"
OBJECTS_PATH = f"/crm/objects/{API_VERSION}"
ASSOCIATIONS_PATH = f"/crm/associations/{API_VERSION}"
SETTINGS_USERS_PATH = f"/settings/users/{API_VERSION}"  # legacy twin: /settings/v3/users


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
                register_secret(self._token[0])  # never printed, whatever logs it
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
            raise transport_error(method, path, exc) from exc

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
            register_secret(fresh)
            self._token = (fresh, time.monotonic())
            response = self._send(method, path, fresh, params, json)
            if response.status_code == 401:
                tokens.installation_mark_uninstalled(
                    tenant_id=self.tenant.pk,
                    reason="HubSpot a refusé un jeton d'accès tout juste renouvelé (HTTP 401) : "
                    "l'application a été désinstallée ou son accès révoqué.",
                )
                raise HubSpotAuthError(f"HubSpot {method} {path}: 401 with a fresh token", status_code=401)
        return self._handle(method, path, response)

    def _handle(self, method: str, path: str, response: requests.Response) -> Any:
        status = response.status_code
        body = json_body(response)
        if status < 300:
            return body
        fields = error_fields(body)
        detail = f"HubSpot {method} {path}: HTTP {status}"
        if fields.get("category"):
            detail += f" {fields['category']}"
        if fields.get("message"):
            # Masked before it is cut: a credential HubSpot echoes across the cut would otherwise
            # reach the log (and the error) as a prefix no mask matches any more.
            detail += f": {mask_text(fields['message'])[:300]}"
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

    # --- users (who may change the Qonto connection) ----------------------------------------------
    def get_user(self, user_id: int) -> dict[str, Any]:
        """One user of the portal: ``{"id", "email", "superAdmin", "roleIds", …}`` (scope
        ``settings.users.read``). Raises ``HubSpotNotFoundError`` for a user not in the portal."""
        return dict(self.request("GET", f"{SETTINGS_USERS_PATH}/{int(user_id)}") or {})

    # --- app install ----------------------------------------------------------------------------
    def uninstall(self) -> None:
        """Uninstall the app from the portal (204). HubSpot e-mails the portal's Super Admins."""
        self.request("DELETE", UNINSTALL_PATH)
