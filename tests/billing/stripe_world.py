"""Helpers for billing tests: the Stripe simulator's control API, signing in, subscribing, signing."""

from __future__ import annotations

import json
import time
from importlib import import_module
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings as django_settings
from django.test import Client, RequestFactory

from billing.models import Subscription
from connector.tenancy import tenant_login
from sandbox.testing import RunningSandbox

WEBHOOK_SECRET = "whsec_sandbox_secret"
SECRET_KEY = "sk_test_sandbox"


class StripeWorld:
    """The simulator's control API plus helpers for the assertions billing tests make."""

    def __init__(self, running: RunningSandbox) -> None:
        self.running = running
        self.sandbox = running.sandbox
        self.sim = running.provider("stripe")

    def flush(self, timeout: float = 15.0) -> None:
        assert self.sim.flush(timeout), "webhooks were not all delivered in time"

    def requests(self, method: str | None = None, route: str | None = None) -> list[Any]:
        return [
            e
            for e in self.sandbox.log.entries("stripe")
            if (method is None or e.method == method) and (route is None or e.route == route)
        ]

    def deliveries(self, **match: Any) -> list[dict[str, Any]]:
        return [d for d in self.sim.deliveries() if all(d.get(k) == v for k, v in match.items())]

    def session_id_from(self, url: str) -> str:
        path = urlsplit(url).path
        assert path.startswith("/stripe/checkout/cs_"), url
        return path.rsplit("/", 1)[1]


def login(client: Client, tenant: Any) -> str:
    """Sign ``client`` in to ``tenant`` the way the product does (``tenant_login``)."""
    engine = import_module(django_settings.SESSION_ENGINE)
    request = RequestFactory().get("/")
    request.session = engine.SessionStore()
    tenant_login(request, tenant=tenant, user_email="admin@example.fr")
    request.session.save()
    key = request.session.session_key
    assert key
    client.cookies[django_settings.SESSION_COOKIE_NAME] = key
    return key


def start_checkout(client: Client, world: StripeWorld, plan: str = "monthly") -> str:
    """Plan page → POST → 303 to the simulator's hosted Checkout. Returns the session id."""
    page = client.get("/billing/plans")
    assert page.status_code == 200
    response = client.post("/billing/plans", {"plan": plan, "attempt": page.context["attempt"]})
    assert response.status_code == 303, response.content.decode()[:2000]
    return world.session_id_from(response["Location"])


def subscribe(client: Client, world: StripeWorld, tenant: Any, plan: str = "monthly") -> Subscription:
    """A tenant with a paid subscription, all its webhooks processed."""
    session_id = start_checkout(client, world, plan)
    world.sim.complete_checkout(session_id, email="compta@client.fr", name="Client SAS")
    world.flush()
    row = Subscription.objects.get(tenant=tenant)
    assert row.status == "active", row.status
    return row


def signed(
    payload: dict[str, Any] | str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None
) -> tuple[str, str]:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=timestamp if timestamp is not None else int(time.time())
    )
    return body, header
