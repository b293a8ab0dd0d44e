"""The shared limiter holds across processes, honours penalties; locks exclude each other."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from connector.ratelimit import (
    LockLost,
    LockNotAcquired,
    RateLimiter,
    distributed_lock,
    lock_is_held,
    redis_client,
)

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")


def _take(key: str, n: int, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    import django

    django.setup()
    limiter = RateLimiter(key, limit=10, window_s=1.0)
    stamps = []
    for _ in range(n):
        limiter.acquire(timeout=30)
        stamps.append(time.time())
    queue.put(stamps)


def test_limit_holds_across_two_processes() -> None:
    key = f"test-{time.monotonic_ns()}"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    env_ok = os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    assert env_ok
    procs = [ctx.Process(target=_take, args=(key, 15, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    stamps = sorted(queue.get(timeout=60) + queue.get(timeout=60))
    for p in procs:
        p.join(timeout=10)
    assert len(stamps) == 30
    # In every 1-second window there are at most 10 acquisitions (small tolerance for clock reads).
    for i, start in enumerate(stamps):
        in_window = [s for s in stamps[i:] if s < start + 0.98]
        assert len(in_window) <= 10, (i, len(in_window))
    # 30 calls at 10/s cannot finish in under ~2 s.
    assert stamps[-1] - stamps[0] >= 1.9


def test_try_acquire_reports_the_wait() -> None:
    limiter = RateLimiter(f"wait-{time.monotonic_ns()}", limit=2, window_s=5.0)
    assert limiter.try_acquire() == 0
    assert limiter.try_acquire() == 0
    wait = limiter.try_acquire()
    assert 4.0 < wait <= 5.0


def test_penalty_blocks_every_holder() -> None:
    key = f"pen-{time.monotonic_ns()}"
    a, b = RateLimiter(key, 100, 10.0), RateLimiter(key, 100, 10.0)
    a.penalize(2.0)
    wait = b.try_acquire()
    assert 1.5 < wait <= 2.0


def test_lock_excludes_a_second_holder_and_is_released() -> None:
    name = f"t-{time.monotonic_ns()}"
    with (
        distributed_lock(name, timeout=30),
        pytest.raises(LockNotAcquired),
        distributed_lock(name, timeout=30),
    ):
        pass
    with distributed_lock(name, timeout=30):
        pass  # released after the first block: can be taken again
    assert redis_client() is not None


def test_a_renewed_lock_outlives_its_timeout_while_held() -> None:
    name = f"renew-{time.monotonic_ns()}"
    with distributed_lock(name, timeout=1, renew=True) as held:
        time.sleep(2.5)  # more than twice the timeout
        with pytest.raises(LockNotAcquired), distributed_lock(name, timeout=1):
            pass
        held.ensure_held()  # still ours
        assert not held.lost
    with distributed_lock(name, timeout=1):
        pass  # released at the end of the block


def test_a_lock_that_expired_is_reported_lost_before_acting() -> None:
    # Without renewal the lock expires during slow work; ensure_held() notices instead of acting.
    name = f"expire-{time.monotonic_ns()}"
    with distributed_lock(name, timeout=1) as held:
        time.sleep(1.5)
        with distributed_lock(name, timeout=30), pytest.raises(LockLost):  # a second task took it
            held.ensure_held()
    assert held.lost


def test_a_lock_whose_key_vanished_is_lost_for_its_renewal_too() -> None:
    # Redis restarted without persistence (or the key was deleted): the renewal thread gives up.
    name = f"vanish-{time.monotonic_ns()}"
    client = redis_client()
    assert client is not None
    with distributed_lock(name, timeout=1, renew=True) as held:
        client.delete(f"lock:{name}")
        time.sleep(0.8)
        assert held.lost
        with pytest.raises(LockLost):
            held.ensure_held()


def test_lock_is_held_tells_whether_someone_holds_it() -> None:
    name = f"held-{time.monotonic_ns()}"
    assert not lock_is_held(name)
    with distributed_lock(name, timeout=30):
        assert lock_is_held(name)
    assert not lock_is_held(name)
