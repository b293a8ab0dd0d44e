"""Request id on every request (header ``X-Request-ID``, echoed back) and in every log line; the
support admin's language."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation

from connector.logging import request_id_var, tenant_var

_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        tenant_token = tenant_var.set("-")
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
            tenant_var.reset(tenant_token)
        response["X-Request-ID"] = request_id
        return response


class AdminLanguageMiddleware:
    """The support admin speaks French, unless the staff user chose another language.

    ``LocaleMiddleware`` (which runs before this one) picks the language from the language cookie,
    then from the browser's ``Accept-Language``. Support staff work in French, often in a browser
    set to English: under the admin's URLs the browser's preference is ignored and French
    (``ADMIN_LANGUAGE_CODE``) is used, unless the language cookie holds an explicit choice (the
    "English / Français" switch at the top of every admin page, Django's ``set_language``).
    Everything else (onboarding pages, card API) keeps ``LocaleMiddleware``'s choice.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(_admin_prefix()):
            chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
            supported = {code for code, _name in settings.LANGUAGES}
            language = chosen if chosen in supported else settings.ADMIN_LANGUAGE_CODE
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


@functools.cache
def _admin_prefix() -> str:
    return reverse("admin:index")
