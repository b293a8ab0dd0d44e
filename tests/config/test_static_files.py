"""The admin's CSS and JS are served by the app itself (WhiteNoise): production runs gunicorn
without a static file server, so without this the support admin would load unstyled."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_production_serves_the_collected_hashed_admin_css_with_far_future_caching(tmp_path: Path) -> None:
    with override_settings(
        STATIC_ROOT=tmp_path,
        STORAGES=PRODUCTION_STORAGES,
        WHITENOISE_USE_FINDERS=False,
        WHITENOISE_AUTOREFRESH=False,
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        from django.templatetags.static import static

        url = static("admin/css/base.css")
        assert url.startswith("/static/admin/css/base.")
        assert url != "/static/admin/css/base.css"
        response = Client().get(url, HTTP_ACCEPT_ENCODING="gzip")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/css")
        assert "immutable" in response["Cache-Control"]
        assert response["Content-Encoding"] == "gzip"
        assert Client().get("/static/admin/css/nothing-here.css").status_code == 404


@pytest.mark.django_db
def test_outside_production_the_admin_css_is_served_without_collectstatic() -> None:
    response = Client().get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"body" in b"".join(response.streaming_content)


def test_production_settings_use_the_hashed_compressed_storage() -> None:
    text = (Path(__file__).resolve().parents[2] / "config" / "settings" / "production.py").read_text()
    assert "whitenoise.storage.CompressedManifestStaticFilesStorage" in text
    procfile = (Path(__file__).resolve().parents[2] / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert web.index("collectstatic --noinput") < web.index("gunicorn")
