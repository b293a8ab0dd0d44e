"""Scriptable faults: a status instead of the handler, latency, a connection reset, or the handler's
effects kept and then a failure (``POST /_sim/faults``).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import threading
from typing import Any


@dataclasses.dataclass
class FaultRule:
    """A scripted fault for requests matching ``provider`` / ``method`` / ``path`` (a regex).

    kind:
      - ``status``: answer ``status`` with ``body`` (JSON) and ``headers`` instead of the handler;
      - ``latency``: sleep ``delay_ms`` then run the handler normally;
      - ``commit_then_fail``: run the handler (its effects are kept) then answer ``status``
        (default 500) or, with ``status`` = 0, drop the connection without an answer;
      - ``reset``: drop the connection before running the handler.
    ``count`` is how many matching requests it hits (``None``: until cleared).
    """

    provider: str
    kind: str = "status"
    status: int = 500
    path: str = ".*"
    method: str | None = None
    count: int | None = 1
    delay_ms: int = 0
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    id: int = 0

    def matches(self, provider: str, method: str, path: str) -> bool:
        if self.provider != provider:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None


class DropConnection(Exception):
    """Raised to make the server close the socket without answering (a connection reset)."""


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def take(self, provider: str, method: str, path: str) -> FaultRule | None:
        """The first matching rule, consuming one of its ``count``."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(provider, method, path):
                    if rule.count is not None:
                        rule.count -= 1
                        if rule.count <= 0:
                            self._rules.remove(rule)
                    return copy.copy(rule)
            return None

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if provider is not None and r.provider != provider]

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dataclasses.asdict(r) for r in self._rules]
