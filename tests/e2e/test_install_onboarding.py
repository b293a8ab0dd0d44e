"""A new customer installs from HubSpot and connects Qonto, in a real browser (Chromium).

Our site runs on pytest-django's ``live_server`` (a thread of this process, on the test database,
Celery eager), HubSpot and Qonto are the sandbox simulators. Screenshots of each step are saved
under ``test-artifacts/onboarding/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.models import QontoConnection, Tenant
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from sandbox.testing import RunningSandbox
from tests.browser import BROWSER_TEST, chromium_page, sandbox_for_live_server

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "onboarding"

pytestmark = BROWSER_TEST


@pytest.fixture
def browser_page(monkeypatch: Any) -> Iterator[Any]:
    with chromium_page(monkeypatch, height=900, timeout_ms=15000) as page:
        yield page


@pytest.fixture
def live_sandbox(live_server: Any, settings: Any) -> Iterator[RunningSandbox]:
    with sandbox_for_live_server(live_server, settings) as running:
        yield running


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_new_customer_installs_and_connects_qonto(live_server, live_sandbox, browser_page) -> None:
    page = browser_page

    # 1. Our install link sends the admin to HubSpot's consent page.
    page.goto(f"{live_server.url}/hubspot/install")
    page.wait_for_url(re.compile(r".*/hubspot-app/oauth/authorize.*"))
    assert "Qonto Connector" in page.content()
    shot(page, "01-hubspot-consent")

    # 2. Install → back on our site, signed in, on "Connecter Qonto" (step 2 of 4), in French.
    page.click("#install-button")
    page.wait_for_url(f"{live_server.url}/onboarding/qonto")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator('.steps [aria-current="step"]').inner_text().startswith("2 Connecter Qonto")
    page.get_by_role("heading", name="Connectez votre compte Qonto").wait_for()
    shot(page, "02-connect-qonto")
    tenant = Tenant.objects.get(portal_id=demo.PORTAL_ID)
    assert HubSpotInstallation.objects.get(tenant=tenant).setup_completed_at is not None

    # 3. Wrong credentials: one message right above the login and the key, both flagged.
    page.get_by_label("Identifiant de l'organisation (login)").fill(demo.QONTO_LOGIN)
    page.get_by_label("Clé secrète").fill("qsk_this_is_not_the_key")
    page.get_by_role("button", name="Connecter Qonto").click()
    error = page.locator("#form-errors")
    error.wait_for()
    assert "Qonto ne reconnaît pas cet identifiant" in error.inner_text()
    assert page.get_attribute("#id_secret_key", "aria-invalid") == "true"
    assert page.get_attribute("#id_organization_slug", "aria-invalid") == "true"
    assert page.get_by_label("Clé secrète").input_value() == ""  # never sent back
    shot(page, "03-wrong-credentials")

    # 4. The right ones: green confirmation with the organization's legal name, IBAN choice.
    page.get_by_label("Clé secrète").fill(demo.QONTO_SECRET_KEY)
    page.get_by_role("button", name="Connecter Qonto").click()
    confirmation = page.locator(".alert.success").first
    confirmation.wait_for()
    assert demo.QONTO_LEGAL_NAME in confirmation.inner_text()
    assert page.locator('input[name="iban"]').count() == 2
    assert page.locator(f'input[name="iban"][value="{demo.QONTO_IBAN_MAIN}"]').is_checked()
    assert demo.QONTO_SECRET_KEY not in page.content()
    shot(page, "04-qonto-connected")

    connection = QontoConnection.objects.get(tenant=tenant)
    assert connection.legal_name == demo.QONTO_LEGAL_NAME
    assert connection.iban == demo.QONTO_IBAN_MAIN
