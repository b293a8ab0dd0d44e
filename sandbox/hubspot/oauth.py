"""OAuth: the code exchange and refresh (``/oauth/v1|v3|2026-03/token``), introspection, revocation
and the v1 token-info endpoints (hubspot.md §2), with single-use codes and install generations.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response
from sandbox.hubspot.base import HubSpotBase
from sandbox.hubspot.model import hs_time

ACCESS_TOKEN_TTL_S = 1800
AUTH_CODE_TTL_S = 300
DATA_CENTRE = "na1"


class OAuth(HubSpotBase):
    """Token issue and the OAuth endpoints (public: no bearer, not rate limited)."""

    def _oauth_error(self, error: str, status: str, message: str, description: str | None = None) -> Response:
        return json_response(
            {
                "error": error,
                "error_description": description or message,
                "status": status,
                "message": message,
                "correlationId": str(uuid.uuid4()),
            },
            400,
        )

    def _client_error(self, form: Any) -> Response | None:
        if form.get("client_id") != self.config.hubspot_client_id:
            return self._oauth_error("invalid_client", "BAD_CLIENT_ID", "missing or unknown client id")
        if not hmac.compare_digest(form.get("client_secret", ""), self.config.hubspot_client_secret):
            return self._oauth_error(
                "invalid_client", "BAD_CLIENT_ID", "client secret does not match the client id"
            )
        return None

    def _id_token(self, portal: dict[str, Any], user_id: int) -> str:
        def b64(data: dict[str, Any]) -> str:
            return (
                base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
                .rstrip(b"=")
                .decode()
            )

        now = int(self.clock.now().timestamp())
        user = portal["users"].get(str(user_id), {})
        head = b64({"alg": "HS256", "typ": "JWT"})
        body = b64(
            {
                "iss": "https://app.hubspot.com",
                "aud": self.config.hubspot_client_id,
                "sub": str(user_id),
                "hub_id": portal["id"],
                "email": user.get("email"),
                "iat": now,
                "exp": now + ACCESS_TOKEN_TTL_S,
            }
        )
        mac = hmac.new(self.config.hubspot_client_secret.encode(), f"{head}.{body}".encode(), hashlib.sha256)
        return f"{head}.{body}.{base64.urlsafe_b64encode(mac.digest()).rstrip(b'=').decode()}"

    def _prune_tokens(self) -> None:
        cutoff = self.clock.now().timestamp() - 86400
        tokens = self.state["access_tokens"]
        for token in [t for t, info in tokens.items() if info["expires_at"] < cutoff]:
            del tokens[token]
        codes = self.state["codes"]
        for code in [c for c, info in codes.items() if info["expires_at"] < cutoff]:
            del codes[code]

    def _issue(
        self, portal: dict[str, Any], user_id: int, scopes: list[str], refresh: str | None = None
    ) -> tuple[str, str]:
        self._prune_tokens()
        if refresh is None:
            refresh = f"{DATA_CENTRE}-{self.ids.uuid()}"
            self.state["refresh_tokens"][refresh] = {
                "portal": str(portal["id"]),
                "user_id": user_id,
                "scopes": list(scopes),
                "gen": portal["install_gen"],
                "revoked": False,
                "client_id": self.config.hubspot_client_id,
            }
        access = self.ids.token("CO", 320)
        self.state["access_tokens"][access] = {
            "portal": str(portal["id"]),
            "user_id": user_id,
            "scopes": list(scopes),
            "gen": portal["install_gen"],
            "revoked": False,
            "refresh": refresh,
            "expires_at": self.clock.now().timestamp() + ACCESS_TOKEN_TTL_S,
        }
        return access, refresh

    def _mark_installed(self, portal: dict[str, Any], user_id: int, scopes: list[str]) -> None:
        portal["installed"] = True
        portal["installed_at"] = hs_time(self.clock.now())
        portal["uninstalled_at"] = None
        portal["scopes"] = sorted(set(portal.get("scopes") or []) | set(scopes))
        portal["installer_user_id"] = user_id

    def _token_payload(self, access: str, refresh: str, *, versioned: bool) -> dict[str, Any]:
        info = self.state["access_tokens"][access]
        portal = self.state["portals"][info["portal"]]
        body: dict[str, Any] = {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": ACCESS_TOKEN_TTL_S,
            "token_type": "bearer",
            "hub_id": portal["id"],
            "scopes": info["scopes"],
            "user_id": info["user_id"],
            "id_token": self._id_token(portal, info["user_id"]),
        }
        if versioned:
            body["token_use"] = "access_token"
        return body

    def _live_token(self, store: str, token: str) -> dict[str, Any] | None:
        """A token of a live installation: not revoked, its portal still installed, same install."""
        info: dict[str, Any] | None = self.state[store].get(token)
        if info is None or info["revoked"]:
            return None
        portal = self.state["portals"].get(info["portal"])
        if portal is None or not portal["installed"] or info["gen"] != portal["install_gen"]:
            return None
        return info

    def _refresh_valid(self, refresh: str) -> dict[str, Any] | None:
        return self._live_token("refresh_tokens", refresh)

    def _access_valid(self, access: str) -> dict[str, Any] | None:
        info = self._live_token("access_tokens", access)
        if info is not None and self.clock.now().timestamp() >= info["expires_at"]:
            return None
        return info

    def _v1_token_info(
        self, token: str, info: dict[str, Any], token_type: str, **extra: Any
    ) -> dict[str, Any]:
        """The v1 token-info body (``GET /oauth/v1/{access|refresh}-tokens/{token}``)."""
        portal = self.state["portals"][info["portal"]]
        return {
            "token": token,
            "user": portal["users"].get(str(info["user_id"]), {}).get("email"),
            "hub_domain": portal["domain"],
            "scopes": info["scopes"],
            "hub_id": portal["id"],
            **extra,
            "user_id": info["user_id"],
            "token_type": token_type,
        }

    def oauth_token(self, request: Request, **_: str) -> Response:
        versioned = "/oauth/v1/" not in request.path
        if request.mimetype != "application/x-www-form-urlencoded":
            return self._oauth_error(
                "invalid_request",
                "BAD_GRANT_TYPE",
                "missing or unknown grant type",
                "The token request must be sent as application/x-www-form-urlencoded.",
            )
        form = request.form
        grant = form.get("grant_type", "")
        if grant not in ("authorization_code", "refresh_token"):
            return self._oauth_error(
                "unsupported_grant_type", "BAD_GRANT_TYPE", "missing or unknown grant type"
            )
        bad_client = self._client_error(form)
        if bad_client is not None:
            return bad_client
        with self.lock:
            if grant == "authorization_code":
                code = self.state["codes"].pop(form.get("code", ""), None)  # single use, even on failure
                if code is None or self.clock.now().timestamp() >= code["expires_at"]:
                    return self._oauth_error("invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code")
                if form.get("redirect_uri", "") != code["redirect_uri"]:
                    return self._oauth_error(
                        "invalid_grant",
                        "BAD_REDIRECT_URI",
                        "redirect_uri does not match the authorization request",
                    )
                portal = self.state["portals"].get(code["portal"])
                if portal is None:
                    return self._oauth_error("invalid_grant", "BAD_AUTH_CODE", "missing or unknown auth code")
                self._mark_installed(portal, code["user_id"], code["scopes"])
                access, refresh = self._issue(portal, code["user_id"], code["scopes"])
                return json_response(self._token_payload(access, refresh, versioned=versioned))
            old = form.get("refresh_token", "")
            info = self._refresh_valid(old)
            if info is None or info["client_id"] != form.get("client_id"):
                return self._oauth_error(
                    "invalid_grant",
                    "BAD_REFRESH_TOKEN",
                    "missing or unknown refresh token",
                    "refresh token is invalid, expired or revoked",
                )
            portal = self.state["portals"][info["portal"]]
            if self.state["settings"]["rotate_refresh_tokens"]:
                info["revoked"] = True
                access, refresh = self._issue(portal, info["user_id"], info["scopes"])
            else:
                access, refresh = self._issue(portal, info["user_id"], info["scopes"], refresh=old)
            return json_response(self._token_payload(access, refresh, versioned=versioned))

    def _introspection(self, token: str, hint: str | None) -> dict[str, Any]:
        stores = ["access_tokens", "refresh_tokens"]
        if hint == "refresh_token":
            stores.reverse()
        for store in stores:
            info = self._access_valid(token) if store == "access_tokens" else self._refresh_valid(token)
            if info is None:
                continue
            portal = self.state["portals"][info["portal"]]
            user = portal["users"].get(str(info["user_id"]), {})
            out: dict[str, Any] = {
                "active": True,
                "app_id": int(self.config.hubspot_app_id),
                "client_id": self.config.hubspot_client_id,
                "hub_id": portal["id"],
                "hub_domain": portal["domain"],
                "user": user.get("email"),
                "user_id": info["user_id"],
                "scopes": info["scopes"],
                "token_type": "access" if store == "access_tokens" else "refresh",
                "token_use": "access_token" if store == "access_tokens" else "refresh_token",
                "is_private_distribution": False,
            }
            if store == "access_tokens":
                out["expires_in"] = max(0, int(info["expires_at"] - self.clock.now().timestamp()))
            return out
        return {"active": False}

    def oauth_introspect(self, request: Request, **_: str) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            return self._oauth_error("invalid_request", "BAD_REQUEST", "the body must be form-encoded")
        bad_client = self._client_error(request.form)
        if bad_client is not None:
            return bad_client
        with self.lock:
            return json_response(
                self._introspection(request.form.get("token", ""), request.form.get("token_type_hint"))
            )

    def oauth_revoke(self, request: Request, **_: str) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            return self._oauth_error("invalid_request", "BAD_REQUEST", "the body must be form-encoded")
        bad_client = self._client_error(request.form)
        if bad_client is not None:
            return bad_client
        token = request.form.get("token", "")
        with self.lock:
            for store in ("access_tokens", "refresh_tokens"):
                if token in self.state[store]:
                    self.state[store][token]["revoked"] = True  # revoking does not uninstall
        return Response(status=200)

    def oauth_v1_access_token(self, request: Request, token: str) -> Response:
        with self.lock:
            info = self.state["access_tokens"].get(token)
            if info is not None and self.clock.now().timestamp() >= info["expires_at"]:
                return self._error(
                    401, "The OAuth token used to make this call expired.", "EXPIRED_AUTHENTICATION"
                )
            if self._access_valid(token) is None:
                return self._not_found("access token not found")
            assert info is not None
            return json_response(
                self._v1_token_info(
                    token,
                    info,
                    "access",
                    app_id=int(self.config.hubspot_app_id),
                    expires_in=max(0, int(info["expires_at"] - self.clock.now().timestamp())),
                )
            )

    def oauth_v1_refresh_token(self, request: Request, token: str) -> Response:
        with self.lock:
            info = self._refresh_valid(token)
            if info is None:
                return self._not_found("refresh token not found")
            return json_response(
                self._v1_token_info(token, info, "refresh", client_id=self.config.hubspot_client_id)
            )

    def oauth_v1_refresh_revoke(self, request: Request, token: str) -> Response:
        with self.lock:
            info = self.state["refresh_tokens"].get(token)
            if info is None:
                return self._not_found("refresh token not found")
            info["revoked"] = True
        return Response(status=204)

    def expire_tokens(self, portal_id: int) -> int:
        """Expire every access token of the portal now. Returns how many."""
        now = self.clock.now().timestamp()
        n = 0
        with self.lock:
            for info in self.state["access_tokens"].values():
                if info["portal"] == str(portal_id) and info["expires_at"] > now:
                    info["expires_at"] = now - 1
                    n += 1
        return n

    def set_rotate_refresh_tokens(self, rotate: bool) -> None:
        """When on, a refresh returns a new refresh token and the old one stops working."""
        with self.lock:
            self.state["settings"]["rotate_refresh_tokens"] = bool(rotate)
