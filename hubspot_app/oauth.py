"""HubSpot's app-level OAuth endpoints: authorize URL, code exchange, refresh, introspection.

No tenant, no Bearer token: the client id and secret are sent in the form (spec/hubspot.md §2).
The token service (``hubspot_app.tokens``) is the only caller of ``refresh``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from urllib.parse import quote, urlencode

import requests
from django.conf import settings

from connector.exceptions import HubSpotRetryableError
from connector.http import build_session
from connector.logging import register_secret
from hubspot_app.scopes import OPTIONAL_SCOPES, REQUIRED_SCOPES
from hubspot_app.transport import (
    API_VERSION,
    HubSpotOAuthError,
    HubSpotRateLimitedError,
    error_fields,
    json_body,
    rate_limit_wait,
    transport_error,
)

logger = logging.getLogger(__name__)

OAUTH_PATH = f"/oauth/{API_VERSION}/token"
INTROSPECT_PATH = f"/oauth/{API_VERSION}/token/introspect"


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
            raise transport_error("POST", path, exc) from exc
        body = json_body(response)
        status = response.status_code
        if status < 300 and isinstance(body, dict):
            return body
        fields = error_fields(body)
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
        register_secret(access)  # masked in every later log line, like a Qonto key
        register_secret(refresh)
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
