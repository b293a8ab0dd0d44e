"""Qonto calls made by the sync wait out 429s instead of failing the run (the call is made again,
never skipped), and every worker backs off together through the shared limiter."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from connector.qonto_client import QontoRateLimitedError
from connector.ratelimit import qonto_limiter

RATE_LIMIT_RETRIES = 8
T = TypeVar("T")


def patiently(call: Callable[[], T], what: str) -> T:
    """``call()``, retried after each 429 (``Retry-After`` if given, else 1, 2, 4… up to 30 s)."""
    for attempt in range(RATE_LIMIT_RETRIES):
        try:
            return call()
        except QontoRateLimitedError as exc:
            wait = exc.retry_after or min(30.0, 2.0**attempt)
            qonto_limiter().penalize(wait)  # every worker backs off, not only this one
            time.sleep(wait)
    raise QontoRateLimitedError(f"Qonto kept answering 429 while {what}")
