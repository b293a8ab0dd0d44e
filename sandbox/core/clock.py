"""Time and ids the tests control: a clock that can be advanced or frozen, and ids generated from a
seed (the same seed and the same calls give the same ids).
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta


class Clock:
    """Wall clock plus a controllable offset, or frozen at a given instant.

    ``tick()`` returns a timestamp strictly greater than the previous ``tick()`` (by at least
    one microsecond), so ``updated_at`` always moves on every change even within one instant.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta()
        self._frozen: datetime | None = None
        self._last_tick: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def tick(self) -> datetime:
        with self._lock:
            now = self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset
            if self._last_tick is not None and now <= self._last_tick:
                now = self._last_tick + timedelta(microseconds=1)
            self._last_tick = now
            return now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    def freeze(self, at: datetime | None = None) -> None:
        with self._lock:
            self._frozen = (at or datetime.now(UTC) + self._offset).astimezone(UTC)

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
            self._frozen = None

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta()
            self._frozen = None
            self._last_tick = None

    def epoch(self) -> int:
        return int(self.now().timestamp())


class IdGen:
    """Deterministic ids from a seed: the same seed and the same calls give the same ids."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(seed)
        self._counters: dict[str, int] = defaultdict(int)

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(self._seed)
            self._counters.clear()

    def uuid(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self, prefix: str = "", length: int = 24) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        with self._lock:
            return prefix + "".join(self._rng.choice(alphabet) for _ in range(length))

    def hex(self, length: int = 32) -> str:
        with self._lock:
            return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def sequence(self, name: str, start: int = 1) -> int:
        """1, 2, 3… per name (plus ``start - 1``)."""
        with self._lock:
            self._counters[name] += 1
            return start - 1 + self._counters[name]
