"""Rate limiters and locks shared by every worker process (Redis), for outbound API budgets.

- ``RateLimiter(key, limit, window_s)``: an exact sliding window kept in a Redis sorted set and
  updated atomically by a Lua script using Redis' own clock, so any number of processes on any
  number of machines share one budget. ``acquire()`` waits for a free slot; ``penalize(s)`` makes
  every process wait ``s`` seconds (used when a provider answers 429 with its reset time).
- ``distributed_lock(name)``: a Redis lock (or, without Redis on a developer machine, a file lock
  under var/) used so a tenant is never synced twice at once and an invoice is never sent by two
  tasks at once; ``renew=True`` keeps it alive while held, ``HeldLock.ensure_held()`` checks it.

Without ``REDIS_URL`` (``make run`` on the embedded defaults) the limiter falls back to a
per-process window, which is right for a single worker process.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

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


class LockLost(LockNotAcquired):
    """The lock expired or was taken over while we thought we held it: stop before acting."""


class HeldLock:
    """What ``distributed_lock`` yields: ``ensure_held()`` before an action the lock must cover.

    With ``renew=True`` a daemon thread resets the lock's time to live every third of it while
    the block runs, so the lock lives as long as the process holding it (a SIGKILLed worker's
    lock still expires after ``timeout``). ``ensure_held()`` resets it once more *and* checks, in
    one Redis script, that it is still ours: right before a POST, it guarantees a full
    ``timeout`` for the call, or raises ``LockLost`` so nothing is sent.
    """

    def __init__(self, name: str, lock: Any = None, *, renew: bool = False) -> None:
        self.name = name
        self._lock = lock
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._thread: threading.Thread | None = None
        if lock is not None and renew:
            self._thread = threading.Thread(target=self._renew_loop, name=f"lock-renew:{name}", daemon=True)
            self._thread.start()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()

    def _renew_loop(self) -> None:
        interval = max(0.2, float(self._lock.timeout) / 3)
        while not self._stop.wait(interval):
            try:
                self._lock.reacquire()
            except redis.exceptions.LockNotOwnedError:
                self._lost.set()
                logger.warning("lock %s was lost while held (expired or taken over)", self.name)
                return
            except redis.exceptions.RedisError as exc:  # Redis away for a moment: try again
                logger.warning("lock %s: renewal failed (%s)", self.name, type(exc).__name__)

    def ensure_held(self) -> None:
        """Give the lock a full time to live again, or raise ``LockLost`` if it is not ours."""
        if self._lock is None:
            return  # the file lock of a single machine cannot expire
        if self._lost.is_set():
            raise LockLost(self.name)
        try:
            self._lock.reacquire()
        except (redis.exceptions.LockNotOwnedError, redis.exceptions.LockError) as exc:
            self._lost.set()
            raise LockLost(self.name) from exc

    def _stop_renewing(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


@contextmanager
def distributed_lock(
    name: str, *, timeout: float = 600.0, blocking_timeout: float | None = 0, renew: bool = False
) -> Iterator[HeldLock]:
    """Hold ``name`` across every process. Raises ``LockNotAcquired`` if it is already held.

    ``blocking_timeout=0`` fails at once when taken; ``None`` waits forever; a number waits so long.
    ``timeout`` releases a lock whose holder died. Without ``renew`` it must exceed the guarded
    work's duration; with ``renew`` the lock is kept alive while the block runs (``HeldLock``).
    """
    client = redis_client()
    if client is not None:
        # thread_local=False: the renewal thread must see the token this thread acquired with.
        lock = client.lock(
            f"lock:{name}",
            timeout=timeout,
            blocking=blocking_timeout != 0,
            blocking_timeout=blocking_timeout,
            thread_local=False,
        )
        if not lock.acquire():
            raise LockNotAcquired(name)
        held = HeldLock(name, lock, renew=renew)
        try:
            yield held
        finally:
            held._stop_renewing()
            try:
                lock.release()
            except redis.exceptions.LockError:
                # Expired while held: the work outlived the lock. Say so (it was ignored before).
                logger.warning("lock %s had expired before its release", name)
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
            yield HeldLock(name)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def lock_is_held(name: str) -> bool:
    """Does some process hold ``distributed_lock(name)`` right now? (False without Redis.)"""
    client = redis_client()
    return bool(client is not None and client.exists(f"lock:{name}"))
