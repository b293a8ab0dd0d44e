"""Issue 12, onboarding and account pages, walked in Chromium (Debian's, never a download).

Install from HubSpot (simulator) → Connect Qonto: the SIRET property already chosen, a refused
login + key flagged on both fields, a VAT "20 %" accepted and the verified key kept while another
field is corrected → the one stepper on every step → a paid offer → "Ouvrir HubSpot" → the header
navigation → every signed-in page at 390 px without sideways scrolling → branded 404 and 500 pages
in French and English → the favicon. Screenshots: ``test-artifacts/pages/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.models import QontoConnection, Tenant
from sandbox import demo
from sandbox.testing import RunningSandbox
from tests.browser import BROWSER_TEST, chromium_page, sandbox_for_live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "pages"
PHONE = {"width": 390, "height": 844}

pytestmark = BROWSER_TEST


@pytest.fixture
def world(live_server: Any, settings: Any) -> Iterator[RunningSandbox]:
    """HubSpot, Qonto and Stripe simulators pointed at ``live_server``."""
    with sandbox_for_live_server(live_server, settings) as running:
        yield running


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def current_step(page: Any) -> str:
    return str(page.locator('#steps [aria-current="step"]').inner_text())


def steps(page: Any) -> list[str]:
    return [s.strip() for s in page.locator("#steps li").all_inner_texts()]


def no_sideways_scroll(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def test_onboarding_and_account_pages(
    live_server: Any, world: RunningSandbox, page: Any, settings: Any
) -> None:
    base = live_server.url

    # Install → Connect Qonto, step 2 of the one four-step stepper.
    page.goto(f"{base}/hubspot/install")
    page.click("#install-button")
    page.wait_for_url(f"{base}/onboarding/qonto")
    assert current_step(page).startswith("2 Connecter Qonto")
    assert [s.split(" ✓")[0].replace("(terminé)", "").strip() for s in steps(page)] == [
        "1 Installer HubSpot",
        "2 Connecter Qonto",
        "3 Choisir une offre",
        "4 Utiliser la carte",
    ]

    # The SIRET property preselected: the demo portal's companies keep their SIRETs in "siret".
    assert page.locator("#id_siret_property").input_value() == "siret"
    assert "Présélectionnée" in page.inner_text("#id_siret_property_helptext")
    shot(page, "01-connect-qonto-siret-preselected")

    # A refused login + key pair: one message, both fields flagged and pointing at it.
    page.get_by_label("Identifiant de l'organisation (login)").fill("no-such-company-0000")
    page.get_by_label("Clé secrète").fill(demo.QONTO_SECRET_KEY)
    page.get_by_role("button", name="Connecter Qonto").click()
    page.locator("#form-errors").wait_for()
    assert "Qonto ne reconnaît pas cet identifiant" in page.inner_text("#form-errors")
    for field in ("#id_organization_slug", "#id_secret_key"):
        assert page.get_attribute(field, "aria-invalid") == "true"
        assert "form-errors" in (page.get_attribute(field, "aria-describedby") or "")
    assert page.get_by_label("Clé secrète").input_value() == ""
    shot(page, "02-login-and-key-refused")

    # The right pair with a VAT Qonto Connector cannot read: the key is verified and kept.
    page.get_by_label("Identifiant de l'organisation (login)").fill(demo.QONTO_LOGIN)
    page.get_by_label("Clé secrète").fill(demo.QONTO_SECRET_KEY)
    page.get_by_label("Taux de TVA par défaut (%)").fill("vingt")
    page.get_by_role("button", name="Connecter Qonto").click()
    page.locator("#id_vat_rate_error").wait_for()
    assert "en pour cent" in page.inner_text("#id_vat_rate_error")
    assert "Clé vérifiée par Qonto et gardée" in page.inner_text("#id_secret_key_helptext")
    assert page.get_by_label("Clé secrète").input_value() == ""
    assert demo.QONTO_SECRET_KEY not in page.content()
    shot(page, "03-key-kept-vat-to-fix")

    # "20 %" as people type it, the key left empty: connected.
    page.get_by_label("Taux de TVA par défaut (%)").fill("20 %")
    page.get_by_role("button", name="Connecter Qonto").click()
    page.locator(".alert.success").first.wait_for()
    tenant = Tenant.objects.get(portal_id=demo.PORTAL_ID)
    connection = QontoConnection.objects.get(tenant=tenant)
    assert str(connection.vat_rate) == "20.00"
    tenant.refresh_from_db()
    assert tenant.siret_property == "siret"
    assert demo.QONTO_SECRET_KEY not in page.content()
    shot(page, "04-qonto-connected")

    # The header navigation is on every signed-in page.
    nav = page.locator("#site-nav")
    assert nav.get_by_role("link", name="Réglages").is_visible()
    assert nav.get_by_role("link", name="Abonnement").is_visible()
    assert nav.get_by_role("button", name="Se déconnecter").is_visible()

    # Step 3, the same stepper, "offre" and not "plan".
    page.get_by_role("button", name="Continuer").click()
    page.wait_for_url(f"{base}/billing/plans")
    assert current_step(page).startswith("3 Choisir une offre")
    assert page.locator("#site-nav").is_visible()
    assert " plan" not in page.inner_text("main").lower()
    shot(page, "05-plans")

    # Pay; once active, the main button opens HubSpot (on the portal's deals).
    page.click("#choose-monthly")
    page.wait_for_selector("#pay-button")
    page.click("#pay-button")
    page.wait_for_url(f"{base}/billing/return?session_id=*")
    page.wait_for_selector("#billing-activated", state="visible")
    assert current_step(page).startswith("4 Utiliser la carte")
    button = page.locator("#open-hubspot")
    assert button.get_attribute("class") == "button"
    assert button.get_attribute("href") == (
        f"{settings.HUBSPOT_AUTH_BASE}/contacts/{demo.PORTAL_ID}/objects/0-3/views/all/list"
    )
    shot(page, "06-activated-open-hubspot")
    with page.context.expect_page() as opened:
        button.click()
    hubspot = opened.value
    hubspot.wait_for_load_state()
    assert "Projet" in hubspot.content() or demo.DEAL_COMPLETE_ID in hubspot.content()
    hubspot.close()

    # The header links lead where they say.
    page.locator("#site-nav").get_by_role("link", name="Réglages").click()
    page.wait_for_url(f"{base}/settings")
    assert page.locator('#site-nav a[aria-current="page"]').inner_text() == "Réglages"
    page.locator("#site-nav").get_by_role("link", name="Abonnement").click()
    page.wait_for_url(f"{base}/billing/")
    assert page.locator('#site-nav a[aria-current="page"]').inner_text() == "Abonnement"

    # 390 px wide (a phone): no signed-in page scrolls sideways.
    page.set_viewport_size(PHONE)
    for path, name in [
        ("/settings", "07-settings-390px"),
        ("/billing/", "08-subscription-390px"),
        ("/billing/plans", "09-plans-390px"),
        ("/onboarding/qonto", "10-connect-qonto-390px"),
        ("/onboarding/history", "11-history-390px"),
        ("/settings/disconnect", "12-disconnect-390px"),
    ]:
        page.goto(f"{base}{path}")
        assert page.locator("#site-nav").is_visible(), path
        width = no_sideways_scroll(page)
        if path == "/settings":
            shot(page, name)
        assert width <= PHONE["width"], f"{path} is {width}px wide"
    page.set_viewport_size({"width": 1100, "height": 900})

    # Branded 404, French; a way back.
    page.goto(f"{base}/no-such-page")
    assert page.get_by_role("heading", name="Cette page n'existe pas").is_visible()
    assert page.get_by_role("link", name="Retour aux réglages").is_visible()
    assert page.locator('link[rel="icon"]').get_attribute("href") == "/favicon.svg"
    shot(page, "13-404-fr")

    # Sign out from the header: no account navigation any more.
    page.locator("#site-nav").get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url(f"{base}/")
    assert page.locator("#site-nav").count() == 0

    # The favicon is served by the app itself (no static file server in production).
    icon = page.request.get(f"{base}/favicon.svg")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/svg+xml"


def test_error_pages_in_english_and_french(live_server: Any, settings: Any, monkeypatch: Any) -> None:
    settings.ROOT_URLCONF = "tests.config.boom_urls"  # the site plus a view that fails
    with chromium_page(monkeypatch, locale="en-US") as page:
        page.goto(f"{live_server.url}/no-such-page")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.get_by_role("heading", name="This page does not exist").is_visible()
        assert page.get_by_role("link", name="Back to the home page").is_visible()
        shot(page, "14-404-en")
        response = page.goto(f"{live_server.url}/boom")
        assert response is not None
        assert response.status == 500
        assert page.get_by_role("heading", name="Something went wrong on our side").is_visible()
        shot(page, "15-500-en")
        page.set_viewport_size(PHONE)
        assert no_sideways_scroll(page) <= PHONE["width"]
    with chromium_page(monkeypatch, locale="fr-FR") as page:
        response = page.goto(f"{live_server.url}/boom")
        assert response is not None
        assert response.status == 500
        assert page.get_by_role("heading", name="Une erreur est survenue de notre côté").is_visible()
        page.get_by_role("link", name="Retour à l'accueil").click()
        page.wait_for_url(f"{live_server.url}/")
        shot(page, "16-500-fr-back-home")
