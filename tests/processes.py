"""Start real processes (Celery worker, beat) for integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    from django.conf import settings
    from django.db import connection

    env = dict(os.environ)
    db = connection.settings_dict
    # The worker must use the *test* database pytest-django created, not the configured one.
    env["DATABASE_URL"] = (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    env["CACHE_KEY_PREFIX"] = settings.CACHES["default"].get("KEY_PREFIX", "test")
    env.update(extra or {})
    return env


@contextmanager
def celery_worker(
    *,
    concurrency: int = 1,
    extra_env: dict[str, str] | None = None,
    queues: str = "celery",
    log_path: Path | None = None,
) -> Iterator[subprocess.Popen[str]]:
    """A real `celery -A config worker` process, stopped (SIGTERM, then SIGKILL) on exit.

    Its stdout and stderr go to ``log_path`` (default: a new file under ``var/``), complete once
    the block has exited.
    """
    log_path = log_path or ROOT / "var" / f"test-worker-{os.getpid()}-{time.monotonic_ns()}.log"
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "w+", encoding="utf-8")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
            "--pool", "prefork" if concurrency > 1 else "solo", "--concurrency", str(concurrency),
            "-Q", queues, "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        cwd=ROOT, env=_env(extra_env), stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            log.seek(0)
            if "ready." in log.read():
                break
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"worker exited early:\n{log.read()}")
            time.sleep(0.2)
        else:
            raise RuntimeError("worker did not become ready in 60 s")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.1, *, what: str = ""):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value; return it or raise AssertionError
    (naming ``what`` when given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(
        f"{what}: not within {timeout} s" if what else f"condition not met within {timeout} s"
    )


@contextmanager
def tasks_sent_to_broker() -> Iterator[None]:
    """Inside the block, ``.delay()`` goes through the broker instead of running eagerly."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.update(task_always_eager=False)
    try:
        yield
    finally:
        app.conf.update(task_always_eager=previous)
