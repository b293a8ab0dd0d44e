"""Secrets after a whole real flow (OAuth install, Qonto onboarding, token refresh, invoice with a
retry, write-back, Stripe webhooks): not in any database column, not in any log line, not in the
admin."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from billing.models import Subscription
from connector.logging import ContextFilter, JsonFormatter, SecretMaskingFilter
from connector.models import Invoice, QontoConnection, Tenant
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import consent
from tests.invoice_world import InvoiceWorld

STRIPE_SECRET_KEY = "sk_test_51SecretsTestKeyNeverLogged0123456789"
STRIPE_WEBHOOK_SECRET = "whsec_secretsTestWebhookSecret0123456789"


@contextmanager
def production_log_output() -> Iterator[io.StringIO]:
    """Every record at DEBUG, through our filters and both formatters, as production prints them."""
    out = io.StringIO()
    handlers = []
    text_format = django_settings.LOGGING["formatters"]["text"]["format"]
    for formatter in (logging.Formatter(text_format), JsonFormatter()):
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        handler.addFilter(ContextFilter())
        handler.addFilter(SecretMaskingFilter())
        handlers.append(handler)
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield out
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(previous)


def _database_text() -> str:
    """Every row of every table as text, and every session decoded."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608 - our own table names
            chunks.extend(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT session_key FROM django_session")
        for (key,) in cursor.fetchall():
            chunks.append(json.dumps(SessionStore(session_key=key).load(), default=str))
    return "\n".join(chunks)


def _signed_webhook(client: Any, event: dict[str, Any], secret: str) -> Any:
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=int(time.time()))
    return client.post(
        "/billing/stripe/webhook", data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


@pytest.mark.django_db
def test_no_secret_in_the_database_the_logs_or_the_admin_after_a_whole_flow(
    client, sandbox, settings, django_capture_on_commit_callbacks, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    settings.STRIPE_SECRET_KEY = STRIPE_SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET
    hub = sandbox.provider("hubspot")
    tokens: set[str] = set()

    with production_log_output() as logs, django_capture_on_commit_callbacks(execute=True):
        # 1. Install through HubSpot's OAuth consent.
        authorize = client.get(reverse("hubspot_install"))["Location"]
        callback = consent(sandbox, authorize)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        assert client.get(callback).status_code == 302
        tenant = Tenant.objects.get(portal_id=demo.PORTAL_ID)
        installation = HubSpotInstallation.objects.get(tenant=tenant)
        tokens |= {installation.access_token, installation.refresh_token}

        # 2. Qonto onboarding through the form (a wrong key first, then the right one), IBAN chosen.
        form = {"form": "qonto", "organization_slug": demo.QONTO_LOGIN, "environment": "production",
                "staging_token": "", "vat_rate": "20", "siret_property": "siret"}  # fmt: skip
        assert (
            client.post("/onboarding/qonto", {**form, "secret_key": "qsk_wrong_key_000"}).status_code == 400
        )
        assert (
            client.post("/onboarding/qonto", {**form, "secret_key": demo.QONTO_SECRET_KEY}).status_code == 302
        )
        client.post("/onboarding/qonto", {"form": "iban", "iban": demo.QONTO_IBAN_MAIN})
        Subscription.objects.create(
            tenant=tenant, stripe_customer_id="cus_secrets", stripe_subscription_id="sub_secrets",
            status="active", plan="monthly", current_period_end=timezone.now() + timedelta(days=30),
        )  # fmt: skip
        tenant.refresh_from_db()
        world = InvoiceWorld(sb=sandbox, tenant=tenant, settings=settings)

        # 3. An expired access token (refreshed on the way), a Qonto 500 (retried), then the invoice.
        HubSpotInstallation.objects.filter(tenant=tenant).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
        world.fault(provider="qonto", method="POST", path=r"^/v2/client_invoices$", status=500, count=1)
        kwargs = world.signed(
            "POST", f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/invoices",
            body={"kind": "full", "idempotency_key": "secrets-flow-key-1"},
        )  # fmt: skip
        created = client.post(kwargs.pop("path"), **kwargs)
        assert created.status_code == 202, created.content
        installation.refresh_from_db()
        tokens |= {installation.access_token, installation.refresh_token}

        # 4. Stripe: a genuine webhook and a forged one.
        event = {
            "id": "evt_secrets_1", "object": "event", "type": "customer.created", "created": int(time.time()),
            "livemode": False, "data": {"object": {"id": "cus_secrets", "object": "customer"}},
        }  # fmt: skip
        assert _signed_webhook(client, event, STRIPE_WEBHOOK_SECRET).status_code == 200
        assert (
            _signed_webhook(client, {**event, "id": "evt_forged"}, "whsec_forged_0000000000").status_code
            == 400
        )

    invoice = Invoice.objects.get(pk=created.json()["invoice"]["id"])
    assert invoice.status == Invoice.Status.DRAFT
    assert len(tokens) >= 3  # the refresh gave a new access token: both generations are checked
    assert hub.notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID)

    secrets = {
        "Qonto secret key": demo.QONTO_SECRET_KEY,
        "HubSpot client secret": settings.HUBSPOT_CLIENT_SECRET,
        "Stripe secret key": STRIPE_SECRET_KEY,
        "Stripe webhook secret": STRIPE_WEBHOOK_SECRET,
        "OAuth code": code,
        "field encryption key": settings.FIELD_ENCRYPTION_KEY[0],
        "Django SECRET_KEY": settings.SECRET_KEY,
        **{f"HubSpot token {t[:6]}…": t for t in tokens},
    }
    output = logs.getvalue()
    assert len(output.splitlines()) > 30, "the flow logged almost nothing: is the capture working?"
    database = _database_text()
    assert QontoConnection.objects.get(tenant=tenant).secret_key == demo.QONTO_SECRET_KEY  # decrypts fine
    for name, value in secrets.items():
        assert len(value or "") >= 8, name
        assert value not in output, f"{name} appears in the logs"
        assert value not in database, f"{name} is stored in plaintext"

    # The admin never renders one either.
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    client.force_login(admin)
    connection_pk = QontoConnection.objects.get(tenant=tenant).pk
    pages = [
        "/admin/connector/qontoconnection/",
        f"/admin/connector/qontoconnection/{connection_pk}/change/",
        "/admin/hubspot_app/hubspotinstallation/",
        f"/admin/hubspot_app/hubspotinstallation/{installation.pk}/change/",
        f"/admin/connector/tenant/{tenant.pk}/change/",
        f"/admin/connector/invoice/{invoice.pk}/change/",
        "/admin/billing/stripeevent/",
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        text = response.content.decode()
        for name, value in secrets.items():
            assert value not in text, f"{name} shown on {page}"
            assert value[:12] not in text or name == "field encryption key", f"a prefix of {name} on {page}"
