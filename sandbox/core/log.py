"""The request log: every provider request (secrets redacted) and counters per route."""

from __future__ import annotations

import dataclasses
import threading
from collections import defaultdict, deque
from typing import Any


@dataclasses.dataclass
class LoggedRequest:
    provider: str
    method: str
    path: str
    route: str  # the matched rule, e.g. "/v2/client_invoices/<id>", or "" when none matched
    query: dict[str, list[str]]
    status: int
    at: str
    portal: str | None = None  # HubSpot portal / Qonto organisation / Stripe account the call was for
    unknown_params: list[str] = dataclasses.field(default_factory=list)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)  # secrets redacted
    body: Any = None


class RequestLog:
    """Every provider request, and counters per (provider, method, route)."""

    _REDACT = ("authorization", "x-qonto-staging-token", "stripe-signature", "x-hubspot-signature-v3")

    def __init__(self, max_entries: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=max_entries)
        self._counts: dict[tuple[str, str, str], int] = defaultdict(int)

    def record(self, entry: LoggedRequest) -> None:
        entry.headers = {
            k: ("<redacted>" if k.lower() in self._REDACT else v) for k, v in entry.headers.items()
        }
        with self._lock:
            self._entries.append(entry)
            self._counts[(entry.provider, entry.method, entry.route)] += 1

    def entries(self, provider: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [e for e in self._entries if provider is None or e.provider == provider]

    def count(self, provider: str | None = None, method: str | None = None, route: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (p, m, r), n in self._counts.items()
                if (provider is None or p == provider)
                and (method is None or m == method.upper())
                and (route is None or r == route)
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {f"{p} {m} {r}": n for (p, m, r), n in sorted(self._counts.items())}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()
