"""Branded error pages (FR/EN), the favicon, the header navigation, the one stepper, one vocabulary.

The error pages are checked with ``DEBUG = False`` (the test settings), as production runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from tests.factories import HubSpotInstallationFactory, QontoConnectionFactory, TenantFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def sign_in(client: Client, tenant) -> None:  # type: ignore[no-untyped-def]
    session = client.session
    session["tenant_id"] = tenant.pk
    session["tenant_user_email"] = "admin@example.fr"
    session["tenant_user_id"] = None
    session.save()


# --- 404 / 500 ----------------------------------------------------------------------------------
def test_404_is_branded_and_french(client, settings) -> None:
    assert settings.DEBUG is False
    response = client.get("/no-such-page", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 404
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert "Cette page n'existe pas" in body
    assert 'href="/favicon.svg"' in body
    assert re.search(r'<a class="button" href="/">Retour à l\'accueil</a>', body)
    assert "Not Found" not in body  # not Django's bare page


def test_404_in_english(client) -> None:
    body = client.get("/no-such-page", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in body
    assert "This page does not exist" in body
    assert "Back to the home page" in body


def test_404_of_a_signed_in_user_links_to_the_settings(client) -> None:
    sign_in(client, TenantFactory())
    body = client.get("/no-such-page").content.decode()
    assert 'href="/settings">Retour aux réglages</a>' in body
    assert 'id="site-nav"' in body


@pytest.mark.parametrize(
    ("language", "title"), [("fr", "Une erreur est survenue"), ("en", "Something went wrong")]
)
def test_500_is_branded_in_the_visitors_language(settings, language, title) -> None:
    settings.ROOT_URLCONF = "tests.config.boom_urls"
    client = Client(raise_request_exception=False)
    response = client.get("/boom", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 500
    body = response.content.decode()
    assert f'<html lang="{language}">' in body
    assert title in body
    assert 'href="/"' in body
    assert "Server Error (500)" not in body  # Django's bare page
    assert "csrfmiddlewaretoken" not in body  # rendered without a request: no form on it
    assert re.search(r"<code>[0-9a-f]{32}</code>", body)  # the request id, to quote to support


# --- favicon --------------------------------------------------------------------------------------
def test_favicon_is_served_by_the_app(client) -> None:
    response = client.get("/favicon.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert "max-age" in response["Cache-Control"]
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/favicon.svg"
    assert '<link rel="icon" href="/favicon.svg"' in client.get("/").content.decode()


# --- header navigation ----------------------------------------------------------------------------
def test_no_account_navigation_for_visitors(client) -> None:
    assert 'id="site-nav"' not in client.get("/").content.decode()


@pytest.mark.parametrize("url", ["/settings", "/billing/", "/billing/plans", "/onboarding/qonto", "/"])
def test_account_navigation_on_signed_in_pages(client, url, settings) -> None:
    settings.HUBSPOT_API_BASE = "http://127.0.0.1:9"  # HubSpot down: the pages still render
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    tenant = TenantFactory()
    HubSpotInstallationFactory(tenant=tenant)
    QontoConnectionFactory(tenant=tenant)
    sign_in(client, tenant)
    body = client.get(url).content.decode()
    nav = re.search(r'<nav class="site-nav" id="site-nav".*?</nav>', body, re.S)
    assert nav is not None, url
    assert 'href="/settings"' in nav.group(0)
    assert 'href="/billing/"' in nav.group(0)
    assert 'action="/signout"' in nav.group(0)
    assert body.count('action="/signout"') == 1  # one way out, in the header


# --- one stepper, one vocabulary ------------------------------------------------------------------
def _templates() -> list[Path]:
    return [
        p
        for p in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "billing" / "templates").rglob("*.html")]
        if "admin" not in p.parts
    ]


def test_one_stepper_partial() -> None:
    users = [p.name for p in _templates() if "_steps.html" in p.read_text()]
    assert sorted(users) == ["history.html", "oauth_error.html", "plans.html", "qonto.html", "return.html"]
    assert not (ROOT / "billing/templates/billing/_steps.html").exists()
    assert not (ROOT / "templates/onboarding/_steps.html").exists()
    for path in _templates():
        assert 'class="steps"' not in path.read_text() or path.name == "_steps.html", path


_FRENCH_STRINGS = re.compile(
    r'\{%\s*translate\s+"([^"]+)"|\{%\s*blocktranslate[^%]*%\}(.*?)\{%\s*endblocktranslate', re.S
)


def test_french_pages_say_transaction_and_offre() -> None:
    """HubSpot's French interface calls deals "transactions"; our plans are "offres"."""
    found = []
    for path in _templates():
        for match in _FRENCH_STRINGS.finditer(path.read_text()):
            text = match.group(1) or match.group(2)
            if re.search(r"\bdeals?\b|\bplans?\b", text, re.I):
                found.append(f"{path.name}: {text.strip()[:80]}")
    for module in (
        "connector/onboarding/forms.py",
        "connector/automation/messages.py",
        "hubspot_app/views.py",
    ):
        source = (ROOT / module).read_text()
        for match in re.finditer(r'(?:\b_|gettext|gettext_lazy)\(\s*((?:"[^"]*"\s*)+)\)', source):
            text = "".join(re.findall(r'"([^"]*)"', match.group(1)))
            if re.search(r"\bdeals?\b|\bun plan\b|\bplans?\b", text):
                found.append(f"{module}: {text[:80]}")
    assert found == []
