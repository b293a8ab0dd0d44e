"""Finalize and send from the card: the two endpoints through Django, the worker run eagerly.

Signatures and tenancy (another tenant's invoice is a 404), 409 when the status does not allow
it, one Qonto call for two clicks (same key, or two keys while one is in flight), clear 422s.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connector.invoices.request import invoice_request_create
from connector.models import AuditLog, Invoice, InvoiceAction, Tenant
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.hubspot_app.test_card_api import assert_error_shape, call
from tests.invoice_world import InvoiceWorld, invoice_world_fixture, make_operational_tenant  # noqa: F401


def _draft(world: InvoiceWorld, capture: Any) -> Invoice:
    with capture(execute=True):
        result = invoice_request_create(
            tenant=world.tenant, deal_id=demo.DEAL_COMPLETE_ID, kind="deposit", percentage=Decimal("30"),
            idempotency_key="draft-key-0001",
        )  # fmt: skip
    inv = Invoice.objects.get(pk=result.invoice.pk)
    assert inv.status == Invoice.Status.DRAFT
    return inv


def _qonto_requests(world: InvoiceWorld, suffix: str) -> list[Any]:
    return [
        e for e in world.sb.sandbox.log.entries("qonto") if e.method == "POST" and e.path.endswith(suffix)
    ]


@pytest.mark.django_db
def test_finalize_then_send_from_the_card(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks, settings
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    world.qonto.set_switches(attachment_delay_s=0)
    inv = _draft(world, django_capture_on_commit_callbacks)
    path = f"/invoices/{inv.pk}/finalize"
    with django_capture_on_commit_callbacks(execute=True):
        first = call(client, world, "POST", path, {"idempotency_key": "finalize-key-01"})
    assert first.status_code == 202, first.content
    again = call(client, world, "POST", path, {"idempotency_key": "finalize-key-01"})
    assert again.status_code == 200  # the same click again: the same action, nothing queued
    body = again.json()["invoice"]
    assert body["status"] == "unpaid"
    assert body["number"]
    assert body["last_action"] == {
        "id": str(InvoiceAction.objects.get().pk), "kind": "finalize", "status": "succeeded", "error": None,
    }  # fmt: skip
    assert body["can_send"] is True
    assert body["can_finalize"] is False
    assert body["payment_url"].startswith("http")
    assert body["pdf_url"].startswith("http://testserver/invoices/pdf/")
    assert len(_qonto_requests(world, "/finalize")) == 1
    qonto = world.qonto.get_invoice(str(inv.qonto_invoice_id))
    assert qonto["status"] == "unpaid"
    assert qonto["number"] == body["number"]
    props = world.deal(demo.DEAL_COMPLETE_ID)["properties"]
    assert props["qonto_last_invoice_number"] == body["number"]
    assert props["qonto_last_invoice_status"] == "unpaid"
    assert props["qonto_last_invoice_url"] == body["payment_url"]
    notes = world.hubspot.notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID)
    assert any(body["pdf_url"] in n["properties"]["hs_note_body"] for n in notes)
    # The note's link serves the PDF: a fresh signed Qonto URL each time.
    pdf = client.get(body["pdf_url"].removeprefix("http://testserver"))
    assert pdf.status_code == 302
    assert "/qonto/files/" in pdf["Location"]
    assert "expires=" in pdf["Location"]
    assert pdf["Cache-Control"] == "no-store"
    # Finalize again (a new click): the invoice is no longer a draft.
    assert_error_shape(
        call(client, world, "POST", path, {"idempotency_key": "finalize-key-02"}), 409, "not_finalizable"
    )

    send = f"/invoices/{inv.pk}/send"
    mail = {
        "idempotency_key": "send-key-0001",
        "send_to": ["compta@acme.example"],
        "email_title": "Votre facture",
    }
    with django_capture_on_commit_callbacks(execute=True):
        sent = call(client, world, "POST", send, mail)
    assert sent.status_code == 202, sent.content
    after = call(client, world, "GET", f"/invoices/{inv.pk}").json()["invoice"]
    assert after["sent_at"]
    assert after["last_action"]["kind"] == "send"
    assert after["last_action"]["status"] == "succeeded"
    emails = world.qonto.get_invoice(str(inv.qonto_invoice_id))["sent_emails"]
    assert [e["send_to"] for e in emails] == [["compta@acme.example"]]
    assert emails[0]["email_title"] == "Votre facture"
    assert call(client, world, "POST", send, mail).status_code == 200  # same key: no second e-mail
    assert len(world.qonto.get_invoice(str(inv.qonto_invoice_id))["sent_emails"]) == 1
    actions = list(AuditLog.objects.filter(tenant=world.tenant).values_list("action", "user_email"))
    assert ("invoice_finalize_requested", demo.SALES_EMAIL) in actions
    assert ("invoice_send_requested", demo.SALES_EMAIL) in actions
    assert InvoiceAction.objects.get(kind="send").requested_by_id == str(demo.SALES_USER_ID)


@pytest.mark.django_db
def test_send_refusals_are_clear_and_queue_nothing(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    inv = _draft(world, django_capture_on_commit_callbacks)
    send = f"/invoices/{inv.pk}/send"
    ok = {"idempotency_key": "send-key-0002", "send_to": ["a@b.example"], "email_title": "Facture"}
    err = assert_error_shape(call(client, world, "POST", send, ok), 409, "not_sendable")
    assert "Finalisez la facture avant de l'envoyer" in err["message"]
    inv.status = Invoice.Status.UNPAID
    inv.save()
    bad = assert_error_shape(
        call(client, world, "POST", send, {**ok, "send_to": ["pas-un-email"]}), 422, "invalid_send_to"
    )
    assert "pas-un-email" in bad["message"]
    bad = assert_error_shape(
        call(client, world, "POST", send, {**ok, "email_title": "  "}), 422, "invalid_email_title"
    )
    assert bad["problems"][0]["field"] == "email_title"
    english = call(client, world, "POST", send, {**ok, "email_title": ""}, query={"locale": "en"})
    assert "subject is required" in assert_error_shape(english, 422, "invalid_email_title")["message"]
    assert_error_shape(call(client, world, "POST", send, {"send_to": "x"}), 400, "bad_request")
    assert not InvoiceAction.objects.exists()
    assert not _qonto_requests(world, "/send")


@pytest.mark.django_db
def test_two_clicks_with_two_keys_finalize_once(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    inv = _draft(world, django_capture_on_commit_callbacks)
    path = f"/invoices/{inv.pk}/finalize"
    first = call(client, world, "POST", path, {"idempotency_key": "click-one-001"})  # queued, not run
    second = call(client, world, "POST", path, {"idempotency_key": "click-two-002"})
    assert (first.status_code, second.status_code) == (202, 200)
    assert InvoiceAction.objects.count() == 1
    assert second.json()["invoice"]["last_action"]["status"] == "pending"


@pytest.mark.django_db
def test_another_tenants_invoice_is_not_found(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    inv = _draft(world, django_capture_on_commit_callbacks)
    make_operational_tenant(world.sb, portal_id=demo.OTHER_PORTAL_ID)
    for action in ("finalize", "send"):
        response = call(
            client, world, "POST", f"/invoices/{inv.pk}/{action}",
            {"idempotency_key": "other-tenant-1", "email_title": "x"}, portal_id=demo.OTHER_PORTAL_ID,
        )  # fmt: skip
        assert_error_shape(response, 404, "not_found")
    forged = call(
        client,
        world,
        "POST",
        f"/invoices/{inv.pk}/finalize",
        {"idempotency_key": "forged-key-1"},
        secret="wrong",
    )
    assert_error_shape(forged, 401, "invalid_signature")
    assert not InvoiceAction.objects.exists()


@pytest.mark.django_db
def test_a_forged_pdf_link_is_refused(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/invoices/pdf/not-a-token")
    assert response.status_code == 404
    assert "n'est pas valide" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["finalize", "send"])
def test_a_suspended_tenants_finalize_or_send_never_reaches_qonto(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks, kind
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    inv = _draft(world, django_capture_on_commit_callbacks)
    if kind == "send":
        Invoice.objects.filter(pk=inv.pk).update(status=Invoice.Status.UNPAID)
    path = f"/invoices/{inv.pk}/{kind}"
    body = {"send_to": ["compta@acme.example"], "email_title": "Votre facture"} if kind == "send" else {}
    operational = world.tenant.status
    suspended = Tenant.objects.filter(pk=world.tenant.pk)

    # Suspended before the click: refused, nothing recorded, nothing queued.
    suspended.update(status=Tenant.Status.SUSPENDED)
    refused = call(client, world, "POST", path, {**body, "idempotency_key": f"{kind}-suspended-01"})
    assert_error_shape(refused, 422, "tenant_not_operational")
    assert not InvoiceAction.objects.exists()

    # Suspended while the click waits in the queue: the worker fails the action before any Qonto call.
    suspended.update(status=operational)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        accepted = call(client, world, "POST", path, {**body, "idempotency_key": f"{kind}-suspended-02"})
    assert accepted.status_code == 202, accepted.content
    suspended.update(status=Tenant.Status.SUSPENDED)
    qonto_calls = len(world.sb.sandbox.log.entries("qonto"))
    for run in queued:
        run()
    action = InvoiceAction.objects.get()
    assert (action.kind, action.status, action.error_code) == (
        kind,
        InvoiceAction.Status.FAILED,
        "tenant_not_operational",
    )
    assert len(world.sb.sandbox.log.entries("qonto")) == qonto_calls
    assert not _qonto_requests(world, f"/{kind}")
    qonto = world.qonto.get_invoice(str(inv.qonto_invoice_id))
    assert qonto["status"] == "draft"
    assert not qonto.get("sent_emails")
