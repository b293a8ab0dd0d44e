"""The card API's one error shape: ``{"error": {"code", "message", "problems"?}}``.

``code`` is stable; ``message`` is French or English for people; nothing internal (trace, SQL,
secret, host) ever goes in it.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from hubspot_app.card_api.locale import caller_locale

MESSAGES: dict[str, dict[str, str]] = {
    "invalid_signature": {
        "fr": "Signature HubSpot invalide ou expirée.",
        "en": "Invalid or expired HubSpot signature.",
    },
    "unknown_portal": {
        "fr": "Ce compte HubSpot n'a pas installé Qonto Connector.",
        "en": "This HubSpot account has not installed Qonto Connector.",
    },
    "not_found": {"fr": "Introuvable.", "en": "Not found."},
    "bad_request": {
        "fr": "Requête invalide : vérifiez les champs envoyés.",
        "en": "Invalid request: check the fields sent.",
    },
    "not_retryable": {
        "fr": "Cette facture ne peut pas être relancée.",
        "en": "This invoice cannot be retried.",
    },
    "payload_too_large": {"fr": "Requête trop volumineuse.", "en": "Request too large."},
    "method_not_allowed": {"fr": "Méthode non autorisée.", "en": "Method not allowed."},
    "server_error": {
        "fr": "Une erreur interne est survenue. Réessayez dans un instant.",
        "en": "An internal error occurred. Try again in a moment.",
    },
    "unavailable": {
        "fr": "Service momentanément indisponible. Réessayez dans un instant.",
        "en": "Service temporarily unavailable. Try again in a moment.",
    },
    "qonto_unavailable": {
        "fr": "Qonto ne répond pas pour le moment : la carte montre ce qui a été lu la dernière fois. "
        "Réessayez dans un instant.",
        "en": "Qonto is not answering right now: the card shows what was last read. Try again in a moment.",
    },
}


class CardApiError(exceptions.APIException):
    """Raise from card API code; rendered in the contract's error shape."""

    def __init__(
        self,
        code: str,
        *,
        status: int = 400,
        locale: str = "fr",
        message: str | None = None,
        problems: list[dict[str, Any]] | None = None,
    ) -> None:
        self.error_code = code
        self.status_code = status
        self.locale = locale
        self.message = message or MESSAGES.get(code, MESSAGES["bad_request"])[locale]
        self.problems = problems
        super().__init__(detail=self.message, code=code)


def error_body(code: str, message: str, problems: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if problems:
        error["problems"] = problems
    return {"error": error}


def card_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Every non-2xx answer of the card API in the contract's shape, never a stack trace."""
    request = context.get("request")
    locale = "fr"
    if request is not None:
        locale = caller_locale(request)
    if isinstance(exc, CardApiError):
        return Response(error_body(exc.error_code, exc.message, exc.problems), status=exc.status_code)
    if isinstance(exc, exceptions.NotFound):
        return Response(error_body("not_found", MESSAGES["not_found"][locale]), status=404)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return Response(error_body("method_not_allowed", MESSAGES["method_not_allowed"][locale]), status=405)
    if isinstance(exc, exceptions.ParseError | exceptions.ValidationError | exceptions.UnsupportedMediaType):
        return Response(error_body("bad_request", MESSAGES["bad_request"][locale]), status=400)
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
        return Response(error_body("invalid_signature", MESSAGES["invalid_signature"][locale]), status=401)
    response = exception_handler(exc, context)
    if response is not None:
        return Response(
            error_body("bad_request", MESSAGES["bad_request"][locale]),
            status=response.status_code
            if response.status_code < 500
            else status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    # Unexpected: logged with its traceback by Django's handler chain; the caller sees a generic 500.
    import logging

    logging.getLogger(__name__).exception("card API: unexpected error", exc_info=exc)
    return Response(error_body("server_error", MESSAGES["server_error"][locale]), status=500)
