"""Keep the OAuth ``code`` and ``state`` out of Django's request and server logs.

HubSpot puts the authorization code in the callback's query string. Django's ``django.request``
logger attaches the request (whose repr shows the full path with its query) to 4xx/5xx records,
and the development server's ``django.server`` logger prints the request line. This filter,
attached to both loggers at app start-up, rewrites those records so that ``code``, ``state``,
``t`` (settings link) and token-like query values never reach a handler.
"""

from __future__ import annotations

import logging
import re

_QUERY_SECRET = re.compile(r"(?i)([?&](?:code|state|t|token|access_token|refresh_token)=)[^&\s\"']*")


def scrub(text: str) -> str:
    return _QUERY_SECRET.sub(r"\1[masked]", text)


class _ScrubbedRequest:
    """Stands in for the request on a log record: method and path only, no query string."""

    def __init__(self, request: object) -> None:
        self.method = getattr(request, "method", "")
        self.path = getattr(request, "path", "")
        self.META: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"<Request: {self.method} {self.path!r}>"

    __str__ = __repr__

    def get_full_path(self) -> str:
        return str(self.path)


class OAuthQueryScrubFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the line
            message = str(record.msg)
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg = scrubbed
            record.args = None
        request = getattr(record, "request", None)
        if request is not None and not isinstance(request, _ScrubbedRequest | str):
            record.request = _ScrubbedRequest(request)
        return True


def install() -> None:
    """Attach the filter to the loggers that print request URLs (idempotent)."""
    for name in ("django.request", "django.server", "django.security.csrf"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, OAuthQueryScrubFilter) for f in logger.filters):
            logger.addFilter(OAuthQueryScrubFilter())
