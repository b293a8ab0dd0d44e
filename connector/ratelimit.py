"""Rate limiters and locks shared by every worker process (Redis), for outbound API budgets.

- ``RateLimiter(key, limit, window_s)``: an exact sliding window kept in a Redis sorted set and
  updated atomically by a Lua script using Redis' own clock, so any number of processes on any
  number of machines share one budget. ``acquire()`` waits for a free slot; ``penalize(s)`` makes
  every process wait ``s`` seconds (used when a provider answers 429 with its reset time).
- ``distributed_lock(name)``: a Redis lock (or, without Redis on a developer machine, a file lock
  under var/) used so a tenant is never synced twice at once and tokens are refreshed once.

Without ``REDIS_URL`` (``make run`` on the embedded defaults) the limiter falls back to a
per-process window, which is right for a single worker process.
"""

from __future__ import annotations

import fcntl
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any

import redis
from django.conf import settings

# KEYS[1] = window zset, KEYS[2] = penalty key; ARGV = limit, window_ms, member
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('PTTL', KEYS[2]))
if blocked and blocked > 0 then return blocked end
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
"""


class RateLimitTimeout(Exception):
    """No slot became free within the caller's timeout."""


@lru_cache(maxsize=4)
def _redis_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def redis_client() -> redis.Redis | None:
    url = getattr(settings, "REDIS_URL", "")
    return _redis_for(url) if url else None


class _LocalWindow:
    """Fallback for a single process without Redis."""

    windows: dict[str, deque[float]] = {}
    penalties: dict[str, float] = {}
    lock = threading.Lock()

    @classmethod
    def try_acquire(cls, key: str, limit: int, window_s: float) -> float:
        now = time.monotonic()
        with cls.lock:
            until = cls.penalties.get(key, 0.0)
            if until > now:
                return until - now
            q = cls.windows.setdefault(key, deque())
            while q and q[0] <= now - window_s:
                q.popleft()
            if len(q) < limit:
                q.append(now)
                return 0.0
            return max(0.001, q[0] + window_s - now)


class RateLimiter:
    def __init__(self, key: str, limit: int, window_s: float) -> None:
        self.key = f"ratelimit:{key}"
        self.limit = limit
        self.window_s = window_s
        self.waited_s = 0.0  # total time this instance spent waiting (for statistics)

    def try_acquire(self) -> float:
        """Take a slot and return 0, or return how many seconds to wait before trying again."""
        client = redis_client()
        if client is None:
            return _LocalWindow.try_acquire(self.key, self.limit, self.window_s)
        wait_ms = client.eval(
            _ACQUIRE,
            2,
            self.key,
            self.key + ":penalty",
            self.limit,
            int(self.window_s * 1000),
            uuid.uuid4().hex,
        )
        return float(wait_ms) / 1000.0

    def acquire(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            wait = self.try_acquire()
            if wait <= 0:
                return
            if time.monotonic() + wait > deadline:
                raise RateLimitTimeout(f"{self.key}: no slot within {timeout} s")
            self.waited_s += wait
            time.sleep(wait)

    def penalize(self, seconds: float) -> None:
        """Every process sharing this limiter waits ``seconds`` (a provider said 429)."""
        if seconds <= 0:
            return
        client = redis_client()
        if client is None:
            with _LocalWindow.lock:
                _LocalWindow.penalties[self.key] = time.monotonic() + seconds
            return
        client.set(self.key + ":penalty", "1", px=int(seconds * 1000))


def hubspot_limiter(portal_id: int | str) -> RateLimiter:
    """HubSpot allows 110 requests / 10 s per portal for our app; we stay under it."""
    return RateLimiter(f"hubspot:{portal_id}", settings.HUBSPOT_RATE_LIMIT_PER_10S, 10.0)


def qonto_limiter() -> RateLimiter:
    """Qonto's limits are per client IP, so all tenants share one budget."""
    return RateLimiter("qonto:ip", settings.QONTO_RATE_LIMIT_PER_10S, 10.0)


class LockNotAcquired(Exception):
    pass


@contextmanager
def distributed_lock(
    name: str, *, timeout: float = 600.0, blocking_timeout: float | None = 0
) -> Iterator[Any]:
    """Hold ``name`` across every process. Raises ``LockNotAcquired`` if it is already held.

    ``blocking_timeout=0`` fails at once when taken; ``None`` waits forever; a number waits so long.
    ``timeout`` releases a lock whose holder died (must exceed the guarded work's duration).
    """
    client = redis_client()
    if client is not None:
        lock = client.lock(
            f"lock:{name}", timeout=timeout, blocking=blocking_timeout != 0, blocking_timeout=blocking_timeout
        )
        if not lock.acquire():
            raise LockNotAcquired(name)
        try:
            yield lock
        finally:
            # LockError: it expired while held (the work took longer than ``timeout``).
            with suppress(redis.exceptions.LockError):
                lock.release()
        return
    path = Path(settings.BASE_DIR) / "var" / "locks" / f"{name.replace(':', '_').replace('/', '_')}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        flags = fcntl.LOCK_EX | (fcntl.LOCK_NB if blocking_timeout == 0 else 0)
        try:
            fcntl.flock(fh, flags)
        except BlockingIOError as exc:
            raise LockNotAcquired(name) from exc
        try:
            yield fh
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
