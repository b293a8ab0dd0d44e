"""The gate every API request passes: staging token (OneLogin page otherwise), the per-IP rate
limits (1,000 / 10 s and 10,000 / 10 min), the per-IP allowance of 401s, then the
``<login>:<secret-key>`` API key (spec §1-§2).
"""

from __future__ import annotations

import hmac
import math

from werkzeug.wrappers import Request, Response

from sandbox.qonto.base import QontoBase
from sandbox.qonto.errors import QontoSimError
from sandbox.qonto.model import ONELOGIN_URL
from sandbox.qonto.state import Organization


class Limits(QontoBase):
    """Authentication and rate limits before every API handler."""

    def before_request(self, request: Request, endpoint: str) -> Response | None:
        if endpoint.startswith("app_"):
            return None
        cfg = self.config
        ip = request.remote_addr or "unknown"
        token = request.headers.get("X-Qonto-Staging-Token")
        if cfg.qonto_staging_mode and (
            token is None or not hmac.compare_digest(token, cfg.qonto_staging_token)
        ):
            return self._onelogin_response()
        self._limit_10s.limit = cfg.qonto_rate_limit_10s
        self._limit_10min.limit = cfg.qonto_rate_limit_10min
        allowed, _, wait = self._limit_10s.hit(ip)
        if allowed:
            allowed, _, wait = self._limit_10min.hit(ip)
        if not allowed:
            return self._too_many(f"Rate limit exceeded for {ip}", wait)
        if self._unauthorized.count(ip) >= self.unauthorized_limit:
            return self._too_many("Too many unauthorized requests from this IP address", 60.0)
        if token is not None and not cfg.qonto_staging_mode and self.reject_staging_token_in_production:
            self._unauthorized.add(ip)
            return self._error_json(
                QontoSimError.one(401, "unauthorized", "X-Qonto-Staging-Token is not accepted in production")
            )
        org = self._authenticate(request.headers.get("Authorization"))
        if org is None:
            self._unauthorized.add(ip)
            return self._error_json(
                QontoSimError.one(
                    401,
                    "unauthorized",
                    "Invalid or missing API key: expected 'Authorization: <login>:<secret-key>'",
                )
            )
        request.environ["qonto.org"] = org.login
        return None

    def _onelogin_response(self) -> Response:
        page = (
            "<!DOCTYPE html><html><head><title>OneLogin</title></head><body>"
            "<h1>Qonto staging</h1><p>Sign in with OneLogin to continue.</p>"
            f"<a href='{ONELOGIN_URL}'>Sign in</a></body></html>"
        )
        if self.config.qonto_staging_failure == "html":
            return Response(page, status=200, content_type="text/html; charset=utf-8")
        return Response(
            page, status=302, headers={"Location": ONELOGIN_URL}, content_type="text/html; charset=utf-8"
        )

    def _too_many(self, detail: str, wait_s: float) -> Response:
        resp = self._error_json(QontoSimError.one(429, "too_many_requests", detail))
        if self.rate_limit_retry_after:
            resp.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
        return resp

    def _authenticate(self, header: str | None) -> Organization | None:
        """Only ``<login>:<secret-key>``: no Basic, no Bearer, no Base64."""
        if not header or ":" not in header:
            return None
        login, secret = header.split(":", 1)
        if " " in login or not login or not secret:  # "Basic x:y", "Bearer x:y"…
            return None
        with self.lock:
            org = self.orgs.get(login)
        if org is None or not hmac.compare_digest(secret.encode(), org.secret_key.encode()):
            return None
        return org
