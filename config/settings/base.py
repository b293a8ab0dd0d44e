"""Settings shared by every environment. Configuration comes only from environment variables.

``local`` (make run), ``test`` (pytest) and ``production`` import this module and override what
differs. Every variable is documented in ``.env.example``.
"""

from __future__ import annotations

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    env.read_env(str(BASE_DIR / ".env"))

# --- Core ---------------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "encrypted_model_fields",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "connector",
    "hubspot_app",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # static files (admin CSS/JS), right after security
    "connector.middleware.RequestIdMiddleware",
    "connector.security.SecurityHeadersMiddleware",  # CSP, Permissions-Policy
    "hubspot_app.card_api.middleware.CardApiBodyLimitMiddleware",  # 413 in the card API's shape
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "connector.middleware.AdminLanguageMiddleware",  # the admin in French unless chosen otherwise
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "connector.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
# Embedded default: a SQLite file under var/ so `make run` needs no server. Production and CI use
# PostgreSQL through DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'connector.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat write to the same file: WAL lets readers go on while one writes, and
    # IMMEDIATE transactions wait for the write lock instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": env("REDIS_URL")}
        if env("REDIS_URL", default="")
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    )
}

# --- Auth, i18n, time ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The support admin's language whatever the browser asks (connector.middleware.AdminLanguageMiddleware);
# a staff user who picks English with the switch at the top of the admin gets English.
ADMIN_LANGUAGE_CODE = env("ADMIN_LANGUAGE_CODE", default="fr")
TIME_ZONE = "Europe/Paris"  # shown to people; stored in UTC (USE_TZ)
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Outside production (make run, tests) WhiteNoise serves the apps' static files straight from
# their folders, without collectstatic; production serves the collected, hashed files.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)
WHITENOISE_AUTOREFRESH = env.bool("WHITENOISE_AUTOREFRESH", default=True)
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []

# --- Security (hardened further in production) --------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CSRF_TRUSTED_ORIGINS = [PUBLIC_BASE_URL] if PUBLIC_BASE_URL.startswith("http") else []
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # the card API never needs more than 1 MB

# Staff admin: a one-time code (TOTP, django-otp) on top of the password when set.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)

# Encryption of secrets at rest (django-encrypted-model-fields). Several comma-separated Fernet
# keys rotate: the first encrypts, all decrypt.
FIELD_ENCRYPTION_KEY: list[str] = env.list("FIELD_ENCRYPTION_KEY", default=[])

# --- Providers ----------------------------------------------------------------------------------
# HubSpot
HUBSPOT_CLIENT_ID = env("HUBSPOT_CLIENT_ID", default="")
HUBSPOT_CLIENT_SECRET = env("HUBSPOT_CLIENT_SECRET", default="")
HUBSPOT_APP_ID = env("HUBSPOT_APP_ID", default="")
HUBSPOT_API_BASE = env("HUBSPOT_API_BASE", default="https://api.hubapi.com").rstrip("/")
HUBSPOT_AUTH_BASE = env("HUBSPOT_AUTH_BASE", default="https://app.hubspot.com").rstrip("/")

# Qonto
QONTO_API_BASE = env("QONTO_API_BASE", default="https://thirdparty.qonto.com").rstrip("/")
QONTO_STAGING_TOKEN = env("QONTO_STAGING_TOKEN", default="")  # Qonto sandbox only
# The Qonto web app where the seller opens an invoice (the card's "Ouvrir dans Qonto").
QONTO_APP_BASE = env("QONTO_APP_BASE", default="https://app.qonto.com").rstrip("/")
# Finalize from the card: how often the worker asks Qonto whether the PDF is made (~10 s after [doc]).
QONTO_PDF_POLL_S = env.float("QONTO_PDF_POLL_S", default=10.0)

# Stripe
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_PRICE_MONTHLY = env("STRIPE_PRICE_MONTHLY", default="")
STRIPE_PRICE_ANNUAL = env("STRIPE_PRICE_ANNUAL", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com").rstrip("/")
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)

# Outbound budgets (connector.ratelimit), shared by every worker through Redis.
HUBSPOT_RATE_LIMIT_PER_10S = env.int("HUBSPOT_RATE_LIMIT_PER_10S", default=100)
QONTO_RATE_LIMIT_PER_10S = env.int("QONTO_RATE_LIMIT_PER_10S", default=800)
# The card keeps each deal's HubSpot reads this long (our own writes and Refresh clear it).
CARD_SNAPSHOT_TTL_S = env.int("CARD_SNAPSHOT_TTL_S", default=30)

# Outbound HTTP (connector.http): every call has both timeouts.
HTTP_CONNECT_TIMEOUT = env.float("HTTP_CONNECT_TIMEOUT", default=5.0)
HTTP_READ_TIMEOUT = env.float("HTTP_READ_TIMEOUT", default=20.0)

# The lock one invoice's creation holds (connector.invoices.submit): renewed while the worker
# lives, so this is only how long a dead worker's lock blocks the next try. Keep it well above
# HTTP_CONNECT_TIMEOUT + HTTP_READ_TIMEOUT: it is reset to this value right before the POST.
INVOICE_LOCK_TIMEOUT_S = env.int("INVOICE_LOCK_TIMEOUT_S", default=180)

# --- Celery -------------------------------------------------------------------------------------
# With REDIS_URL unset, the broker is kombu's filesystem transport under var/: worker, beat and web
# are still separate real processes, and nothing else has to be installed.
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {"visibility_timeout": 3600}
    if REDIS_URL
    else {
        "data_folder_in": str(VAR_DIR / "broker"),
        "data_folder_out": str(VAR_DIR / "broker"),
        "processed_folder": str(VAR_DIR / "broker-processed"),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_TASK_ACKS_LATE = False  # opted in per task, only where the task is idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The sync schedule: a cron-like "*/15 * * * *" (minute hour day month weekday).
SYNC_SCHEDULE = env("SYNC_SCHEDULE", default="*/15 * * * *")
SYNC_FULL_SCHEDULE = env("SYNC_FULL_SCHEDULE", default="30 3 * * *")  # daily reconciliation (UTC)
# How often an incremental sync compares our drafts with Qonto's (a deleted draft leaves no event).
SYNC_DRAFT_CHECK_MINUTES = env.int("SYNC_DRAFT_CHECK_MINUTES", default=30)


def _crontab(expr: str) -> object:
    """A 5-field cron expression as a Celery schedule (fails at boot on a malformed value)."""
    from celery.schedules import crontab

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression needs 5 fields, got {expr!r}")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
    )


CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "heartbeat": {"task": "connector.tasks.heartbeat_task", "schedule": 60.0},
    # Invoices whose task was lost (Redis restart, dead worker) are queued again after 10 minutes.
    "invoices-requeue-stuck": {"task": "connector.tasks.invoices_requeue_stuck_task", "schedule": 300.0},
    # The same for automatic invoice requests (workflow action, stage rule).
    "automation-requeue-stuck": {
        "task": "connector.tasks.automation_runs_requeue_stuck_task",
        "schedule": 300.0,
    },
    "sync-incremental": {"task": "connector.tasks.sync_fanout_task", "schedule": _crontab(SYNC_SCHEDULE)},
    "sync-full": {
        "task": "connector.tasks.sync_fanout_task",
        "schedule": _crontab(SYNC_FULL_SCHEDULE),
        "kwargs": {"full": True},
    },
}

# --- REST framework -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Qonto Connector card API",
    "DESCRIPTION": "The API the HubSpot deal card calls (see spec/card-api.md).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # One name for the VAT modes wherever they appear (request, card state, invoice).
    "ENUM_NAME_OVERRIDES": {
        "VatModeEnum": ["standard", "reverse_charge"],
    },
}

# --- Logging ------------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=False)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "secrets": {"()": "connector.logging.SecretMaskingFilter"},
        "context": {"()": "connector.logging.ContextFilter"},
    },
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(tenant)s] %(message)s"},
        "json": {"()": "connector.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_JSON else "text",
            "filters": ["context", "secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}
