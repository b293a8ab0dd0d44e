"""What the OAuth client and the portal client share: HubSpot's error classes and error bodies.

HubSpot facts this relies on: spec/hubspot.md §6 (limits and errors).
"""

from __future__ import annotations

from typing import Any

import requests
from django.utils.translation import gettext_lazy as _

from connector.exceptions import HubSpotPermanentError, HubSpotRetryableError

API_VERSION = "2026-03"

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


def error_fields(body: Any) -> dict[str, Any]:
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


def json_body(response: requests.Response) -> Any:
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


def transport_error(method: str, path: str, exc: requests.RequestException) -> HubSpotRetryableError:
    if isinstance(exc, requests.Timeout):
        return HubSpotRetryableError(f"HubSpot {method} {path}: timeout", code="hubspot_timeout")
    return HubSpotRetryableError(
        f"HubSpot {method} {path}: connection error ({type(exc).__name__})",
        code="hubspot_unreachable",
        user_message=_("HubSpot est injoignable pour le moment. Réessayez dans un instant."),
    )
