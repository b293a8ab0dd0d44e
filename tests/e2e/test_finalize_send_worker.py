"""Finalize and send from the card (v3-signed card API calls) through a real Celery worker process,
Redis and the sandbox.

Click *Finaliser* → the worker finalizes in Qonto (unpaid, numbered) → the deal carries the number,
dates and payment link → Qonto makes the PDF (a delay) → a note on the deal links to our stable
URL, which redirects to a fresh signed Qonto URL that serves the PDF. Then *Envoyer* → Qonto
records the e-mail with its recipients, and the card says when it was sent.
"""

from __future__ import annotations

import os
from decimal import Decimal
from typing import Any

import pytest
import requests

from connector.invoices.request import invoice_request_create
from connector.models import Invoice, InvoiceAction
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, make_operational_tenant
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for


def card_post(client: Any, world: InvoiceWorld, path: str, body: dict[str, Any]) -> Any:
    kwargs = world.signed("POST", f"/api/hubspot/v1{path}", body=body)
    return client.post(kwargs.pop("path"), **kwargs)


pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


@pytest.mark.django_db(transaction=True)
def test_finalize_pdf_note_and_send_through_a_real_worker(sandbox, settings, live_server, client) -> None:  # type: ignore[no-untyped-def]
    settings.PUBLIC_BASE_URL = live_server.url  # the note's link must be reachable
    tenant = make_operational_tenant(sandbox)
    world = InvoiceWorld(sandbox, tenant, settings)
    qonto, hub = sandbox.provider("qonto"), sandbox.provider("hubspot")
    qonto.set_switches(attachment_delay_s=1.5)  # Qonto makes the PDF after finalize (~10 s for real)
    worker_env = {
        **sandbox.env,
        "HUBSPOT_CLIENT_ID": settings.HUBSPOT_CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": settings.HUBSPOT_CLIENT_SECRET,
        "PUBLIC_BASE_URL": live_server.url,
        "QONTO_PDF_POLL_S": "0.5",
    }
    with celery_worker(extra_env=worker_env), tasks_sent_to_broker():
        created = invoice_request_create(
            tenant=tenant, deal_id=demo.DEAL_COMPLETE_ID, kind="deposit", percentage=Decimal("50"),
            idempotency_key="e2e-draft-key-1",
        )  # fmt: skip
        draft = wait_for(
            lambda: Invoice.objects.filter(pk=created.invoice.pk, status=Invoice.Status.DRAFT).first(),
            timeout=45,
        )
        # The card's click: a v3-signed POST, as HubSpot's fetch sends it; the worker does the rest.
        click = card_post(
            client, world, f"/invoices/{draft.pk}/finalize", {"idempotency_key": "e2e-finalize-1"}
        )
        assert click.status_code == 202, click.content
        assert click.json()["invoice"]["id"] == str(draft.pk)
        action = InvoiceAction.objects.get()
        assert (action.kind, action.requested_by_email) == ("finalize", demo.SALES_EMAIL)  # the signed user
        final = wait_for(
            lambda: Invoice.objects.filter(pk=draft.pk, status=Invoice.Status.UNPAID).first(), timeout=45
        )
        in_qonto = qonto.get_invoice(str(final.qonto_invoice_id))
        assert in_qonto["status"] == "unpaid"
        assert in_qonto["number"] == final.number
        deal = wait_for(
            lambda: (
                (d := hub.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID))["properties"].get(
                    "qonto_last_invoice_number"
                )
                == final.number
                and d
            ),
            timeout=30,
        )
        props = deal["properties"]
        assert props["qonto_last_invoice_status"] == "unpaid"
        assert props["qonto_last_invoice_issue_date"] == final.issue_date.isoformat()
        assert props["qonto_last_invoice_due_date"] == final.due_date.isoformat()
        assert props["qonto_last_invoice_url"] == in_qonto["invoice_url"]
        noted = wait_for(
            lambda: Invoice.objects.filter(pk=draft.pk, pdf_noted_at__isnull=False).first(), timeout=45
        )
        assert noted.attachment_id
        notes = hub.notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID)
        pdf_notes = [n for n in notes if "/invoices/pdf/" in n["properties"]["hs_note_body"]]
        assert len(pdf_notes) == 1
        body = pdf_notes[0]["properties"]["hs_note_body"]
        link = body.split('href="', 1)[1].split('"', 1)[0]
        assert link.startswith(f"{live_server.url}/invoices/pdf/")
        pdf = requests.get(link, timeout=10)  # our link → a fresh signed Qonto URL → the PDF
        assert pdf.status_code == 200
        assert pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")

        send = card_post(
            client, world, f"/invoices/{noted.pk}/send",
            {"idempotency_key": "e2e-send-key-1", "send_to": ["compta@acme.example", "dg@acme.example"],
             "email_title": "Facture", "email_body": "Bonjour, voici la facture.", "copy_to_self": False},
        )  # fmt: skip
        assert send.status_code == 202, send.content
        sent = wait_for(
            lambda: Invoice.objects.filter(pk=draft.pk, sent_at__isnull=False).first(), timeout=45
        )
    emails = qonto.get_invoice(str(sent.qonto_invoice_id))["sent_emails"]
    assert [e["send_to"] for e in emails] == [["compta@acme.example", "dg@acme.example"]]
    assert (emails[0]["email_title"], emails[0]["copy_to_self"]) == ("Facture", False)
    statuses = list(InvoiceAction.objects.order_by("pk").values_list("kind", "status", "attempts"))
    assert statuses == [("finalize", "succeeded", 1), ("send", "succeeded", 1)]
