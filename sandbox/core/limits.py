"""Exact sliding windows: counting events per key, and the rate limiter built on it."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable


class SlidingWindow:
    """How many events per key in the last ``window_s`` seconds (exact sliding window)."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _live(self, key: str, now: float) -> deque[float]:
        """The key's events still in the window (the caller holds the lock)."""
        q = self._hits[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def add(self, key: str) -> None:
        with self._lock:
            self._hits[key].append(self._clock())

    def count(self, key: str) -> int:
        now = self._clock()
        with self._lock:
            return len(self._live(key, now))

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


class SlidingWindowLimiter(SlidingWindow):
    """At most ``limit`` hits per ``window_s`` per key (exact sliding window)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(window_s, clock)
        self.limit = limit

    def hit(self, key: str) -> tuple[bool, int, float]:
        """Record a hit. Returns (allowed, remaining, seconds until a slot frees)."""
        now = self._clock()
        with self._lock:
            q = self._live(key, now)
            if len(q) >= self.limit:
                return False, 0, max(0.0, q[0] + self.window_s - now)
            q.append(now)
            return True, self.limit - len(q), 0.0
