"""pytest: PostgreSQL and Redis for real (DATABASE_URL / REDIS_URL from the Makefile or CI).

Tasks run eagerly unless a test starts a real worker (tests/test_celery_worker.py).
"""

from config.settings.local import *  # noqa: F403
from config.settings.local import env

DEBUG = False
SECRET_KEY = "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
FIELD_ENCRYPTION_KEY = ["dGVzdC1vbmx5LWZpZWxkLWtleS0wMTIzNDU2Nzg5YWI="]
DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/qonto_connector")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# One connection per request in tests (pytest's transactions); a process that runs our site as
# production does (the card bench's gunicorn) asks for production's persistent connections.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] > 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user fixtures
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
# Eager tasks behave like real ones: a retry re-runs the task, an error is recorded, not raised
# into the caller (which, with a worker, never sees it either). Tests assert on outcomes.
CELERY_TASK_EAGER_PROPAGATES = False
# Redis for real when REDIS_URL is set (CI, make test): locks and rate limiters behave as in
# production. A worker process started by a test shares the prefix through CACHE_KEY_PREFIX.
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("REDIS_URL"),
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="test"),
        }
        if env("REDIS_URL", default="")
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
LANGUAGE_CODE = "fr"
