"""Issue 12, the card: it shows what is true in Qonto, in French time, with the next step one click away.

Each test drives the signed card API against the sandbox (HubSpot and Qonto simulators) and fails on
the product before these changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core.cache import cache
from django.utils import timezone

from connector.models import CreditNote, Invoice, QontoClientLink
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

BASE = "/api/hubspot/v1"
NOTHING_LEFT = (
    "Il ne reste rien à facturer sur la transaction « Refonte site – Agence & Co » : les factures "
    "existantes couvrent déjà tout son montant."
)


def call(client: Any, world: InvoiceWorld, method: str, path: str, body: Any = None, **kw: Any) -> Any:
    kwargs = world.signed(method, BASE + path, body=body, **kw)
    full_path = kwargs.pop("path")
    return getattr(client, method.lower())(full_path, **kwargs)


def card(client: Any, world: InvoiceWorld, deal_id: str = demo.DEAL_COMPLETE_ID) -> dict[str, Any]:
    response = call(client, world, "GET", f"/deals/{deal_id}/card")
    assert response.status_code == 200, response.content
    return dict(response.json())


def create(client: Any, world: InvoiceWorld, deal_id: str = demo.DEAL_COMPLETE_ID, **body: Any) -> Any:
    body = {"kind": "full", "idempotency_key": f"key-{deal_id}-{len(body)}-{id(body)}", **body}
    return call(client, world, "POST", f"/deals/{deal_id}/invoices", body)


def deal_page_properties(world: InvoiceWorld, deal_id: str = demo.DEAL_COMPLETE_ID) -> dict[str, str]:
    """The deal's properties as the simulated deal page shows them (labels, Paris time)."""
    page = requests.get(
        f"{world.sb.url}/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/{deal_id}/properties.json",
        timeout=5,
    ).json()
    return {p["name"]: p["value"] for p in page["properties"]}


def qonto_list_calls(world: InvoiceWorld) -> list[Any]:
    return [e for e in world.sb.sandbox.log.entries("qonto") if e.path.startswith("/v2/client_invoices")]


@pytest.fixture
def drafted(client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks) -> Invoice:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        assert create(client, invoice_world).status_code == 202
    return Invoice.objects.get()


# --- Actualiser reads Qonto now, in one list call, and says when ----------------------------------
@pytest.mark.django_db
def test_refresh_reads_the_deals_invoices_from_qonto_in_one_list_call(
    client, invoice_world: InvoiceWorld, drafted: Invoice
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.qonto.finalize(drafted.qonto_invoice_id)
    before = card(client, invoice_world)
    assert before["invoices"][0]["status"] == "draft"  # our row only: Qonto was not asked
    invoice_world.sb.sandbox.log.clear()

    response = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/refresh")

    assert response.status_code == 200, response.content
    after = response.json()
    [inv] = after["invoices"]
    assert inv["status"] == "unpaid"
    assert inv["number"].startswith("F-")
    assert after["last_read_at"]
    assert after["last_read_at"].endswith("Z")
    calls = qonto_list_calls(invoice_world)
    assert [(c.method, c.path) for c in calls] == [("GET", "/v2/client_invoices")]  # one list, no GET by id
    assert "filter[created_at_from]" in calls[0].query
    assert "filter[created_at_to]" in calls[0].query

    # A second click a moment later reads nothing new from Qonto.
    invoice_world.sb.sandbox.log.clear()
    assert call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/refresh").status_code == 200
    assert qonto_list_calls(invoice_world) == []


@pytest.mark.django_db
def test_refresh_frees_a_draft_deleted_in_qonto(
    client, invoice_world: InvoiceWorld, drafted: Invoice
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.qonto.delete_draft(drafted.qonto_invoice_id)
    body = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/refresh").json()
    assert body["invoices"][0]["status"] == "canceled"
    assert body["totals"]["left_to_invoice"] == "12000.00"
    assert body["actions"]["full"]["enabled"] is True
    assert Invoice.objects.get().status == Invoice.Status.DELETED


@pytest.mark.django_db
def test_refresh_brings_a_credit_note_made_in_qonto_into_the_totals(
    client, invoice_world: InvoiceWorld, drafted: Invoice
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.qonto.finalize(drafted.qonto_invoice_id)
    note = invoice_world.qonto.create_credit_note(drafted.qonto_invoice_id, amount="1000", vat_rate="0.2")
    invoice_world.tenant.__class__.objects.filter(pk=invoice_world.tenant.pk).update(
        last_synced_at=timezone.now()
    )
    assert card(client, invoice_world)["totals"]["invoiced"] == "12000.00"  # our rows: not read yet
    assert not CreditNote.objects.exists()
    invoice_world.sb.sandbox.log.clear()

    body = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/refresh").json()

    assert body["totals"]["invoiced"] == "11000.00"  # 12 000 minus the 1 000 avoir, at once
    assert body["totals"]["left_to_invoice"] == "1000.00"
    assert CreditNote.objects.get().qonto_credit_note_id == note["id"]
    paths = [c.path for c in invoice_world.sb.sandbox.log.entries("qonto")]
    assert paths == ["/v2/client_invoices", f"/v2/credit_notes/{note['id']}"]  # the list, then the avoir
    # Known now: the next click (after the short pause) does not read it again.
    cache.clear()
    invoice_world.sb.sandbox.log.clear()
    call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/refresh")
    assert [c.path for c in invoice_world.sb.sandbox.log.entries("qonto")] == ["/v2/client_invoices"]


@pytest.mark.django_db
def test_refresh_says_when_qonto_does_not_answer(
    client, invoice_world: InvoiceWorld, drafted: Invoice
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.fault(provider="qonto", path=r"^/v2/client_invoices", status=503, count=10)
    response = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/refresh")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "qonto_unavailable"


# --- times in Europe/Paris --------------------------------------------------------------------------
@pytest.mark.django_db
def test_times_on_the_deal_page_are_paris_time(client, invoice_world: InvoiceWorld, drafted: Invoice) -> None:  # type: ignore[no-untyped-def]
    # HubSpot stores a datetime as an instant (the simulator answers it in UTC, "…Z") and shows it in
    # the portal's time zone; so does the simulated deal page, never the server's UTC.
    written = invoice_world.deal(demo.DEAL_COMPLETE_ID)["properties"]["qonto_last_sync_at"]
    instant = datetime.fromisoformat(written.replace("Z", "+00:00"))
    shown = deal_page_properties(invoice_world)
    paris = instant.astimezone(ZoneInfo("Europe/Paris"))
    assert shown["qonto_last_sync_at"] == paris.strftime("%d/%m/%Y %H:%M")
    assert paris.utcoffset() != instant.utcoffset()  # so the test tells Paris from UTC


# --- Ouvrir dans Qonto: the seller's draft, the payment link once finalized -------------------------
@pytest.mark.django_db
def test_open_in_qonto_is_the_sellers_invoice_and_the_payment_link_waits_for_finalize(
    client, invoice_world: InvoiceWorld, drafted: Invoice
) -> None:  # type: ignore[no-untyped-def]
    [draft] = card(client, invoice_world)["invoices"]
    expected = (
        f"{invoice_world.settings.QONTO_APP_BASE}/organizations/{demo.QONTO_LOGIN}"
        f"/receivable-invoices/{drafted.qonto_invoice_id}"
    )
    assert draft["qonto_url"] == expected
    assert "pay.qonto.com" not in draft["qonto_url"]
    assert draft["payment_url"] is None
    seller_page = requests.get(draft["qonto_url"], timeout=5)
    assert seller_page.status_code == 200
    assert "Vue vendeur" in seller_page.text

    invoice_world.qonto.finalize(drafted.qonto_invoice_id)
    [unpaid] = call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/refresh").json()[
        "invoices"
    ]
    assert unpaid["qonto_url"] == expected
    assert unpaid["payment_url"] == f"https://pay.qonto.com/invoices/{drafted.qonto_invoice_id}"


# --- a fully invoiced deal: buttons off, one message --------------------------------------------------
@pytest.mark.django_db
def test_a_fully_invoiced_deal_disables_every_button_with_one_message(
    client, invoice_world: InvoiceWorld, drafted: Invoice
) -> None:  # type: ignore[no-untyped-def]
    body = card(client, invoice_world)
    assert body["status"] == {"code": "fully_invoiced", "message": NOTHING_LEFT}
    assert {k: (a["enabled"], a["reason"]) for k, a in body["actions"].items()} == dict.fromkeys(
        ("full", "deposit", "balance"), (False, NOTHING_LEFT)
    )
    for kind, extra in (("full", {}), ("deposit", {"percentage": 30}), ("balance", {})):
        refused = create(client, invoice_world, kind=kind, **extra)
        assert refused.status_code == 422
        error = refused.json()["error"]
        assert error["code"] == "nothing_left"
        assert error["message"] == NOTHING_LEFT  # never "sinon, facturez le solde"
        assert [p["message"] for p in error["problems"]] == [NOTHING_LEFT]


# --- missing data: plain French and a link to the company ----------------------------------------------
@pytest.mark.django_db
def test_missing_data_links_to_the_company_in_hubspot(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    body = card(client, invoice_world, demo.DEAL_NO_SIRET_ID)
    assert body["status"]["code"] == "not_ready"
    [problem] = [p for p in body["readiness"]["problems"] if p["code"] == "missing_siret"]
    assert "company." not in problem["message"]
    base = invoice_world.settings.HUBSPOT_AUTH_BASE
    url = f"{base}/contacts/{demo.PORTAL_ID}/record/0-2/{demo.COMPANY_NO_SIRET_ID}"
    assert problem["url"] == url
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert "Boulangerie Élise" in page.text
    assert {a["enabled"] for a in body["actions"].values()} == {False}


# --- a client outside France -------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_belgian_client_is_warned_and_can_be_invoiced_with_reverse_charge(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    body = card(client, invoice_world, demo.DEAL_FOREIGN_ID)
    assert body["vat"]["regime"] == "eu"
    assert body["vat"]["vat_number"] == demo.FOREIGN_VAT_NUMBER
    assert body["vat"]["modes"] == ["reverse_charge", "standard"]
    [warning] = body["readiness"]["warnings"]
    assert warning["code"] == "client_in_eu"
    assert "Belgique" in warning["message"]

    # Without a choice, no silent French VAT.
    refused = create(client, invoice_world, demo.DEAL_FOREIGN_ID)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "vat_mode_required"

    with django_capture_on_commit_callbacks(execute=True):
        accepted = create(client, invoice_world, demo.DEAL_FOREIGN_ID, vat_mode="reverse_charge")
    assert accepted.status_code == 202, accepted.content
    [qinv] = invoice_world.qonto_invoices()
    assert {item["vat_rate"] for item in qinv["items"]} == {"0"}
    assert qinv["vat_amount"]["value"] in ("0.00", "0")
    assert "Autoliquidation" in qinv["footer"]
    assert demo.FOREIGN_VAT_NUMBER in qinv["footer"]
    assert "article 196 de la directive 2006/112/CE" in qinv["footer"]

    # The deal's next invoice must use the same VAT.
    mismatch = create(client, invoice_world, demo.DEAL_FOREIGN_ID, kind="balance", vat_mode="standard")
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["code"] == "vat_mode_mismatch"
    assert card(client, invoice_world, demo.DEAL_FOREIGN_ID)["vat"]["locked_mode"] == "reverse_charge"


@pytest.mark.django_db
def test_reverse_charge_needs_a_valid_eu_vat_number(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    invoice_world.hubspot.update_object(
        demo.PORTAL_ID, "companies", demo.COMPANY_FOREIGN_ID, {"qonto_vat_number": "BE0512345600"}
    )
    body = card(client, invoice_world, demo.DEAL_FOREIGN_ID)
    assert body["vat"]["modes"] == ["standard"]
    assert body["readiness"]["warnings"][0]["code"] == "client_in_eu_without_vat_number"
    refused = create(client, invoice_world, demo.DEAL_FOREIGN_ID, vat_mode="reverse_charge")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "reverse_charge_unavailable"
    assert "BE0512345600" in error["message"]


# --- the Qonto client is never overwritten; one SIRET, two names ----------------------------------------
@pytest.mark.django_db
def test_an_existing_qonto_client_is_not_overwritten_and_the_card_says_it_differs(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    seeded = invoice_world.qonto.seed_client(
        demo.QONTO_LOGIN,
        kind="company",
        name="ACME INDUSTRIE SA (siège)",
        tax_identification_number=demo.COMPLETE_SIRET,
        currency="EUR",
        locale="FR",
        billing_address={
            "street_address": "1 avenue Foch",
            "city": "Paris",
            "zip_code": "75016",
            "country_code": "FR",
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert create(client, invoice_world).status_code == 202
    [qonto_client] = invoice_world.qonto.list_clients(demo.QONTO_LOGIN)
    assert qonto_client["id"] == seeded["id"]
    assert qonto_client["name"] == "ACME INDUSTRIE SA (siège)"  # not HubSpot's "ACME Industrie SAS"
    assert qonto_client["billing_address"]["street_address"] == "1 avenue Foch"
    assert QontoClientLink.objects.get().differences == ["name", "address"]

    body = card(client, invoice_world)
    [notice] = body["invoices"][0]["notices"]
    assert notice["code"] == "client_differs_in_qonto"
    assert "nom, adresse" in notice["message"]
    warning = next(w for w in body["readiness"]["warnings"] if w["code"] == "client_differs_in_qonto")
    assert warning["url"].endswith(f"/record/0-2/{demo.COMPANY_COMPLETE_ID}")


@pytest.mark.django_db
def test_two_companies_with_one_siret_and_two_names_need_a_confirmation(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        assert create(client, invoice_world).status_code == 202  # ACME Industrie SAS → a Qonto client
    hub = invoice_world.hubspot
    other = hub.create_company(
        demo.PORTAL_ID, name="Bureau d'études Martin", address="5 rue Neuve", city="Lille", zip="59000",
        country="France", siret=demo.COMPLETE_SIRET,
    )  # fmt: skip
    deal = hub.create_deal(
        demo.PORTAL_ID, dealname="Étude Martin", amount="1000", company_id=other["id"], dealstage="closedwon"
    )
    body = card(client, invoice_world, deal["id"])
    [warning] = [w for w in body["readiness"]["warnings"] if w["code"] == "shared_tax_id"]
    assert "ACME Industrie SAS" in warning["message"]
    assert demo.COMPLETE_SIRET in warning["message"]

    refused = create(client, invoice_world, deal["id"])
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "shared_tax_id"
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = create(client, invoice_world, deal["id"], confirm_shared_client=True)
    assert confirmed.status_code == 202, confirmed.content
    assert len(invoice_world.qonto.list_clients(demo.QONTO_LOGIN)) == 1
    assert invoice_world.qonto.list_clients(demo.QONTO_LOGIN)[0]["name"] == "ACME Industrie SAS"


# --- HubSpot deal properties: French labels, "—" without a number ------------------------------------------
@pytest.mark.django_db
def test_the_deal_page_shows_french_labels_and_a_dash_without_a_number(
    client, invoice_world: InvoiceWorld, drafted: Invoice
) -> None:  # type: ignore[no-untyped-def]
    shown = deal_page_properties(invoice_world)
    assert shown["qonto_last_invoice_status"] == "Brouillon"  # the option's label, not "draft"
    assert shown["qonto_overdue"] == "Non"
    assert shown["qonto_last_invoice_number"] in (None, "")  # the page prints "—"
    assert shown["qonto_last_invoice_issue_date"].count("/") == 2


# --- the card's HubSpot reads are cached per deal ------------------------------------------------------
@pytest.mark.django_db
def test_card_reads_hubspot_once_then_our_writes_and_refresh_read_again(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    log = invoice_world.sb.sandbox.log

    def deal_reads() -> int:
        return sum(
            1
            for e in log.entries("hubspot")
            if e.path == f"/crm/objects/2026-03/deals/{demo.DEAL_COMPLETE_ID}"
        )

    log.clear()
    for _ in range(5):
        card(client, invoice_world)
    assert deal_reads() == 1
    with django_capture_on_commit_callbacks(execute=True):
        create(client, invoice_world, kind="deposit", percentage=30)  # reads HubSpot fresh, drops the cache
    after_click = deal_reads()
    card(client, invoice_world)
    assert deal_reads() == after_click + 1
    call(client, invoice_world, "POST", f"/deals/{demo.DEAL_COMPLETE_ID}/refresh")
    assert deal_reads() == after_click + 2


@pytest.mark.django_db
def test_a_cached_card_get_costs_a_handful_of_queries_and_no_call(
    client, invoice_world: InvoiceWorld, drafted: Invoice, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    card(client, invoice_world)  # fills the deal's snapshot cache
    invoice_world.sb.sandbox.log.clear()
    # The tenant with its Qonto connection, plan and last sync (one query), its invoices, its links.
    with django_assert_max_num_queries(3):
        card(client, invoice_world)
    assert invoice_world.sb.sandbox.log.entries() == []  # neither HubSpot nor Qonto
