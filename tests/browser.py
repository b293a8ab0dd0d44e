"""Debian's Chromium driven by Playwright, shared by the browser tests (never a downloaded browser)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from sandbox import demo
from sandbox.core import SandboxConfig
from sandbox.testing import RunningSandbox, start_sandbox
from tests.hubspot_app.sandbox_fixtures import point_settings_at_sandbox

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which this
# machine's closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

requires_chromium = pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="Debian's Chromium is not installed"
)
# A browser test's marks: Chromium, and a live server that needs a transactional database.
BROWSER_TEST = [pytest.mark.browser, pytest.mark.django_db(transaction=True), requires_chromium]


@contextmanager
def chromium_page(
    monkeypatch: Any,
    *,
    width: int = 1100,
    height: int = 900,
    timeout_ms: int = 20_000,
    locale: str = "fr-FR",
    timezone_id: str | None = None,
) -> Iterator[Any]:
    """A fresh browser context and page (French by default), closed afterwards.

    ``timezone_id`` sets the browser's time zone (e.g. "UTC", to prove a page shows Paris time).
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the ORM calls a test makes between
    # browser steps are plain synchronous ones, so Django's async-context guard does not apply.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        options: dict[str, Any] = {"locale": locale, "viewport": {"width": width, "height": height}}
        if timezone_id:
            options["timezone_id"] = timezone_id
        context = browser.new_context(**options)
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        try:
            yield page
        finally:
            context.close()
            browser.close()


@contextmanager
def sandbox_for_live_server(live_server: Any, settings: Any) -> Iterator[RunningSandbox]:
    """HubSpot, Qonto and Stripe simulators pointed at ``live_server`` (OAuth redirect, card calls,
    Stripe webhooks), our settings pointed at them; stopped afterwards."""
    running = start_sandbox(
        SandboxConfig(
            port=0,
            connector_base_url=live_server.url,
            hubspot_redirect_uris=(f"{live_server.url}/hubspot/oauth/callback",),
            stripe_webhook_url=f"{live_server.url}/billing/stripe/webhook",
        )
    )
    point_settings_at_sandbox(settings, running, live_server.url)
    cfg = running.sandbox.config
    settings.STRIPE_SECRET_KEY = cfg.stripe_secret_key
    settings.STRIPE_WEBHOOK_SECRET = cfg.stripe_webhook_secret
    settings.STRIPE_PRICE_MONTHLY = demo.STRIPE_PRICE_MONTHLY
    settings.STRIPE_PRICE_ANNUAL = demo.STRIPE_PRICE_ANNUAL
    try:
        yield running
    finally:
        # No webhook of this test may reach a flushed database afterwards.
        running.provider("stripe").flush(10)
        running.stop()
