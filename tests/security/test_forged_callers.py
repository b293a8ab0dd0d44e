"""Forgeries the other suites do not try yet: Stripe webhooks signed with an empty or downgraded
scheme, OAuth ``state`` values minted for another purpose or absurdly long, settings links reused."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.urls import reverse

from billing.models import StripeEvent
from connector.models import Tenant
from connector.tenancy import SESSION_TENANT_ID
from hubspot_app.settings_access import settings_link_for
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import consent

WEBHOOK = "/billing/stripe/webhook"


def _event() -> str:
    return json.dumps({"id": "evt_forged_1", "object": "event", "type": "customer.created",
                       "created": int(time.time()), "livemode": False,
                       "data": {"object": {"id": "cus_x", "object": "customer"}}})  # fmt: skip


def _header(body: str, secret: str, *, scheme: str = "v1", timestamp: int | None = None) -> str:
    ts = timestamp or int(time.time())
    mac = hmac.new(secret.encode(), f"{ts}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},{scheme}={mac}"


@pytest.mark.django_db
def test_no_webhook_secret_configured_refuses_events_signed_with_an_empty_key(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STRIPE_WEBHOOK_SECRET = ""
    body = _event()
    response = client.post(WEBHOOK, data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=_header(body, ""))  # fmt: skip
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "make_header",
    [
        pytest.param(lambda body: _header(body, "whsec_test_secret", scheme="v0"), id="v0-downgrade"),
        pytest.param(
            lambda body: _header(body, "whsec_test_secret").replace("t=", "t=1"), id="timestamp-swapped"
        ),
        pytest.param(lambda body: "t=,v1=", id="empty-fields"),
        pytest.param(lambda body: "t=1," + "v1=" + "a" * 10_000, id="huge"),
    ],
)  # fmt: skip
def test_more_forged_stripe_signatures_are_refused(client, settings, make_header) -> None:  # type: ignore[no-untyped-def]
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
    body = _event()
    response = client.post(WEBHOOK, data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=make_header(body))  # fmt: skip
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


@pytest.mark.django_db
def test_an_oversized_webhook_is_refused_not_a_500(client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"
    body = json.dumps({"id": "evt_big", "pad": "x" * (2 * 1024 * 1024)})
    response = client.post(WEBHOOK, data=body, content_type="application/json",
                           HTTP_STRIPE_SIGNATURE=_header(body, "whsec_test_secret"))  # fmt: skip
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


# --- OAuth state -----------------------------------------------------------------------------------
def _callback_with_state(client, sandbox, state: str) -> str:  # type: ignore[no-untyped-def]
    callback = consent(sandbox, client.get(reverse("hubspot_install"))["Location"])
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = state
    response = client.get(parts.path, query)
    assert response.status_code == 302
    return parse_qs(urlsplit(response["Location"]).query).get("reason", [""])[0]


@pytest.mark.django_db
def test_a_token_we_signed_for_something_else_is_not_a_state(client, sandbox) -> None:  # type: ignore[no-untyped-def]
    tenant = Tenant.objects.create(portal_id=demo.OTHER_PORTAL_ID)
    link_token = parse_qs(urlsplit(settings_link_for(tenant, user_id=demo.SALES_USER_ID) or "").query)["t"][0]
    assert _callback_with_state(client, sandbox, link_token) == "state_invalid"
    unsalted = signing.dumps("some-nonce")  # our key, default salt
    assert _callback_with_state(client, sandbox, unsalted) == "state_invalid"
    assert not Tenant.objects.filter(portal_id=demo.PORTAL_ID).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["x" * 20_000, "\u202e\u0000é:é", "a:b:c:d", "null", "[]"])
def test_garbage_states_are_refused_cleanly(client, sandbox, state: str) -> None:  # type: ignore[no-untyped-def]
    assert _callback_with_state(client, sandbox, state) in ("state_invalid", "state_unknown")
    assert not Tenant.objects.exists()


@pytest.mark.django_db
def test_a_settings_link_cannot_be_edited_to_open_another_tenant(client) -> None:  # type: ignore[no-untyped-def]
    mine = Tenant.objects.create(portal_id=demo.PORTAL_ID)
    other = Tenant.objects.create(portal_id=demo.OTHER_PORTAL_ID)
    token = parse_qs(urlsplit(settings_link_for(mine, user_id=demo.SALES_USER_ID) or "").query)["t"][0]
    _, rest = token.split(":", 1)  # payload:timestamp:signature
    forged = {"t": other.pk, "p": other.portal_id, "u": demo.SALES_USER_ID, "e": "", "n": "forged-nonce"}
    forged_payload = signing.b64_encode(json.dumps(forged, separators=(",", ":")).encode()).decode()
    response = client.get("/settings/open", {"t": f"{forged_payload}:{rest}"})
    assert response.status_code == 400
    assert SESSION_TENANT_ID not in client.session
    assert client.get("/settings/open", {"t": token}).status_code == 302  # the genuine one opens
    assert client.session[SESSION_TENANT_ID] == mine.pk
