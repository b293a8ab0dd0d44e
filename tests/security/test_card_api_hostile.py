"""Hostile callers of the card API: fuzzing from its OpenAPI schema, huge bodies, replayed and
cross-tenant signatures. Every answer is in the contract (no 500, the error shape on every non-2xx).

The schema fuzz runs ~40 signed requests per operation in ``make test``; ``make soak`` runs 1,500.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.models import Deal, Invoice
from sandbox import demo
from tests.invoice_world import InvoiceWorld, make_operational_tenant
from tests.security.openapi import (
    Operation,
    body_strategy,
    card_api_operations,
    check_contract,
    quote_segment,
    send,
    signed_request,
)

BASE = "/api/hubspot/v1"
DEALS = [demo.DEAL_COMPLETE_ID, demo.DEAL_AMOUNT_ONLY_ID, demo.DEAL_NO_SIRET_ID, demo.DEAL_FOREIGN_ID]
OPERATIONS = card_api_operations()


def _segment() -> st.SearchStrategy[str]:
    return st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s and s not in (".", ".."))


def _mostly(value: Any, other: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``value`` four times in five (so most requests reach the handlers), else ``other``."""
    return st.integers(0, 4).flatmap(lambda n: other if n == 4 else st.just(value))


WELL_FORMED_CREATE = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["full", "deposit", "balance"]),
        "idempotency_key": st.from_regex(r"[A-Za-z0-9_-]{8,80}", fullmatch=True),
    },
    optional={
        "percentage": st.none()
        | st.sampled_from(["10", "33.33", "50", "99", "0", "100", "-5", "1e3", "NaN", "10,5"])
        | st.integers(-1000, 1000)
        | st.floats(allow_nan=True, allow_infinity=True)
    },
).map(lambda body: json.dumps(body).encode())


def request_strategy(op: Operation, portal_id: int, invoice_ids: list[str]) -> st.SearchStrategy[Any]:
    values = {
        "deal_id": st.sampled_from(DEALS)
        | _mostly(demo.DEAL_COMPLETE_ID, st.from_regex(r"[0-9]{1,20}", fullmatch=True) | _segment()),
        "invoice_id": _mostly(invoice_ids[0], st.uuids().map(str) | _segment()),
    }
    query: dict[str, st.SearchStrategy[Any]] = {
        "portalId": _mostly(portal_id, st.integers() | st.text(max_size=12)),
    }
    optional = {
        "userId": st.text(max_size=20),
        "userEmail": st.emails() | st.text(max_size=30),
        "appId": st.text(max_size=10),
        "locale": st.sampled_from(["fr", "en", "en-us", "de"]) | st.text(max_size=10),
        "unexpected": st.text(max_size=20),
    }
    if op.method == "GET":
        body: st.SearchStrategy[bytes] = st.just(b"")
    elif op.id == "invoice_create":
        body = WELL_FORMED_CREATE | WELL_FORMED_CREATE | body_strategy(op.body_schema)
    else:
        body = body_strategy(op.body_schema)
    return st.tuples(
        st.fixed_dictionaries({name: values[name] for name in op.path_params}),
        st.fixed_dictionaries(query, optional=optional),
        body,
    )


def _runner(
    client: Any, op: Operation, portal_id: int, invoice_ids: list[str], examples: int, counts: dict[int, int]
) -> Any:
    @settings(
        max_examples=examples,
        derandomize=examples < 100,  # make test: the same examples on every run; soak: new ones
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(request_strategy(op, portal_id, invoice_ids))
    def run(drawn: tuple[dict[str, str], dict[str, Any], bytes]) -> None:
        path_values, query, body = drawn
        path = op.path
        for name, value in path_values.items():
            path = path.replace("{" + name + "}", quote_segment(value))
        response = send(client, op.method, signed_request(op.method, path, query, body))
        check_contract(op, response)
        counts[response.status_code] = counts.get(response.status_code, 0) + 1

    return run


def _fuzz(client: Any, world: InvoiceWorld, examples: int) -> dict[str, dict[int, int]]:
    # A few real invoices (one per kind of state) so that ids the fuzzer picks reach the handlers.
    deal, _ = Deal.objects.get_or_create(tenant=world.tenant, hubspot_deal_id=demo.DEAL_COMPLETE_ID)
    seed = Invoice.objects.create(
        tenant=world.tenant, deal=deal, hubspot_deal_id=demo.DEAL_COMPLETE_ID, kind=Invoice.Kind.FULL,
        status=Invoice.Status.FAILED, idempotency_key="seed-failed-1", reference="seed-ref-1",
        error_retryable=False, error_code="qonto_validation", error_message="refused",
    )  # fmt: skip
    invoice_ids = [str(seed.pk)]
    seen: dict[str, dict[int, int]] = {}
    for op in OPERATIONS:
        _runner(client, op, world.tenant.portal_id, invoice_ids, examples, seen.setdefault(op.id, {}))()
    return seen


@pytest.fixture
def unthrottled_hubspot(invoice_world: InvoiceWorld, settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The fuzzer tests the contract, not HubSpot's 110 / 10 s budget (tested elsewhere): lift both
    our limiter and the simulator's for its duration."""
    config = invoice_world.sb.sandbox.config
    previous = config.hubspot_rate_limit
    config.hubspot_rate_limit = 1_000_000
    settings.HUBSPOT_RATE_LIMIT_PER_10S = 1_000_000
    yield
    config.hubspot_rate_limit = previous


@pytest.mark.django_db
@pytest.mark.usefixtures("unthrottled_hubspot")
def test_fuzzed_signed_requests_stay_in_the_contract(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    seen = _fuzz(client, invoice_world, examples=40)
    print("\ncard API fuzz (status: count):", json.dumps(seen, sort_keys=True))
    # The fuzzer did reach the handlers, not only the signature check.
    assert any(200 in c for c in seen.values())
    assert any(c.get(400) for c in seen.values())
    assert any(c.get(404) for c in seen.values())
    assert any(code < 300 for code in seen["invoice_create"]), seen["invoice_create"]  # an invoice was made


@pytest.mark.soak
@pytest.mark.django_db
@pytest.mark.usefixtures("unthrottled_hubspot")
def test_fuzzed_signed_requests_stay_in_the_contract_soak(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    seen = _fuzz(client, invoice_world, examples=int(os.environ.get("FUZZ_EXAMPLES", "1500")))
    print("\ncard API fuzz (status: count):", json.dumps(seen, sort_keys=True))


@pytest.mark.django_db
@pytest.mark.parametrize("portal_id", ["²", "①"])
def test_a_portal_id_in_unicode_digits_is_not_a_500(
    client, invoice_world: InvoiceWorld, portal_id: str
) -> None:  # type: ignore[no-untyped-def]
    kwargs = signed_request("GET", f"{BASE}/deals/{demo.DEAL_COMPLETE_ID}/card", {"portalId": portal_id}, b"")
    response = send(client, "GET", kwargs)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_portal"


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1024 * 1024 + 1, 5 * 1024 * 1024])
def test_bodies_over_one_megabyte_are_refused_in_the_error_shape(
    client, invoice_world: InvoiceWorld, size: int
) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"kind": "full", "idempotency_key": "big-body-key-1", "pad": "x" * size}).encode()
    op = next(o for o in OPERATIONS if o.id == "invoice_create")
    path = f"{BASE}/deals/{demo.DEAL_COMPLETE_ID}/invoices"
    query = {"portalId": invoice_world.tenant.portal_id, "locale": "en"}
    response = send(client, "POST", signed_request("POST", path, query, body))
    assert response.status_code == 413
    assert response.json() == {"error": {"code": "payload_too_large", "message": "Request too large."}}
    check_contract(op, response)
    # Unsigned, too: refused for its size, nothing read further, nothing created.
    response = client.post(path + "?portalId=1", data=body, content_type="application/json")
    assert response.status_code == 413
    assert Invoice.objects.count() == 0


@pytest.mark.django_db
def test_a_body_just_under_the_limit_is_read(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    body = {"kind": "everything", "idempotency_key": "near-limit-key1", "pad": "x" * (1024 * 1024 - 200)}
    raw = json.dumps(body).encode()
    assert len(raw) < 1024 * 1024
    path = f"{BASE}/deals/{demo.DEAL_COMPLETE_ID}/invoices"
    response = send(client, "POST", signed_request("POST", path, {"portalId": demo.PORTAL_ID}, raw))
    assert response.status_code == 400  # reached the validation: "everything" is not a kind
    assert response.json()["error"]["code"] == "bad_request"


# --- signatures -------------------------------------------------------------------------------------
def _card_path() -> str:
    return f"{BASE}/deals/{demo.DEAL_COMPLETE_ID}/card"


@pytest.mark.django_db
def test_a_captured_request_replayed_after_six_minutes_is_refused(
    client, invoice_world: InvoiceWorld, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    body = json.dumps({"kind": "full", "idempotency_key": "replayed-key-01"}).encode()
    path = f"{BASE}/deals/{demo.DEAL_COMPLETE_ID}/invoices"
    captured = signed_request("POST", path, {"portalId": demo.PORTAL_ID}, body)
    later = time.time() + 6 * 60
    monkeypatch.setattr("hubspot_app.signature.time.time", lambda: later)
    response = send(client, "POST", captured)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert Invoice.objects.count() == 0
    # Within the five minutes the very same bytes are accepted (the replay window is the timestamp).
    monkeypatch.setattr("hubspot_app.signature.time.time", lambda: later - 2 * 60)
    assert send(client, "POST", captured).status_code == 202


@pytest.mark.django_db
def test_same_signature_with_another_portal_id_is_refused(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    make_operational_tenant(invoice_world.sb, portal_id=demo.OTHER_PORTAL_ID)
    captured = signed_request("GET", _card_path(), {"portalId": demo.PORTAL_ID, "userId": "7002"}, b"")
    for forged_path in (
        captured["path"].replace(f"portalId={demo.PORTAL_ID}", f"portalId={demo.OTHER_PORTAL_ID}"),
        captured["path"] + f"&portalId={demo.OTHER_PORTAL_ID}",  # a second portalId appended
        captured["path"].replace(f"portalId={demo.PORTAL_ID}", f"portalId=0{demo.PORTAL_ID}"),
    ):
        response = send(client, "GET", {**captured, "path": forged_path})
        assert response.status_code == 401, forged_path
        assert response.json()["error"]["code"] == "invalid_signature"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": str(int(time.time() * 1000) + 6 * 60_000)},
                     id="future-timestamp"),
        pytest.param({"HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": "not-a-number"}, id="garbage-timestamp"),
        pytest.param({"HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": ""}, id="empty-timestamp"),
        pytest.param({"HTTP_X_HUBSPOT_SIGNATURE_V3": ""}, id="empty-signature"),
        pytest.param({"HTTP_X_HUBSPOT_SIGNATURE_V3": "é" * 44}, id="non-ascii-signature"),
    ],
)  # fmt: skip
def test_malformed_signature_headers_are_401(client, invoice_world: InvoiceWorld, headers: dict) -> None:  # type: ignore[no-untyped-def]
    kwargs = signed_request("GET", _card_path(), {"portalId": demo.PORTAL_ID}, b"")
    response = send(client, "GET", {**kwargs, **headers})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"


@pytest.mark.django_db
def test_no_client_secret_configured_refuses_everything(
    client, invoice_world: InvoiceWorld, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.HUBSPOT_CLIENT_SECRET = ""
    kwargs = signed_request("GET", _card_path(), {"portalId": demo.PORTAL_ID}, b"", secret="x")
    kwargs["HTTP_X_HUBSPOT_SIGNATURE_V3"] = signed_request(
        "GET", _card_path(), {"portalId": demo.PORTAL_ID}, b"", secret=" "
    )["HTTP_X_HUBSPOT_SIGNATURE_V3"]
    assert send(client, "GET", kwargs).status_code == 401


@pytest.mark.django_db
def test_a_signature_for_one_endpoint_does_not_open_another(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    query = {"portalId": demo.PORTAL_ID}
    card = signed_request("GET", _card_path(), query, b"")
    other = f"{BASE}/invoices/{uuid.uuid4()}?portalId={demo.PORTAL_ID}"
    assert send(client, "GET", {**card, "path": other}).status_code == 401
    # Same URL, method changed (GET signed, POST sent).
    create = f"{BASE}/deals/{demo.DEAL_COMPLETE_ID}/invoices"
    get_signed = signed_request("GET", create, query, b"")
    response = send(client, "POST", {**get_signed, "data": b""})
    assert response.status_code == 401
