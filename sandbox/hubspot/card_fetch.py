"""The ``hubspot.fetch`` stand-in: the deal page's card calls our backend through this proxy, which
adds the card's context to the query string and signs each call the way HubSpot does (v2 + v3).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from sandbox.core import Provider, Sandbox, json_response, read_json
from sandbox.hubspot.app import HubSpotApi
from sandbox.hubspot.signatures import sign_v2, sign_v3, v3_headers, v3_signing_uri

CARD_FETCH_MAX_BYTES = 1_000_000
CARD_FETCH_CONCURRENCY = 20
CARD_DEFAULTS: dict[str, Any] = {
    "signature_mode": "valid",  # valid | bad | missing | stale (6 minutes old)
    "timestamp_skew_s": 0,
    "retry_once": True,  # HubSpot retries once on connection failure or 5xx
    "timeout_s": 15,
}


class CardFetchProxy(Provider):
    """Proxy with HubSpot's limits (1 MB, 20 in flight per account, one retry)."""

    def __init__(self, sandbox: Sandbox, api: HubSpotApi) -> None:
        super().__init__(sandbox)
        self.api = api
        self.lock = api.lock  # one lock for the shared state
        self._inflight: dict[str, int] = {}
        self._inflight_lock = threading.Lock()
        self.card_settings: dict[str, Any] = dict(CARD_DEFAULTS)

    def reset(self) -> None:
        self.card_settings = dict(CARD_DEFAULTS)

    def card_fetch(self, request: Request) -> Response:
        path = request.args.get("path", "")
        if not path.startswith("/") or path.startswith("//"):
            return _card_error(400, "bad_path", "path must be an absolute path on our backend")
        method = request.method.upper()
        with self.lock:
            portal = self.api.state["portals"].get(request.args.get("portalId", ""))
            if portal is None:
                return _card_error(400, "unknown_portal", "portalId names no sandbox portal")
            user_id = request.args.get("userId") or str(portal["installer_user_id"])
            user = portal["users"].get(user_id)
            if user is None:
                return _card_error(400, "unknown_user", "userId names no user of the portal")
            portal_key = str(portal["id"])
        raw = b""
        if method in ("POST", "PUT", "PATCH"):
            raw = request.get_data(cache=True)
            if len(raw) > CARD_FETCH_MAX_BYTES:
                return _card_error(413, "request_too_large", "hubspot.fetch bodies are limited to 1 MB")
            try:
                parsed_body = json.loads(raw.decode("utf-8")) if raw else {}
            except (ValueError, UnicodeDecodeError):
                return _card_error(400, "bad_body", "hubspot.fetch bodies are JSON objects")
            if not isinstance(parsed_body, dict):
                return _card_error(400, "bad_body", "hubspot.fetch bodies are JSON objects")
            if not raw:
                raw = b"{}"
        split = urllib.parse.urlsplit(path)
        params = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
        params += [("portalId", portal_key), ("userId", str(user["id"])), ("userEmail", user["email"])]
        if request.args.get("dealId"):
            params.append(("dealId", request.args["dealId"]))
        params.append(("appId", self.config.hubspot_app_id))
        url = f"{self.config.connector_base_url.rstrip('/')}{split.path}?{urllib.parse.urlencode(params)}"
        with self._inflight_lock:
            if self._inflight.get(portal_key, 0) >= CARD_FETCH_CONCURRENCY:
                return _card_error(
                    429, "too_many_requests", "hubspot.fetch allows 20 concurrent requests per account"
                )
            self._inflight[portal_key] = self._inflight.get(portal_key, 0) + 1
        try:
            return self._forward(method, url, raw)
        finally:
            with self._inflight_lock:
                self._inflight[portal_key] -= 1

    def signed_headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        """The headers HubSpot adds to a card fetch (v2 and v3), per ``card_settings``."""
        secret = self.config.hubspot_client_secret
        mode = self.card_settings["signature_mode"]
        now_ms = int(time.time() * 1000) + int(self.card_settings["timestamp_skew_s"] * 1000)
        if mode == "stale":
            now_ms -= 6 * 60 * 1000
        text = body.decode("utf-8")
        headers = {
            "X-HubSpot-Signature": sign_v2(secret, method, url, text),
            "X-HubSpot-Signature-Version": "v2",
            **v3_headers(secret, method, url, text, now_ms),
        }
        if mode == "bad":
            headers["X-HubSpot-Signature-v3"] = sign_v3(
                "not-the-secret", method, v3_signing_uri(url), text, now_ms
            )
        elif mode == "missing":
            for key in ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp", "X-HubSpot-Signature"):
                headers.pop(key)
        return headers

    def _forward(self, method: str, url: str, body: bytes) -> Response:
        attempts = 2 if self.card_settings["retry_once"] else 1
        upstream: requests.Response | None = None
        for attempt in range(attempts):
            headers = {
                "Accept": "application/json",
                "User-Agent": "HubSpot-UIExtensions-Fetch (sandbox)",
                **self.signed_headers(method, url, body),
            }
            if body:
                headers["Content-Type"] = "application/json"
            try:
                upstream = requests.request(
                    method,
                    url,
                    data=body or None,
                    headers=headers,
                    timeout=float(self.card_settings["timeout_s"]),
                    allow_redirects=False,
                )
            except requests.Timeout:
                return _card_error(
                    504, "timeout", "our backend did not answer within the hubspot.fetch timeout"
                )
            except requests.ConnectionError:
                if attempt + 1 < attempts:
                    continue
                return _card_error(
                    502, "connection_failed", f"could not reach {self.config.connector_base_url}"
                )
            if upstream.status_code >= 500 and attempt + 1 < attempts:
                continue  # HubSpot retries once on 5xx
            break
        assert upstream is not None
        if len(upstream.content) > CARD_FETCH_MAX_BYTES:
            return _card_error(502, "response_too_large", "hubspot.fetch responses are limited to 1 MB")
        return Response(
            upstream.content,
            status=upstream.status_code,
            content_type=upstream.headers.get("Content-Type", "application/json"),
        )

    def ctl_card_settings(self, request: Request) -> Response:
        try:
            body = read_json(request) if request.method == "POST" else None
        except ValueError:
            return json_response({"error": "body is not JSON"}, 400)
        if isinstance(body, dict):
            for key, value in body.items():
                if key not in CARD_DEFAULTS:
                    return json_response({"error": f"unknown setting {key}"}, 400)
                if key == "signature_mode" and value not in ("valid", "bad", "missing", "stale"):
                    return json_response({"error": "signature_mode: valid | bad | missing | stale"}, 400)
                self.card_settings[key] = value
        return json_response(self.card_settings)


def _card_error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message, "source": "hubspot_sandbox"}}, status)
