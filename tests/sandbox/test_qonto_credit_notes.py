"""The Qonto simulator's credit notes (avoirs): ``/v2/credit_notes`` and "Créer un avoir" (spec §4.5)."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from sandbox import demo
from sandbox.qonto import QontoSim
from sandbox.testing import RunningSandbox
from tests.sandbox import test_qonto_sim as base
from tests.sandbox.test_qonto_sim import Api, assert_qonto_error, eur, item

# The Qonto simulator tests' fixtures, shared (a module-scoped sandbox reset before each test).
running = base.running
_fresh = base._fresh
sim = base.sim
api = base.api
client_id = base.client_id


def finalized(api: Api, client_id: str, *, price: str = "1200.00") -> dict[str, Any]:
    inv = api.create_invoice(client_id, items=[item(unit_price=eur(price))])
    r = api.action(inv["id"], "finalize")
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()["client_invoice"]
    return out


def credit_body(for_invoice: str, value: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "invoice_id": for_invoice,
        "issue_date": "2026-07-15",
        "reason": "Remise commerciale",
        "currency": "EUR",
        "items": [item(title="Remise", unit_price=eur(value))],
    }
    body.update(overrides)
    return body


def test_partial_credit_note_has_the_documented_shape_and_leaves_the_invoice_alone(
    api: Api, client_id: str
) -> None:
    inv = finalized(api, client_id)  # 1 200 € HT, 1 440 € TTC
    r = api.post("/v2/credit_notes", json=credit_body(inv["id"], "100.00"))
    assert r.status_code == 200, r.text
    note = r.json()["credit_note"]
    # fmt: off
    assert {
        "id", "invoice_id", "invoice_issue_date", "number", "issue_date", "total_amount",
        "total_amount_cents", "vat_amount", "vat_amount_cents", "currency", "items", "client",
        "created_at", "finalized_at", "invoice_url", "attachment_id", "einvoicing_status",
    } <= set(note)
    # fmt: on
    assert "status" not in note  # final once created: no status of its own
    assert note["invoice_id"] == inv["id"]
    assert note["invoice_issue_date"] == inv["issue_date"]
    assert note["total_amount"] == eur("120.00")
    assert note["total_amount_cents"] == 12000
    assert note["vat_amount_cents"] == 2000
    assert note["number"].startswith("AV-")
    assert api.get(f"/v2/credit_notes/{note['id']}").json()["credit_note"] == note
    after = api.get(f"/v2/client_invoices/{inv['id']}").json()["client_invoice"]
    assert after["status"] == "unpaid"
    assert after["credit_notes_ids"] == [note["id"]]
    assert after["updated_at"] == inv["updated_at"]  # partial: no updated_at event (stricter)


def test_credit_notes_adding_up_to_the_total_cancel_the_invoice_and_never_exceed_it(
    api: Api, client_id: str
) -> None:
    inv = finalized(api, client_id)
    assert api.post("/v2/credit_notes", json=credit_body(inv["id"], "1000.00")).status_code == 200
    too_much = api.post("/v2/credit_notes", json=credit_body(inv["id"], "200.01"))
    err = assert_qonto_error(too_much, 422, "credit_notes_exceed_invoice_amount")
    assert err["source"]["pointer"] == "/data/attributes/items"
    assert api.get(f"/v2/client_invoices/{inv['id']}").json()["client_invoice"]["status"] == "unpaid"
    rest = api.post("/v2/credit_notes", json=credit_body(inv["id"], "200.00"))
    assert rest.status_code == 200, rest.text
    after = api.get(f"/v2/client_invoices/{inv['id']}").json()["client_invoice"]
    assert after["status"] == "canceled"
    assert after["updated_at"] > inv["updated_at"]  # a status change is an updated_at event
    assert len(after["credit_notes_ids"]) == 2
    assert_qonto_error(
        api.post("/v2/credit_notes", json=credit_body(inv["id"], "1.00")), 422, "invalid_status_transition"
    )


@pytest.mark.parametrize(
    ("change", "code", "pointer"),
    [
        ({"invoice_id": "00000000-0000-0000-0000-000000000000"}, "not_found", "/data/attributes/invoice_id"),
        ({"currency": "USD"}, "not_in_list", "/data/attributes/currency"),
        ({"reason": ""}, "blank", "/data/attributes/reason"),
        ({"reason": "x" * 501}, "too_long", "/data/attributes/reason"),
        ({"issue_date": "15/07/2026"}, "invalid", "/data/attributes/issue_date"),
        ({"items": []}, "blank", "/data/attributes/items"),
        ({"items": [item(quantity=1)]}, "invalid", "/data/attributes/items/0/quantity"),
    ],
)
def test_invalid_credit_notes_are_refused_with_a_pointer(
    api: Api, client_id: str, change: dict[str, Any], code: str, pointer: str
) -> None:
    inv = finalized(api, client_id)
    err = assert_qonto_error(
        api.post("/v2/credit_notes", json=credit_body(inv["id"], "10.00", **change)), 422, code
    )
    assert err["source"]["pointer"] == pointer


def test_a_draft_cannot_be_credited_and_a_wrapped_body_is_refused(api: Api, client_id: str) -> None:
    draft = api.create_invoice(client_id)
    assert_qonto_error(
        api.post("/v2/credit_notes", json=credit_body(draft["id"], "10.00")), 422, "invalid_status_transition"
    )
    inv = finalized(api, client_id)
    wrapped = {"credit_note": credit_body(inv["id"], "10.00")}
    assert_qonto_error(api.post("/v2/credit_notes", json=wrapped), 422, "invalid_body")


def test_list_paginates_filters_on_created_at_and_stays_within_the_organization(
    running: RunningSandbox, api: Api, client_id: str, sim: QontoSim
) -> None:
    inv = finalized(api, client_id)
    ids = []
    for _ in range(3):
        r = api.post("/v2/credit_notes", json=credit_body(inv["id"], "10.00"))
        ids.append(r.json()["credit_note"]["id"])
        running.sandbox.clock.advance(60)
    page1 = api.get("/v2/credit_notes", params={"per_page": 2, "sort_by": "created_at:asc"}).json()
    assert [n["id"] for n in page1["credit_notes"]] == ids[:2]
    assert page1["meta"]["next_page"] == 2
    assert page1["meta"]["total_count"] == 3
    page2 = api.get("/v2/credit_notes", params={"per_page": 2, "page": 2, "sort_by": "created_at:asc"}).json()
    assert [n["id"] for n in page2["credit_notes"]] == ids[2:]
    assert page2["meta"]["next_page"] is None
    newest_first = api.get("/v2/credit_notes").json()["credit_notes"]
    assert [n["id"] for n in newest_first] == ids[::-1]
    third = api.get(f"/v2/credit_notes/{ids[2]}").json()["credit_note"]
    recent = api.get("/v2/credit_notes", params={"filter[created_at_from]": third["created_at"]}).json()
    assert [n["id"] for n in recent["credit_notes"]] == [ids[2]]
    assert_qonto_error(api.get("/v2/credit_notes", params={"per_page": 101}), 422, "invalid")
    other = Api(running.url, demo.OTHER_QONTO_LOGIN, demo.OTHER_QONTO_SECRET_KEY)
    assert other.get("/v2/credit_notes").json()["credit_notes"] == []
    assert other.get(f"/v2/credit_notes/{ids[0]}").status_code == 404


def test_the_qonto_user_creates_a_full_or_partial_credit_note(
    running: RunningSandbox, api: Api, client_id: str, sim: QontoSim
) -> None:
    a, b = finalized(api, client_id), finalized(api, client_id)
    partial = requests.post(
        f"{running.url}/_sim/qonto/invoices/{a['id']}/credit_notes", json={"amount": "300"}, timeout=5
    )
    assert partial.status_code == 201, partial.text
    assert partial.json()["credit_note"]["total_amount"] == eur("360.00")  # at the invoice's 20 %
    assert sim.get_invoice(a["id"])["status"] == "unpaid"  # type: ignore[index]
    full = sim.create_credit_note(b["id"])  # the whole invoice, line by line
    assert full["total_amount_cents"] == b["total_amount_cents"]
    assert sim.get_invoice(b["id"])["status"] == "canceled"  # type: ignore[index]
    assert len(sim.list_credit_notes(demo.QONTO_LOGIN)) == 2
    # The demo web app offers the action on finalized invoices, as a form posting to the control route.
    page = requests.get(f"{running.url}/qonto/app/{demo.QONTO_LOGIN}", timeout=5).text
    assert f"/_sim/qonto/invoices/{a['id']}/credit_notes" in page
    assert "Créer un avoir partiel" in page


def test_negative_amounts_switch_and_state_round_trip(api: Api, client_id: str, sim: QontoSim) -> None:
    inv = finalized(api, client_id)
    sim.set_switches(credit_note_negative_amounts=True)
    note = api.post("/v2/credit_notes", json=credit_body(inv["id"], "50.00")).json()["credit_note"]
    assert note["items"][0]["quantity"] == "-1"
    assert note["items"][0]["subtotal_cents"] == -5000
    assert note["total_amount_cents"] == 6000
    state = sim.dump_state()
    sim.load_state(state)
    assert [n["id"] for n in sim.list_credit_notes(demo.QONTO_LOGIN)] == [note["id"]]
