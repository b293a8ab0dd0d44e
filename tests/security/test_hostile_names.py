"""Deal, company and line-item names full of HTML, unicode and control characters: a whole invoice
flow goes through, and every page, the card JSON and the HubSpot note keep them as text."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
import requests

from connector.models import Deal, Invoice
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import login
from tests.invoice_world import InvoiceWorld

BASE = "/api/hubspot/v1"
DEAL_NAME = '<script>alert("deal")</script> Refonte & Co \u202e\u00e9té\u0007 <img src=x onerror=alert(1)>'
COMPANY_NAME = "<script>alert('company')</script> Société «Ça» \u001b[31m\u0008"
LINE_NAME = '<b onmouseover="alert(1)">Conception</b> \U0001f600 </textarea><svg/onload=alert(1)>'
RAW_MARKERS = (
    "<script>alert(",
    "<img src=x",
    "<svg/onload",
    "<b onmouseover",
    "</textarea><svg",
    "<b>du</b>",
)


def _hostile_deal(world: InvoiceWorld, company_name: str = COMPANY_NAME) -> str:
    hub = world.hubspot
    company = hub.create_company(
        demo.PORTAL_ID, name=company_name, address="1 rue <b>du</b> Test", city="Paris", zip="75001",
        country="France", siret=demo.COMPLETE_SIRET,
    )  # fmt: skip
    deal = hub.create_deal(
        demo.PORTAL_ID,
        dealname=DEAL_NAME,
        amount="1000",
        dealstage="closedwon",
        company_id=company["id"],
        line_items=[{"name": LINE_NAME, "quantity": "1", "price": "1000.00"}],
    )
    return str(deal["id"])


def _assert_escaped(text: str, where: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in text, f"{marker!r} unescaped in {where}"


@pytest.mark.django_db
def test_hostile_names_are_data_everywhere(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks, django_user_model
) -> None:  # type: ignore[no-untyped-def]
    deal_id = _hostile_deal(invoice_world)

    def call(method: str, path: str, body: Any = None) -> Any:
        kwargs = invoice_world.signed(method, BASE + path, body=body)
        return getattr(client, method.lower())(kwargs.pop("path"), **kwargs)

    card = call("GET", f"/deals/{deal_id}/card")
    assert card.status_code == 200, card.content
    assert card["Content-Type"] == "application/json"
    assert card["X-Content-Type-Options"] == "nosniff"
    # JSON carries the name as data, byte for byte (the card renders it as text, never as HTML).
    assert card.json()["deal"]["name"].startswith('<script>alert("deal")</script>')
    assert card.json()["readiness"]["ready"] is True, card.json()["readiness"]

    with django_capture_on_commit_callbacks(execute=True):
        created = call(
            "POST", f"/deals/{deal_id}/invoices", {"kind": "full", "idempotency_key": "hostile-names-1"}
        )
    assert created.status_code == 202, created.content
    invoice = Invoice.objects.get(pk=created.json()["invoice"]["id"])
    assert invoice.status == Invoice.Status.DRAFT, (invoice.error_code, invoice.error_message)

    # The Qonto draft: plain text, no control character (Qonto and PDFs choke on them).
    [qinv] = invoice_world.qonto_invoices()
    for item in qinv["items"]:
        assert not re.search(
            r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", item["title"] + item.get("description", "")
        ), item

    # The HubSpot note is HTML: every piece of text in it is escaped.
    [note] = invoice_world.hubspot.notes_for_deal(demo.PORTAL_ID, deal_id)
    _assert_escaped(note["properties"]["hs_note_body"], "the HubSpot note")

    # Our pages: the tenant's settings and billing (with a hostile tenant name), and the admin.
    invoice_world.tenant.name = COMPANY_NAME
    invoice_world.tenant.save(update_fields=["name"])
    login(client, invoice_world.tenant)
    for path in ("/settings", "/billing/", "/onboarding/qonto"):
        response = client.get(path)
        assert response.status_code == 200, path
        _assert_escaped(response.content.decode(), path)
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    client.force_login(admin)
    deal_row = Deal.objects.get(tenant=invoice_world.tenant, hubspot_deal_id=deal_id)
    assert deal_row.name.startswith("<script>")
    for path in (
        "/admin/connector/deal/",
        f"/admin/connector/deal/{deal_row.pk}/change/",
        "/admin/connector/invoice/",
        f"/admin/connector/invoice/{invoice.pk}/change/",
        "/admin/connector/tenant/",
        f"/admin/connector/tenant/{invoice_world.tenant.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        page = response.content.decode()
        _assert_escaped(page, path)
        if "deal" in path:
            assert html.escape("<script>alert(", quote=False) in page or "&lt;script&gt;" in page, path


@pytest.mark.django_db
def test_a_nul_character_in_a_company_name_is_not_a_500(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    deal_id = _hostile_deal(invoice_world, company_name="ACME\u0000 Industrie")
    kwargs = invoice_world.signed(
        "POST", f"{BASE}/deals/{deal_id}/invoices", body={"kind": "full", "idempotency_key": "nul-name-key-1"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(kwargs.pop("path"), **kwargs)
    assert response.status_code in (202, 422), response.content


@pytest.mark.django_db
def test_the_sandbox_deal_page_escapes_hostile_names(invoice_world: InvoiceWorld) -> None:
    """The simulator's deal page (what a demo shows) renders the names as text too."""
    deal_id = _hostile_deal(invoice_world)
    page = requests.get(
        f"{invoice_world.sb.url}/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/{deal_id}", timeout=5
    )
    assert page.status_code == 200
    body = page.text
    # Its own scripts are there; the deal's are not.
    assert 'alert("deal")</script>' not in body
    assert "<img src=x" not in body
    assert "<svg/onload" not in body
