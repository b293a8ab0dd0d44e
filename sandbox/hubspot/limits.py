"""HubSpot's documented limits, and the gate every API request passes: bearer token, then the
110 requests / 10 s limiter per (app, portal) or, for search, its own 5 requests / s limiter
(hubspot.md §6), with HubSpot's rate-limit headers and 429 bodies.
"""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from sandbox.hubspot.base import HubSpotBase
from sandbox.hubspot.model import bearer_token
from sandbox.hubspot.routes import PUBLIC_ENDPOINTS

BATCH_LIMIT = 100
ASSOC_BATCH_LIMIT = 1000
SEARCH_MAX_LIMIT = 200
SEARCH_MAX_RESULTS = 10_000
EMBEDDED_ASSOC_CAP = 100
MAX_URL_LENGTH = 8192


class Limits(HubSpotBase):
    """Authentication and rate limits before every handler; rate-limit headers after."""

    def before_request(self, request: Request, endpoint: str) -> Response | None:
        if endpoint in PUBLIC_ENDPOINTS:
            return None
        token = bearer_token(request)
        if not token:
            return self._error(
                401,
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
                "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
                "INVALID_AUTHENTICATION",
            )
        now = self.clock.now().timestamp()
        with self.lock:
            info = self.state["access_tokens"].get(token)
            portal = self.state["portals"].get(str(info["portal"])) if info else None
            if info is None or portal is None or info.get("revoked") or info["gen"] != portal["install_gen"]:
                return self._error(
                    401,
                    "The OAuth token used to make this call is invalid or was revoked.",
                    "INVALID_AUTHENTICATION",
                )
            if now >= info["expires_at"]:
                minutes = int((now - info["expires_at"]) // 60)
                return self._error(
                    401,
                    f"The OAuth token used to make this call expired {minutes} minute(s) ago.",
                    "EXPIRED_AUTHENTICATION",
                )
            auth = {"portal": str(info["portal"]), "user_id": info["user_id"], "scopes": list(info["scopes"])}
        request.environ["hs.auth"] = auth
        if len(request.full_path) > MAX_URL_LENGTH:
            return self._error(414, "URI Too Long", "VALIDATION_ERROR")
        if endpoint == "obj_search":
            # Search is outside the 110 / 10 s budget, on its own per-portal limiter, and sends no
            # rate-limit headers (hubspot.md §6).
            self.search_limiter.limit = self.config.hubspot_search_rate_limit
            allowed, _, _ = self.search_limiter.hit(auth["portal"])
            if not allowed:
                return self._error(
                    429,
                    "You have reached your secondly limit.",
                    "RATE_LIMITS",
                    errorType="RATE_LIMIT",
                    policyName="SECONDLY",
                )
            return None
        self.limiter.limit = self.config.hubspot_rate_limit
        key = f"{self.config.hubspot_app_id}:{auth['portal']}"
        allowed, remaining, _ = self.limiter.hit(key)
        request.environ["hs.rl"] = (self.limiter.limit, remaining)
        if not allowed:
            return self._error(
                429,
                "You have reached your ten_secondly_rolling limit.",
                "RATE_LIMITS",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
                groupName=f"publicapi:oauth-app-api-calls-ten-secondly:{self.config.hubspot_app_id}:{auth['portal']}",
            )
        return None

    def _finish(self, request: Request, path: str, route: str, response: Response) -> Response:
        rl = request.environ.get("hs.rl")
        if rl is not None:
            response.headers["X-HubSpot-RateLimit-Max"] = str(rl[0])
            response.headers["X-HubSpot-RateLimit-Remaining"] = str(rl[1])
            response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        return super()._finish(request, path, route, response)
