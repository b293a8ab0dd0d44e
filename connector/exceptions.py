"""Our exception hierarchy.

Every error we raise carries two texts: ``user_message`` (safe to show a customer, translated)
and ``detail`` (for logs and support: status codes, provider error codes, trace ids — never a
secret). ``retryable`` tells tasks whether trying again later can succeed (timeouts, 429, 5xx)
or whether the data or configuration must change first (other 4xx, validation).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    retryable: bool = False
    code: str = "error"
    default_user_message: Any = _("Une erreur est survenue. Réessayez plus tard.")

    def __init__(
        self,
        detail: str = "",
        *,
        user_message: Any = None,
        code: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or str(user_message or self.default_user_message))
        self.detail = detail
        self.user_message = user_message if user_message is not None else self.default_user_message
        if code is not None:
            self.code = code
        self.status_code = status_code
        self.retry_after = retry_after
        self.extra = extra or {}

    def __str__(self) -> str:
        return self.detail or str(self.user_message)


class RetryableError(ApplicationError):
    """Trying again later may succeed (timeout, connection error, 429, 5xx)."""

    retryable = True
    code = "temporarily_unavailable"


class PermanentError(ApplicationError):
    """Trying again will fail the same way until data or configuration changes."""

    retryable = False


class ConfigurationError(PermanentError):
    code = "configuration"


# --- Per provider -------------------------------------------------------------------------------
class QontoError(ApplicationError):
    code = "qonto_error"
    default_user_message = _("Qonto a renvoyé une erreur.")


class QontoRetryableError(QontoError, RetryableError):
    code = "qonto_unavailable"
    default_user_message = _("Qonto ne répond pas pour le moment. Nouvel essai automatique.")


class QontoPermanentError(QontoError, PermanentError):
    code = "qonto_rejected"


class QontoAuthError(QontoPermanentError):
    code = "qonto_auth"
    default_user_message = _("Identifiants Qonto refusés : vérifiez l'identifiant et la clé secrète.")


class HubSpotError(ApplicationError):
    code = "hubspot_error"
    default_user_message = _("HubSpot a renvoyé une erreur.")


class HubSpotRetryableError(HubSpotError, RetryableError):
    code = "hubspot_unavailable"
    default_user_message = _("HubSpot ne répond pas pour le moment. Nouvel essai automatique.")


class HubSpotPermanentError(HubSpotError, PermanentError):
    code = "hubspot_rejected"


class HubSpotAuthError(HubSpotPermanentError):
    """The portal's tokens are no longer accepted (revoked, or the app was uninstalled)."""

    code = "hubspot_auth"
    default_user_message = _("L'application n'a plus accès à HubSpot : réinstallez-la.")


class BillingError(ApplicationError):
    code = "billing_error"
    default_user_message = _("Le service de paiement a renvoyé une erreur.")


class BillingRetryableError(BillingError, RetryableError):
    code = "billing_unavailable"


class BillingPermanentError(BillingError, PermanentError):
    code = "billing_rejected"
