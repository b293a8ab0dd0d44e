"""HubSpotClient: Bearer token, error mapping and call counting, against the simulator."""

from __future__ import annotations

import time

import pytest
import requests

from connector.exceptions import HubSpotPermanentError, HubSpotRetryableError
from hubspot_app.client import (
    HubSpotClient,
    HubSpotConflictError,
    HubSpotForbiddenError,
    HubSpotNotFoundError,
    HubSpotRateLimitedError,
    HubSpotValidationError,
    rate_limit_wait,
)
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import (
    add_fault,
    hubspot,
    install_in_simulator,
)

pytestmark = pytest.mark.django_db


def test_bearer_token_and_call_count(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    client = HubSpotClient(tenant)
    names = {p["name"] for p in client.list_company_properties()}
    assert {"name", "siret"} <= names
    assert client.calls == 1
    call = hubspot(sandbox).calls(demo.PORTAL_ID, path_contains="/crm/properties/2026-03/companies")[-1]
    assert call.status == 200
    assert call.headers["Authorization"] == "<redacted>"  # the simulator saw one and redacted it


def test_rate_limited_429_is_retryable_with_retry_after(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    sandbox.sandbox.config.hubspot_rate_limit = 1
    try:
        client = HubSpotClient(tenant)
        client.list_properties("deals")
        with pytest.raises(HubSpotRateLimitedError) as caught:
            client.list_properties("deals")
    finally:
        sandbox.sandbox.config.hubspot_rate_limit = 110
    assert caught.value.retryable
    assert caught.value.status_code == 429
    assert caught.value.retry_after == 10.0  # X-HubSpot-RateLimit-Interval-Milliseconds: 10000
    assert caught.value.extra["policy"] == "TEN_SECONDLY_ROLLING"


def test_rate_limit_wait_from_policy_and_header() -> None:
    response = requests.Response()
    response.status_code = 429
    assert rate_limit_wait(response, {"policy": "SECONDLY"}) == 1.0
    response.headers["Retry-After"] = "3"
    assert rate_limit_wait(response, {}) == 3.0


def test_5xx_is_retryable(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    add_fault(sandbox, provider="hubspot", status=500, path="/crm/properties/2026-03/deals/groups", count=1)
    with pytest.raises(HubSpotRetryableError) as caught:
        HubSpotClient(tenant).create_property_group("deals", {"name": "x_group", "label": "X"})
    assert caught.value.status_code == 500


def test_a_token_echoed_in_an_error_is_masked_before_the_message_is_cut(sandbox, caplog) -> None:
    # HubSpot's message is cut at 300 characters: cut first, the token straddling the cut left a
    # prefix in the log line and the error that no mask matched any more.
    tenant = install_in_simulator(sandbox)
    token = HubSpotInstallation.objects.get(tenant=tenant).access_token
    message = f"{'x' * 250} upstream refused {token}"
    add_fault(sandbox, provider="hubspot", status=502, path="/crm/properties/2026-03/deals/groups", count=1,
              body={"status": "error", "category": "BAD_GATEWAY", "message": message})  # fmt: skip
    with pytest.raises(HubSpotRetryableError) as caught:
        HubSpotClient(tenant).create_property_group("deals", {"name": "x_group", "label": "X"})
    for text in (str(caught.value), caplog.text):
        assert "[masked]" in text
        assert token[:20] not in text


def test_unreachable_and_timeout_are_retryable(sandbox, settings) -> None:
    tenant = install_in_simulator(sandbox)
    with pytest.raises(HubSpotRetryableError) as caught:
        HubSpotClient(tenant, base_url="http://127.0.0.1:9").list_properties("deals")
    assert caught.value.code == "hubspot_unreachable"
    add_fault(
        sandbox,
        provider="hubspot",
        kind="latency",
        delay_ms=1500,
        path="/crm/properties/2026-03/deals/groups",
    )
    settings.HTTP_READ_TIMEOUT = 0.3
    with pytest.raises(HubSpotRetryableError) as caught:
        HubSpotClient(tenant).create_property_group("deals", {"name": "slow", "label": "Slow"})
    assert caught.value.code == "hubspot_timeout"
    # Let the simulator finish the slow request, so it cannot land in the next test's log.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(
        e.path.endswith("/groups") for e in sandbox.sandbox.log.entries("hubspot")
    ):
        time.sleep(0.05)


def test_permanent_errors_carry_code_category_and_message(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    client = HubSpotClient(tenant)
    with pytest.raises(HubSpotNotFoundError) as not_found:
        client.request("GET", "/crm/properties/2026-03/deals/no_such_property")
    assert not_found.value.code == "hubspot_not_found"
    assert not_found.value.extra["category"] == "OBJECT_NOT_FOUND"
    assert "no_such_property" in not_found.value.extra["message"]

    client.create_property_group("deals", {"name": "dup_group", "label": "Dup"})
    with pytest.raises(HubSpotConflictError) as conflict:
        client.create_property_group("deals", {"name": "dup_group", "label": "Dup"})
    assert conflict.value.extra["category"] == "CONFLICT"

    with pytest.raises(HubSpotValidationError) as invalid:
        client.create_property("deals", {"name": "bad", "label": "Bad", "type": "nope", "fieldType": "text"})
    assert invalid.value.status_code == 400
    assert invalid.value.extra["category"] == "VALIDATION_ERROR"
    assert isinstance(invalid.value, HubSpotPermanentError)
    assert not invalid.value.retryable


def test_missing_scopes_is_a_permanent_403(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    # Re-install with only the oauth scope: the properties API answers 403 MISSING_SCOPES.
    access, refresh = hubspot(sandbox).install(demo.PORTAL_ID, scopes=["oauth"])
    installation = HubSpotInstallation.objects.get(tenant=tenant)
    installation.access_token, installation.refresh_token = access, refresh
    installation.save()
    with pytest.raises(HubSpotForbiddenError) as caught:
        HubSpotClient(tenant).list_properties("deals")
    assert caught.value.code == "hubspot_missing_scopes"
    assert caught.value.extra["category"] == "MISSING_SCOPES"
    assert caught.value.extra["context"]["missingScopes"]


def test_uninstall_call(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    HubSpotClient(tenant).uninstall()
    assert not hubspot(sandbox).is_installed(demo.PORTAL_ID)
    call = hubspot(sandbox).calls(demo.PORTAL_ID, method="DELETE")[-1]
    assert call.path == "/appinstalls/2026-03/external-install"
    assert call.status == 204
