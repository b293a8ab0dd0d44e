"""Production settings refuse to start without their secrets, and pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROD_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "x" * 20 + "production-like-secret-key-with-enough-entropy-0123456789",
    "FIELD_ENCRYPTION_KEY": "dGVzdC1vbmx5LWZpZWxkLWtleS0wMTIzNDU2Nzg5YWI=",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/qonto_connector",
    "ALLOWED_HOSTS": "connector.example.com",
    "PUBLIC_BASE_URL": "https://connector.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/15",
}


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in PROD_ENV and k != "DJANGO_READ_DOT_ENV_FILE"}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FIELD_ENCRYPTION_KEY", "DATABASE_URL", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_required_variable(missing: str) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = _run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_check_deploy_is_clean_under_production_settings() -> None:
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_security_settings() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_PROXY_SSL_HEADER, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.CSRF_TRUSTED_ORIGINS, s.DEBUG, s.CELERY_BROKER_URL)"
    )
    result = _run(["-c", code], PROD_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "('HTTP_X_FORWARDED_PROTO', 'https') True True True 31536000 "
        "['https://connector.example.com'] False redis://127.0.0.1:6379/15"
    )


def test_i18n_and_time_settings(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.LANGUAGE_CODE == "fr"
    assert [code for code, _ in settings.LANGUAGES] == ["fr", "en"]
    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "Europe/Paris"


def test_local_settings_need_no_server() -> None:
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.local"}
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "filesystem://"]


def test_sentry_is_initialised_only_when_a_dsn_is_set() -> None:
    code = "import django; django.setup(); import sentry_sdk; print(sentry_sdk.get_client().is_active())"
    without = _run(["-c", code], PROD_ENV)
    with_dsn = _run(["-c", code], {**PROD_ENV, "SENTRY_DSN": "https://public@sentry.invalid/1"})
    assert without.stdout.strip() == "False", without.stderr
    assert with_dsn.stdout.strip() == "True", with_dsn.stderr


def test_sentry_events_are_scrubbed() -> None:
    from connector.logging import MASK, mask_value

    event = {
        "request": {"headers": {"Authorization": "Bearer abcdefghijkl"}},
        "extra": {"refresh_token": "na1-x"},
    }
    scrubbed = mask_value(event)
    assert scrubbed["request"]["headers"]["Authorization"] == MASK
    assert scrubbed["extra"]["refresh_token"] == MASK


@pytest.mark.parametrize(
    "url",
    [
        None,  # unset: base.py's http://127.0.0.1:8000 must not leak into production
        "http://connector.example.com",
        "https://127.0.0.1:8000",
        "https://localhost",
        "https://connector.example.com/?x=1",
    ],
)
def test_production_refuses_to_start_without_an_https_public_base_url(url: str | None) -> None:
    env = {k: v for k, v in PROD_ENV.items() if k != "PUBLIC_BASE_URL"}
    if url is not None:
        env["PUBLIC_BASE_URL"] = url
    result = _run(["-c", "import django; django.setup()"], env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "PUBLIC_BASE_URL" in result.stderr


def test_check_deploy_fails_without_an_https_public_base_url() -> None:
    # Production settings cannot even load (above); under any other settings module,
    # `check --deploy` reports it as an error of its own.
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
        "SECRET_KEY": PROD_ENV["SECRET_KEY"],
    }
    result = _run(["manage.py", "check", "--deploy"], env)
    assert result.returncode != 0
    assert "hubspot_app.E001" in result.stderr
    assert "must start with https://" in result.stderr
    prod = _run(
        ["manage.py", "check", "--deploy"], {**PROD_ENV, "PUBLIC_BASE_URL": "http://connector.example.com"}
    )
    assert prod.returncode != 0
    assert "PUBLIC_BASE_URL must start with https://" in prod.stderr


def test_public_base_url_rules() -> None:
    from config.public_url import public_base_url_errors

    assert public_base_url_errors("https://connector.example.fr") == []
    assert public_base_url_errors("https://x.fr/prefix") == []  # a proxy's path prefix is allowed
    assert public_base_url_errors("")
    assert public_base_url_errors("not a url")
    assert any("https://" in e for e in public_base_url_errors("http://x.fr"))
    for local in ("https://10.0.0.5", "https://[::1]:8443", "https://app.localhost", "https://0.0.0.0"):
        assert any("local" in e for e in public_base_url_errors(local)), local
    assert public_base_url_errors("https://user:pw@x.fr")
