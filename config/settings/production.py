"""Production: every secret comes from the environment, with no default on purpose.

A missing variable stops the process at boot (ImproperlyConfigured) instead of failing on the
first invoice.
"""

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from config.public_url import public_base_url_errors
from config.settings.base import *  # noqa: F403
from config.settings.base import LOGGING, env

DEBUG = False

# Static files: `manage.py collectstatic` (run by the Procfile's web process before gunicorn)
# writes hashed, compressed copies into STATIC_ROOT; WhiteNoise serves them with far-future
# cache headers. Nothing is served from the source folders in production.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
SECRET_KEY = env("SECRET_KEY")
FIELD_ENCRYPTION_KEY = env.list("FIELD_ENCRYPTION_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# No default (base.py's http://127.0.0.1:8000 would break OAuth and every card signature), and
# https only: see config/public_url.py.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL").rstrip("/")
if _url_errors := public_base_url_errors(PUBLIC_BASE_URL):
    raise ImproperlyConfigured(" ".join(_url_errors))

# Behind a TLS-terminating proxy (Heroku, Scalingo, Clever Cloud…): trust its scheme header.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # platform probes speak plain HTTP
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL]

LOG_JSON = env.bool("LOG_JSON", default=True)
LOGGING["handlers"]["console"]["formatter"] = "json" if LOG_JSON else "text"  # type: ignore[index]

# Several web and worker processes on several machines: the broker, locks, rate limiters and the
# cache must be shared, so Redis is required in production.
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# Error reporting, only when SENTRY_DSN is set. Events go through the same masking as our logs,
# and no personal data is attached by default.
SENTRY_DSN = env("SENTRY_DSN", default="")
if SENTRY_DSN:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    def _scrub(event: Any, hint: Any) -> Any:
        from connector.logging import mask_value

        return mask_value(event)

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        environment=env("SENTRY_ENVIRONMENT", default="production"),
        traces_sample_rate=env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0),
        send_default_pii=False,
        before_send=_scrub,
    )
