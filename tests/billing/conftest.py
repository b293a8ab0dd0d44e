"""Billing fixtures: the Stripe simulator wired to our live server.

The simulator (sandbox/stripe_sim/) serves the Stripe API our code calls and posts signed
webhooks to ``live_server``'s ``/billing/stripe/webhook``, so every test goes through the real
webhook view, signature check included. Helpers are in ``tests/billing/stripe_world.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.core import SandboxConfig
from sandbox.demo import STRIPE_PRICE_ANNUAL, STRIPE_PRICE_MONTHLY
from sandbox.testing import RunningSandbox, start_sandbox
from tests.billing.stripe_world import SECRET_KEY, WEBHOOK_SECRET, StripeWorld


@pytest.fixture(scope="session")
def running_sandbox(live_server: Any) -> Iterator[RunningSandbox]:
    running = start_sandbox(
        SandboxConfig(
            port=0,
            connector_base_url=live_server.url,
            stripe_webhook_url=f"{live_server.url}/billing/stripe/webhook",
            stripe_secret_key=SECRET_KEY,
            stripe_webhook_secret=WEBHOOK_SECRET,
        )
    )
    yield running
    running.stop()


@pytest.fixture
def stripe_world(
    running_sandbox: RunningSandbox, live_server: Any, settings: Any, transactional_db: Any
) -> Iterator[StripeWorld]:
    running_sandbox.sandbox.reset()
    settings.STRIPE_API_BASE = f"{running_sandbox.url}/stripe"
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_PRICE_MONTHLY = STRIPE_PRICE_MONTHLY
    settings.STRIPE_PRICE_ANNUAL = STRIPE_PRICE_ANNUAL
    settings.PUBLIC_BASE_URL = live_server.url
    settings.BILLING_GRACE_DAYS = 7
    world = StripeWorld(running_sandbox)
    yield world
    # No webhook of this test may reach the next one (or a flushed database).
    world.sim.configure(webhooks_paused=False)
    world.sim.flush(10)
    running_sandbox.sandbox.reset()
