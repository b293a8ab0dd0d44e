"""The card API end to end through Django: signatures, tenancy, the four endpoints, the schema."""

from __future__ import annotations

from typing import Any

import pytest

from connector.models import Invoice
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture, make_operational_tenant  # noqa: F401

BASE = "/api/hubspot/v1"


def call(client: Any, world: InvoiceWorld, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    kwargs = world.signed(method, BASE + path, body=body, **kw)
    full_path = kwargs.pop("path")
    return getattr(client, method.lower())(full_path, **kwargs)


def assert_error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    assert "Traceback" not in response.content.decode()
    return dict(body["error"])


@pytest.mark.django_db
def test_card_state_of_a_ready_deal(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    response = call(client, invoice_world, "GET", f"/deals/{demo.DEAL_COMPLETE_ID}/card")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tenant"]["status"] == "active"
    assert body["tenant"]["settings_url"].startswith("http://testserver/settings/open?t=")
    assert body["deal"] == {"id": demo.DEAL_COMPLETE_ID, "name": body["deal"]["name"], "amount": "12000.00",
                            "currency": "EUR"}  # fmt: skip
    readiness = body["readiness"]
    assert (readiness["ready"], readiness["problems"]) == (True, [])
    # The demo company has no VAT number: not blocking, but e-invoicing will need it.
    assert [w["code"] for w in readiness["warnings"]] == ["einvoicing_missing_vat_number"]
    assert "requis pour la facturation électronique" in readiness["warnings"][0]["message"]
    assert [(c["code"], c["ok"]) for c in readiness["einvoicing"]] == [
        ("siret", True),
        ("address", True),
        ("vat_number", False),
    ]
    assert body["status"] == {"code": "ready", "message": None}
    assert {k: a["enabled"] for k, a in body["actions"].items()} == {
        "full": True,
        "deposit": True,
        "balance": True,
    }
    assert body["vat"]["regime"] == "france"
    assert body["vat"]["choice_required"] is False
    assert body["company"]["url"].endswith(
        f"/contacts/{demo.PORTAL_ID}/record/0-2/{demo.COMPANY_COMPLETE_ID}"
    )
    assert body["invoices"] == []
    assert body["totals"] == {"deal_amount": "12000.00", "invoiced": "0.00", "paid": "0.00",
                              "left_to_invoice": "12000.00"}  # fmt: skip
    hubspot_reads = [e for e in invoice_world.sb.sandbox.log.entries("hubspot") if "/crm/objects/" in e.path]
    assert len(hubspot_reads) <= 3
    assert invoice_world.sb.sandbox.log.count("qonto") == 0  # the card never waits on Qonto


@pytest.mark.django_db
def test_card_state_lists_problems_of_a_deal_without_siret_in_english(
    client, invoice_world: InvoiceWorld
) -> None:  # type: ignore[no-untyped-def]
    response = call(
        client, invoice_world, "GET", f"/deals/{demo.DEAL_NO_SIRET_ID}/card", query={"locale": "en-us"}
    )
    body = response.json()
    assert body["readiness"]["ready"] is False
    problem = next(p for p in body["readiness"]["problems"] if p["code"] == "missing_siret")
    assert problem["field"] == "company.siret"
    assert "SIRET" in problem["message"]


@pytest.mark.django_db
def test_create_answers_202_then_200_for_the_same_key(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    body = {"kind": "deposit", "percentage": 50, "idempotency_key": "b3c1-card-key-0001"}
    with django_capture_on_commit_callbacks(execute=True):
        first = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/invoices", body)
    assert first.status_code == 202, first.content
    invoice = first.json()["invoice"]
    assert invoice["status"] == "pending"
    assert invoice["kind"] == "deposit"
    assert invoice["percentage"] == "50"
    second = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/invoices", body)
    assert second.status_code == 200
    assert second.json()["invoice"]["id"] == invoice["id"]
    polled = call(client, invoice_world, "GET", f"/invoices/{invoice['id']}").json()["invoice"]
    assert polled["status"] == "draft"
    assert polled["total_amount"] is not None
    assert polled["qonto_url"]
    assert len(invoice_world.qonto_invoices()) == 1


@pytest.mark.django_db
def test_refusals_are_422_with_problems(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    response = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_NO_SIRET_ID}/invoices",
                    {"kind": "full", "idempotency_key": "no-siret-key-1"})  # fmt: skip
    error = assert_error_shape(response, 422, "deal_not_ready")
    assert any(p["code"] == "missing_siret" for p in error["problems"])
    response = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/invoices",
                    {"kind": "deposit", "percentage": 120, "idempotency_key": "pct-key-0001"})  # fmt: skip
    error = assert_error_shape(response, 422, error_code := response.json()["error"]["code"])
    assert error_code in ("invalid_percentage", "percentage_out_of_range")
    assert Invoice.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [{"kind": "everything", "idempotency_key": "bad-kind-key1"}, {"kind": "full"},
     {"kind": "full", "idempotency_key": "x"}, ["not", "an", "object"]],
)  # fmt: skip
def test_malformed_bodies_are_400(client, invoice_world: InvoiceWorld, body: Any) -> None:  # type: ignore[no-untyped-def]
    response = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/invoices", body)
    assert_error_shape(response, 400, "bad_request")


@pytest.mark.django_db
def test_bad_signatures_are_401(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    path = f"/deals/{demo.DEAL_COMPLETE_ID}/card"
    assert_error_shape(
        call(client, invoice_world, "GET", path, secret="wrong-secret"), 401, "invalid_signature"
    )
    assert_error_shape(
        call(client, invoice_world, "GET", path, age_ms=6 * 60 * 1000), 401, "invalid_signature"
    )
    kwargs = invoice_world.signed("GET", BASE + path)
    tampered = kwargs.pop("path").replace(f"portalId={demo.PORTAL_ID}", f"portalId={demo.OTHER_PORTAL_ID}")
    assert_error_shape(client.get(tampered, **kwargs), 401, "invalid_signature")
    assert_error_shape(client.get(BASE + path + f"?portalId={demo.PORTAL_ID}"), 401, "invalid_signature")


@pytest.mark.django_db
def test_unknown_portal_is_404(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    response = call(client, invoice_world, "GET", f"/deals/{demo.DEAL_COMPLETE_ID}/card", portal_id=999)
    assert_error_shape(response, 404, "unknown_portal")


@pytest.mark.django_db
def test_another_tenants_invoice_is_answered_like_a_missing_one(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    other = make_operational_tenant(invoice_world.sb, portal_id=demo.OTHER_PORTAL_ID)
    with django_capture_on_commit_callbacks(execute=True):
        created = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/invoices",
                       {"kind": "full", "idempotency_key": "tenant-a-key1"}).json()["invoice"]  # fmt: skip
    as_other = call(client, invoice_world, "GET", f"/invoices/{created['id']}", portal_id=other.portal_id)
    missing = call(client, invoice_world, "GET", "/invoices/6f1c2b7e-0000-4000-8000-000000000000",
                   portal_id=other.portal_id)  # fmt: skip
    assert_error_shape(as_other, 404, "not_found")
    assert_error_shape(missing, 404, "not_found")
    assert as_other.json() == missing.json()
    retry = call(client, invoice_world, "POST", f"/invoices/{created['id']}/retry", portal_id=other.portal_id)
    assert_error_shape(retry, 404, "not_found")


@pytest.mark.django_db
def test_retry_of_a_draft_is_409(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        created = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/invoices",
                       {"kind": "full", "idempotency_key": "retry-key-001"}).json()["invoice"]  # fmt: skip
    assert_error_shape(
        call(client, invoice_world, "POST", f"/invoices/{created['id']}/retry"), 409, "not_retryable"
    )


@pytest.mark.django_db
def test_failed_retryable_invoice_is_shown_and_retried(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    refusal = {"errors": [{"code": "invalid_iban", "detail": "IBAN is empty"}], "trace_id": "x"}
    invoice_world.fault(provider="qonto", path=r"^/v2/client_invoices$", status=422, body=refusal)
    with django_capture_on_commit_callbacks(execute=True):
        created = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/invoices",
                       {"kind": "full", "idempotency_key": "fail-key-0001"}).json()["invoice"]  # fmt: skip
    failed = call(client, invoice_world, "GET", f"/invoices/{created['id']}").json()["invoice"]
    assert failed["status"] == "failed"
    assert failed["error"]["retryable"] is True
    assert "IBAN is empty" in failed["error"]["message"]
    with django_capture_on_commit_callbacks(execute=True):
        retried = call(client, invoice_world, "POST", f"/invoices/{created['id']}/retry")
    assert retried.status_code == 202
    assert (
        call(client, invoice_world, "GET", f"/invoices/{created['id']}").json()["invoice"]["status"]
        == "draft"
    )
    assert len(invoice_world.qonto_invoices()) == 1


def test_openapi_schema_describes_the_four_endpoints() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert set(paths) >= {
        "/api/hubspot/v1/deals/{deal_id}/card",
        "/api/hubspot/v1/deals/{deal_id}/invoices",
        "/api/hubspot/v1/invoices/{invoice_id}",
        "/api/hubspot/v1/invoices/{invoice_id}/retry",
    }
    create = paths["/api/hubspot/v1/deals/{deal_id}/invoices"]["post"]
    assert {"202", "200", "422", "400", "401", "404"} <= set(create["responses"])
    assert "HubSpotSignatureV3" in schema["components"]["securitySchemes"]
    props = schema["components"]["schemas"]["CardState"]["properties"]
    # Backward compatible: the first six are unchanged; the rest were added (card-api.md).
    assert set(props) == {
        "tenant", "deal", "readiness", "invoices", "totals", "last_synced_at",
        "company", "status", "actions", "vat", "last_read_at", "hubspot_read_at",
    }  # fmt: skip
    assert "/api/hubspot/v1/deals/{deal_id}/refresh" in paths


@pytest.mark.django_db
def test_a_failure_reads_in_the_users_language(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.fault(
        provider="qonto", path=r"^/v2/client_invoices$", status=403, body={"errors": [{"code": "forbidden"}]}
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/invoices",
                       {"kind": "full", "idempotency_key": "lang-key-0001"}).json()["invoice"]  # fmt: skip
    fr = call(client, invoice_world, "GET", f"/invoices/{created['id']}").json()["invoice"]["error"][
        "message"
    ]
    en = call(client, invoice_world, "GET", f"/invoices/{created['id']}", query={"locale": "en-us"}).json()
    assert fr.startswith("La clé Qonto n'a pas accès")
    assert en["invoice"]["error"]["message"] != fr
    assert "Qonto" in en["invoice"]["error"]["message"]
