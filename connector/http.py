"""The one factory for outbound HTTP sessions.

Every session it builds:
- always applies a (connect, read) timeout, even when the caller passes none;
- never follows redirects (a 302 from an API means something is wrong — e.g. Qonto's staging
  gate sends one to its login page — and following it could leak the Authorization header);
- retries only idempotent reads (GET/HEAD/OPTIONS) on connection errors and 502/503/504, with
  backoff; anything that creates something is retried by Celery behind our own guards instead.
"""

from __future__ import annotations

from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

USER_AGENT = "QontoConnector/1.0 (+https://github.com/yes-we-sales/qonto-connector)"


class SafeSession(requests.Session):
    """A ``requests.Session`` with a default timeout and redirects off for every request."""

    def __init__(self, timeout: tuple[float, float]) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


def build_session(
    *,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    read_retries: int = 2,
    pool_maxsize: int = 20,
) -> SafeSession:
    timeout = (
        connect_timeout if connect_timeout is not None else settings.HTTP_CONNECT_TIMEOUT,
        read_timeout if read_timeout is not None else settings.HTTP_READ_TIMEOUT,
    )
    session = SafeSession(timeout)
    retry = Retry(
        total=read_retries,
        connect=read_retries,
        read=read_retries,
        status=read_retries,
        backoff_factor=0.3,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    adapter = HTTPAdapter(max_retries=retry, pool_connections=pool_maxsize, pool_maxsize=pool_maxsize)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session
