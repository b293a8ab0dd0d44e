"""Card API bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (1 MB) answered ``413`` in the contract's shape.

The check runs before authentication reads the body: without it, Django's ``RequestDataTooBig``
surfaced from inside the DRF view as a generic 500.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse

from hubspot_app.card_api.errors import MESSAGES, error_body
from hubspot_app.card_api.locale import caller_locale

CARD_API_PREFIX = "/api/hubspot/"


class CardApiBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(CARD_API_PREFIX):
            try:
                request.body  # noqa: B018 - read (and size-checked) once, before DRF touches it
            except RequestDataTooBig:
                message = MESSAGES["payload_too_large"][caller_locale(request)]
                return JsonResponse(error_body("payload_too_large", message), status=413)
        return self.get_response(request)
