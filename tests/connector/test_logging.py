"""The log filter masks secrets wherever they appear: message, arguments, extra, exceptions."""

from __future__ import annotations

import json
import logging

import pytest

from connector.logging import (
    MASK,
    ContextFilter,
    JsonFormatter,
    SecretMaskingFilter,
    log_context,
    mask_text,
    register_secret,
)


def _record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, msg, args, None)
    record.__dict__.update(extra)
    SecretMaskingFilter().filter(record)
    return record


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("calling Qonto with Authorization: acme-sas-3066:qsk_supersecret", "qsk_supersecret"),
        ('headers={"Authorization": "Bearer CJjk8-abcdefghijklmnop"}', "CJjk8-abcdefghijklmnop"),
        ("stripe key sk_live_51Habcdefghijk in use", "sk_live_51Habcdefghijk"),
        ("webhook secret whsec_abcdef123456", "whsec_abcdef123456"),
        ("refresh na1-1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a4b failed", "na1-1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a4b"),
        ("POST /oauth/v1/token client_secret=abc123def456&code=xyz", "abc123def456"),
    ],
)
def test_known_secret_shapes_are_masked_in_messages(text: str, secret: str) -> None:
    record = _record(text)
    assert secret not in record.getMessage()
    assert MASK in record.getMessage()


def test_secret_passed_as_argument_is_masked() -> None:
    register_secret("tenant-qonto-key-987654")
    record = _record("connecting with %s", "tenant-qonto-key-987654")
    assert record.getMessage() == f"connecting with {MASK}"


def test_sensitive_extra_fields_are_masked() -> None:
    record = _record(
        "token refreshed",
        access_token="abcdef-very-secret",
        context={
            "refresh_token": "na1-zzzz",
            "portal": 42,
            "headers": {"Authorization": "Bearer xyz12345678"},
        },
        portal_id=42,
    )
    assert record.access_token == MASK  # type: ignore[attr-defined]
    assert record.context["refresh_token"] == MASK  # type: ignore[attr-defined]
    assert record.context["headers"]["Authorization"] == MASK  # type: ignore[attr-defined]
    assert record.context["portal"] == 42  # type: ignore[attr-defined]
    assert record.portal_id == 42  # type: ignore[attr-defined]


def test_exception_text_is_masked() -> None:
    register_secret("secret-in-exception-123")
    try:
        raise RuntimeError("failed with secret-in-exception-123")
    except RuntimeError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    SecretMaskingFilter().filter(record)
    assert "secret-in-exception-123" not in (record.exc_text or "")
    assert MASK in (record.exc_text or "")


def test_plain_text_is_untouched() -> None:
    assert mask_text("invoice F-2026-0001 created for deal 51234567890") == (
        "invoice F-2026-0001 created for deal 51234567890"
    )


def test_json_formatter_carries_request_id_and_tenant() -> None:
    record = logging.LogRecord("connector", logging.INFO, __file__, 1, "synced %d invoices", (3,), None)
    with log_context(tenant=12345678, request_id="req-abcdef12"):
        ContextFilter().filter(record)
    SecretMaskingFilter().filter(record)
    data = json.loads(JsonFormatter().format(record))
    assert data["message"] == "synced 3 invoices"
    assert data["tenant"] == "12345678"
    assert data["request_id"] == "req-abcdef12"
    assert data["level"] == "INFO"


def test_configured_logging_masks_through_the_real_handler(caplog) -> None:  # type: ignore[no-untyped-def]
    # The project's LOGGING attaches the filter to the console handler; check it is configured.
    from django.conf import settings

    assert "secrets" in settings.LOGGING["handlers"]["console"]["filters"]
    assert settings.LOGGING["filters"]["secrets"]["()"] == "connector.logging.SecretMaskingFilter"


@pytest.mark.django_db
def test_lines_of_a_signed_in_request_carry_the_tenant(rf, tenant) -> None:  # type: ignore[no-untyped-def]
    from django.http import HttpResponse

    from connector.logging import tenant_var
    from connector.tenancy import SESSION_TENANT_ID, tenant_required

    seen = {}

    @tenant_required
    def view(request):  # type: ignore[no-untyped-def]
        seen["tenant"] = tenant_var.get()
        return HttpResponse()

    request = rf.get("/settings")
    request.session = {SESSION_TENANT_ID: tenant.pk}
    token = tenant_var.set("-")
    try:
        view(request)
    finally:
        tenant_var.reset(token)
    assert seen["tenant"] == str(tenant.portal_id)


def test_hubspot_tokens_are_masked_once_we_hold_them() -> None:
    # HubSpot access tokens have no recognisable shape: before, only a "Bearer …" prefix hid them.
    from hubspot_app.oauth import HubSpotOAuth

    access = "CNbP6bK-MzIXAAEBQAAAQEgAAAAAAAAgAAAAIBAABhgCAAB5IwFWMwoZpx"
    refresh = "eu1-77aa-41bb-8ccd-9dde0f1a2b3c"
    HubSpotOAuth._token_set({"access_token": access, "refresh_token": refresh, "expires_in": 1800})
    record = _record("HubSpot answered for token %s (was %s)", access, refresh)
    assert access not in record.getMessage()
    assert refresh not in record.getMessage()
    assert record.getMessage() == f"HubSpot answered for token {MASK} (was {MASK})"


@pytest.mark.django_db
def test_a_hubspot_token_read_from_the_database_is_masked() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from hubspot_app.models import HubSpotInstallation
    from hubspot_app.tokens import get_access_token
    from tests.factories import TenantFactory

    tenant = TenantFactory()
    HubSpotInstallation.objects.create(
        tenant=tenant, access_token="CKz-stored-token-0123456789abcdef", refresh_token="na1-aaaa-bbbb-cccc",
        expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip
    assert get_access_token(tenant) == "CKz-stored-token-0123456789abcdef"
    assert MASK in _record("token=%s", "CKz-stored-token-0123456789abcdef").getMessage()
    assert "CKz-stored" not in mask_text("oops CKz-stored-token-0123456789abcdef")


def test_the_mask_list_is_bounded_and_keeps_the_latest(monkeypatch: pytest.MonkeyPatch) -> None:
    from collections import OrderedDict

    from connector import logging as ourlogging

    # This test's 2,000 values must not stay registered for the rest of the session.
    monkeypatch.setattr(ourlogging, "_registered", OrderedDict(ourlogging._registered))
    monkeypatch.setattr(ourlogging, "_longest_first", list(ourlogging._longest_first))

    first = "bounded-first-secret-000001"
    register_secret(first)
    for n in range(ourlogging.MAX_REGISTERED + 10):
        register_secret(f"bounded-secret-{n:08d}")
    assert ourlogging.registered_count() == ourlogging.MAX_REGISTERED
    latest = f"bounded-secret-{ourlogging.MAX_REGISTERED + 9:08d}"
    assert mask_text(f"x {latest} y") == f"x {MASK} y"
    assert first in mask_text(f"x {first} y")  # the oldest went first
    register_secret(latest)  # registering again keeps one entry
    assert ourlogging.registered_count() == ourlogging.MAX_REGISTERED
