"""The Qonto simulator (``sandbox/qonto/``) over real HTTP, against the contract of spec §2-§5 and §9."""

from __future__ import annotations

import base64
import copy
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from sandbox import demo
from sandbox.core import Sandbox, SandboxConfig, parse_iso
from sandbox.qonto import QontoSim, sign_webhook
from sandbox.server import SandboxApp
from sandbox.testing import RunningSandbox, start_sandbox

# In the future: Clock.tick() never goes back, so freezing before real time would not take.
FROZEN_AT = datetime(2030, 7, 15, 10, 0, tzinfo=UTC)

# Spec §3: the client create example.
CLIENT_EXAMPLE: dict[str, Any] = {
    "kind": "company",
    "name": "ACME SAS",
    "email": "compta@acme.fr",
    "tax_identification_number": "73282932000074",
    "vat_number": "FR44732829320",
    "currency": "EUR",
    "locale": "FR",
    "billing_address": {
        "street_address": "12 rue de Rivoli",
        "city": "Paris",
        "zip_code": "75004",
        "country_code": "FR",
    },
}

# Spec §4.1: the invoice create example (client_id filled in per test).
INVOICE_EXAMPLE: dict[str, Any] = {
    "client_id": "3c90c3cc-0d44-4b50-8888-8dd25736052a",
    "status": "draft",
    "issue_date": "2026-07-01",
    "due_date": "2026-07-31",
    "currency": "EUR",
    "payment_methods": {"iban": "FR7616798000010000005663951"},
    "purchase_order": "HubSpot deal 1234567890",
    "items": [
        {
            "title": "Abonnement annuel Pro",
            "quantity": "1",
            "unit": "unit",
            "unit_price": {"value": "1200.00", "currency": "EUR"},
            "vat_rate": "0.2",
        }
    ],
}


# --- fixtures ----------------------------------------------------------------------------------------
def _start() -> RunningSandbox:
    try:
        return start_sandbox(SandboxConfig(port=0))
    except ImportError:
        # Another simulator is missing or broken: serve Qonto alone, the same way.
        config = SandboxConfig(port=0)
        sandbox = Sandbox(config)
        sandbox.register(QontoSim(sandbox))
        sandbox.seed_demo()
        server = make_server(config.host, config.port, SandboxApp(sandbox), threaded=True)
        config.port = server.socket.getsockname()[1]
        thread = threading.Thread(target=server.serve_forever, name="sandbox", daemon=True)
        thread.start()
        return RunningSandbox(sandbox=sandbox, server=server, thread=thread)


@pytest.fixture(scope="module")
def running() -> Iterator[RunningSandbox]:
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # dropped connections log tracebacks
    rs = _start()
    yield rs
    rs.stop()


@pytest.fixture(autouse=True)
def _fresh(running: RunningSandbox) -> None:
    running.sandbox.reset()  # clock, ids, log, faults, switches, state; demo re-seeded


@pytest.fixture
def sim(running: RunningSandbox) -> QontoSim:
    provider: QontoSim = running.provider("qonto")
    return provider


class Api:
    """A Qonto API client for one organization."""

    def __init__(
        self, base_url: str, login: str = demo.QONTO_LOGIN, secret: str = demo.QONTO_SECRET_KEY
    ) -> None:
        self.base = f"{base_url}/qonto"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"{login}:{secret}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.session.get(self.base + path, timeout=5, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.session.post(self.base + path, timeout=5, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.session.patch(self.base + path, timeout=5, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.session.delete(self.base + path, timeout=5, **kw)

    def create_client(self, **overrides: Any) -> str:
        body = {**copy.deepcopy(CLIENT_EXAMPLE), **overrides}
        r = self.post("/v2/clients", json=body)
        assert r.status_code == 200, r.text
        return str(r.json()["client"]["id"])

    def create_invoice(self, client_id: str, **overrides: Any) -> dict[str, Any]:
        r = self.post("/v2/client_invoices", json=invoice_body(client_id, **overrides))
        assert r.status_code == 200, r.text
        invoice: dict[str, Any] = r.json()["client_invoice"]
        return invoice

    def action(self, invoice_id: str, action: str, **kw: Any) -> requests.Response:
        return self.post(f"/v2/client_invoices/{invoice_id}/{action}", **kw)


@pytest.fixture
def api(running: RunningSandbox) -> Api:
    return Api(running.url)


@pytest.fixture
def client_id(api: Api) -> str:
    return api.create_client()


def invoice_body(client_id: str, **overrides: Any) -> dict[str, Any]:
    body = copy.deepcopy(INVOICE_EXAMPLE)
    body["client_id"] = client_id
    body.update(overrides)
    return body


def eur(value: str) -> dict[str, str]:
    return {"value": value, "currency": "EUR"}


def item(**overrides: Any) -> dict[str, Any]:
    base = copy.deepcopy(INVOICE_EXAMPLE["items"][0])
    base.update(overrides)
    return base


def assert_qonto_error(r: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    data = r.json()
    assert isinstance(data["trace_id"], str)
    assert len(data["trace_id"]) == 32
    codes = [e["code"] for e in data["errors"]]
    assert code in codes, data
    err: dict[str, Any] = data["errors"][codes.index(code)]
    assert err["detail"]
    return err


# --- contract: the spec's examples -------------------------------------------------------------------
def test_client_create_example_round_trips(api: Api) -> None:
    r = api.post("/v2/clients", json=CLIENT_EXAMPLE)
    assert r.status_code == 200
    client = r.json()["client"]
    for key, value in CLIENT_EXAMPLE.items():
        assert client[key] == value, key
    assert client["type"] == "company"
    assert client["e_invoicing_reachable"] is False
    assert parse_iso(client["created_at"]) == parse_iso(client["updated_at"])
    fetched = api.get(f"/v2/clients/{client['id']}").json()["client"]
    assert fetched == client


def test_invoice_create_example_has_the_shape_of_spec_4_2(api: Api, client_id: str, sim: QontoSim) -> None:
    r = api.post("/v2/client_invoices", json=invoice_body(client_id))
    assert r.status_code == 200
    inv = r.json()["client_invoice"]
    org = sim.organization(demo.QONTO_LOGIN)
    # fmt: off
    expected_keys = {
        "id", "organization_id", "status", "number", "invoice_type", "purchase_order", "invoice_url",
        "attachment_id", "currency", "total_amount", "total_amount_cents", "vat_amount",
        "vat_amount_cents", "amount_paid", "issue_date", "due_date", "created_at", "updated_at",
        "finalized_at", "paid_at", "items", "client", "payment_methods", "credit_notes_ids",
        "einvoicing_status", "einvoicing_lifecycle_events", "discount_conditions",
        "late_payment_penalties", "legal_fixed_compensation", "contact_email", "header", "footer",
        "terms_and_conditions"
    }
    # fmt: on
    assert expected_keys <= set(inv)
    assert inv["organization_id"] == org["id"]
    assert inv["status"] == "draft"
    assert inv["number"] is None
    assert inv["finalized_at"] is None
    assert inv["attachment_id"] is None
    assert inv["paid_at"] is None
    assert inv["invoice_type"] == "standard"
    assert inv["purchase_order"] == "HubSpot deal 1234567890"
    assert inv["invoice_url"] == f"https://pay.qonto.com/invoices/{inv['id']}"
    assert inv["currency"] == "EUR"
    assert inv["total_amount"] == {"value": "1440.00", "currency": "EUR"}
    assert inv["total_amount_cents"] == 144000
    assert inv["vat_amount"] == {"value": "240.00", "currency": "EUR"}
    assert inv["vat_amount_cents"] == 24000
    assert inv["amount_paid"] == {"value": "0.00", "currency": "EUR"}
    assert (inv["issue_date"], inv["due_date"]) == ("2026-07-01", "2026-07-31")
    assert inv["created_at"] == inv["updated_at"]
    [line] = inv["items"]
    assert line["title"] == "Abonnement annuel Pro"
    assert line["quantity"] == "1"
    assert line["unit_price"] == {"value": "1200.00", "currency": "EUR"}
    assert line["unit_price_cents"] == 120000
    assert line["vat_rate"] == "0.2"
    assert (line["subtotal_cents"], line["total_vat_cents"], line["total_amount_cents"]) == (
        120000,
        24000,
        144000,
    )
    assert line["subtotal"] == {"value": "1200.00", "currency": "EUR"}
    assert line["total_vat"] == {"value": "240.00", "currency": "EUR"}
    assert line["total_amount"] == {"value": "1440.00", "currency": "EUR"}
    assert {k: inv["client"][k] for k in ("id", "type", "name")} == {
        "id": client_id,
        "type": "company",
        "name": "ACME SAS",
    }
    assert inv["payment_methods"] == [
        {
            "type": "transfer",
            "iban": demo.QONTO_IBAN_MAIN,
            "bic": org["bank_accounts"][0]["bic"],
            "beneficiary_name": demo.QONTO_LEGAL_NAME,
        }
    ]
    assert inv["credit_notes_ids"] == []
    assert inv["einvoicing_status"] is None
    assert api.get(f"/v2/client_invoices/{inv['id']}").json()["client_invoice"] == inv


def test_organization_lists_main_active_eur_account_first(api: Api, sim: QontoSim) -> None:
    r = api.get("/v2/organization")
    assert r.status_code == 200
    org = r.json()["organization"]
    assert org["slug"] == demo.QONTO_LOGIN
    assert org["legal_name"] == demo.QONTO_LEGAL_NAME
    for key in ("id", "legal_number", "legal_form", "legal_country", "legal_address", "legal_sector"):
        assert org[key], key
    for key in ("legal_registration_date", "legal_share_capital", "contract_signed_at", "locale"):
        assert org[key] is not None, key
    assert [a["iban"] for a in org["bank_accounts"]] == [demo.QONTO_IBAN_MAIN, demo.QONTO_IBAN_SECOND]
    main = org["bank_accounts"][0]
    assert (main["main"], main["status"], main["currency"]) == (True, "active", "EUR")
    assert org["bank_accounts"][1]["main"] is False
    # fmt: off
    account_keys = {
        "slug", "iban", "bic", "currency", "balance", "balance_cents", "authorized_balance",
        "authorized_balance_cents", "name", "status", "main", "updated_at", "id", "is_external_account",
        "organization_id"
    }
    # fmt: on
    assert account_keys <= set(main)
    assert main["balance"] * 100 == main["balance_cents"]
    other = Api(api.base.removesuffix("/qonto"), demo.OTHER_QONTO_LOGIN, demo.OTHER_QONTO_SECRET_KEY)
    other_org = other.get("/v2/organization").json()["organization"]
    assert [a["iban"] for a in other_org["bank_accounts"]] == [demo.OTHER_QONTO_IBAN]


# --- strict invoice validation -----------------------------------------------------------------------
VALIDATION_CASES: list[tuple[str, dict[str, Any], Any, str, str]] = [
    # (id, client overrides, body mutation, expected code, expected pointer)
    ("wrapped", {}, "wrap", "invalid_body", "/data/attributes/client_invoice"),
    (
        "unknown client",
        {},
        {"client_id": "00000000-0000-4000-8000-000000000000"},
        "not_found",
        "/data/attributes/client_id",
    ),
    ("client lacks currency", {"currency": None}, {}, "blank", "/data/attributes/currency"),
    ("client lacks locale", {"locale": None}, {}, "blank", "/data/attributes/locale"),
    (
        "client address incomplete",
        {"billing_address": {"city": "Paris", "zip_code": "75004", "country_code": "FR"}},
        {},
        "blank",
        "/data/attributes/billing_address/street_address",
    ),
    ("client currency not EUR", {"currency": "USD"}, {}, "invalid", "/data/attributes/currency"),
    ("invoice currency not EUR", {}, {"currency": "USD"}, "not_in_list", "/data/attributes/currency"),
    (
        "unit price currency not EUR",
        {},
        {"items": [item(unit_price={"value": "10.00", "currency": "GBP"})]},
        "not_in_list",
        "/data/attributes/items/0/unit_price/currency",
    ),
    (
        "payment_methods missing",
        {},
        {"payment_methods": None},
        "invalid_iban",
        "/data/attributes/payment_methods/iban",
    ),
    (
        "iban empty",
        {},
        {"payment_methods": {"iban": ""}},
        "invalid_iban",
        "/data/attributes/payment_methods/iban",
    ),
    (
        "iban of another organization",
        {},
        {"payment_methods": {"iban": demo.OTHER_QONTO_IBAN}},
        "invalid_iban",
        "/data/attributes/payment_methods/iban",
    ),
    ("items empty", {}, {"items": []}, "blank", "/data/attributes/items"),
    ("title > 40", {}, {"items": [item(title="x" * 41)]}, "too_long", "/data/attributes/items/0/title"),
    (
        "description > 1800",
        {},
        {"items": [item(description="x" * 1801)]},
        "too_long",
        "/data/attributes/items/0/description",
    ),
    ("quantity as number", {}, {"items": [item(quantity=1)]}, "invalid", "/data/attributes/items/0/quantity"),
    (
        "unit price as number",
        {},
        {"items": [item(unit_price={"value": 1200.0, "currency": "EUR"})]},
        "invalid",
        "/data/attributes/items/0/unit_price/value",
    ),
    (
        "vat_rate as number",
        {},
        {"items": [item(vat_rate=0.2)]},
        "invalid",
        "/data/attributes/items/0/vat_rate",
    ),
    (
        "vat_rate as percent",
        {},
        {"items": [item(vat_rate="20")]},
        "invalid",
        "/data/attributes/items/0/vat_rate",
    ),
    (
        "vat_rate negative",
        {},
        {"items": [item(vat_rate="-0.2")]},
        "invalid",
        "/data/attributes/items/0/vat_rate",
    ),
    (
        "vat_rate not French",
        {},
        {"items": [item(vat_rate="0.19")]},
        "not_in_list",
        "/data/attributes/items/0/vat_rate",
    ),
    ("due before issue", {}, {"due_date": "2026-06-30"}, "invalid", "/data/attributes/due_date"),
    ("issue date malformed", {}, {"issue_date": "01/07/2026"}, "invalid", "/data/attributes/issue_date"),
    ("due date impossible", {}, {"due_date": "2026-02-30"}, "invalid", "/data/attributes/due_date"),
    ("status not creatable", {}, {"status": "paid"}, "not_in_list", "/data/attributes/status"),
]


@pytest.mark.parametrize(
    ("client_overrides", "mutation", "code", "pointer"),
    [case[1:] for case in VALIDATION_CASES],
    ids=[case[0] for case in VALIDATION_CASES],
)
def test_invalid_invoice_is_refused_with_a_pointer(
    api: Api, sim: QontoSim, client_overrides: dict[str, Any], mutation: Any, code: str, pointer: str
) -> None:
    cid = api.create_client(**client_overrides)
    body: dict[str, Any] = invoice_body(cid)
    if mutation == "wrap":
        body = {"client_invoice": body}
    else:
        body.update(mutation)
        body = {k: v for k, v in body.items() if v is not None}
    err = assert_qonto_error(api.post("/v2/client_invoices", json=body), 422, code)
    assert err["source"]["pointer"] == pointer
    if code == "invalid_iban" and mutation.get("payment_methods") is None:
        assert err["detail"] == "IBAN is empty"
    assert sim.list_invoices(demo.QONTO_LOGIN) == []


def test_vat_outside_the_french_set_is_allowed_when_the_switch_is_off(
    api: Api, client_id: str, sim: QontoSim
) -> None:
    sim.set_switches(french_vat_only=False)
    inv = api.create_invoice(client_id, items=[item(vat_rate="0.19")])
    assert inv["vat_amount_cents"] == 22800
    r = api.post("/v2/client_invoices", json=invoice_body(client_id, items=[item(vat_rate="20")]))
    assert_qonto_error(r, 422, "invalid")


def test_errors_as_object_mode(api: Api, client_id: str, sim: QontoSim) -> None:
    sim.set_switches(errors_as_object=True)
    r = api.post("/v2/client_invoices", json=invoice_body(client_id, items=[item(vat_rate="20")]))
    assert r.status_code == 422
    data = r.json()
    assert isinstance(data["errors"], dict)
    assert list(data["errors"]) == ["items.0.vat_rate"]
    assert len(data["trace_id"]) == 32


def test_duplicate_number_is_a_conflict(api: Api, client_id: str) -> None:
    first = api.create_invoice(client_id, number="MANUEL-001")
    assert first["number"] is None  # drafts show no number, even a requested one
    err = assert_qonto_error(
        api.post("/v2/client_invoices", json=invoice_body(client_id, number="MANUEL-001")),
        409,
        "invoice_number_already_exists",
    )
    assert err["source"]["pointer"] == "/data/attributes/number"
    assert api.action(first["id"], "finalize").json()["client_invoice"]["number"] == "MANUEL-001"


# --- auth --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(f"{demo.QONTO_LOGIN}:{demo.QONTO_SECRET_KEY}".encode()).decode(),
        f"Basic {demo.QONTO_LOGIN}:{demo.QONTO_SECRET_KEY}",
        f"Bearer {demo.QONTO_SECRET_KEY}",
        f"Bearer {demo.QONTO_LOGIN}:{demo.QONTO_SECRET_KEY}",
        f"{demo.QONTO_LOGIN}:wrong-secret",
        f"{demo.QONTO_LOGIN}:{demo.OTHER_QONTO_SECRET_KEY}",
        f"unknown-org:{demo.QONTO_SECRET_KEY}",
        demo.QONTO_SECRET_KEY,
        None,
    ],
    ids=[
        "basic-b64",
        "basic-raw",
        "bearer",
        "bearer-pair",
        "wrong",
        "other-key",
        "unknown",
        "bare",
        "missing",
    ],
)
def test_only_login_colon_secret_is_accepted(running: RunningSandbox, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    r = requests.get(f"{running.url}/qonto/v2/organization", headers=headers, timeout=5)
    err = assert_qonto_error(r, 401, "unauthorized")
    assert "source" not in err


def test_staging_token_modes(running: RunningSandbox, api: Api, sim: QontoSim) -> None:
    url = f"{running.url}/qonto/v2/organization"
    auth = {"Authorization": f"{demo.QONTO_LOGIN}:{demo.QONTO_SECRET_KEY}"}
    # Production rejects a staging token.
    r = requests.get(url, headers={**auth, "X-Qonto-Staging-Token": "sandbox-staging-token"}, timeout=5)
    assert_qonto_error(r, 401, "unauthorized")
    sim.set_switches(staging_mode=True)
    for token in (None, "wrong-token"):
        headers = {**auth, **({"X-Qonto-Staging-Token": token} if token else {})}
        r = requests.get(url, headers=headers, timeout=5, allow_redirects=False)
        assert r.status_code == 302
        assert r.headers["Location"] == "https://qonto.onelogin.com/login"
    sim.set_switches(staging_failure="html")
    r = requests.get(url, headers=auth, timeout=5, allow_redirects=False)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    assert "OneLogin" in r.text
    r = requests.get(url, headers={**auth, "X-Qonto-Staging-Token": "sandbox-staging-token"}, timeout=5)
    assert r.status_code == 200
    assert r.json()["organization"]["slug"] == demo.QONTO_LOGIN


def test_too_many_401s_throttle_the_ip(running: RunningSandbox, api: Api, sim: QontoSim) -> None:
    sim.set_switches(unauthorized_limit=3)
    for _ in range(3):
        r = requests.get(f"{running.url}/qonto/v2/organization", headers={"Authorization": "x:y"}, timeout=5)
        assert r.status_code == 401
    assert_qonto_error(api.get("/v2/organization"), 429, "too_many_requests")


def test_rate_limit_per_ip(api: Api, sim: QontoSim) -> None:
    sim.set_switches(rate_limit_10s=5)
    assert [api.get("/v2/organization").status_code for _ in range(5)] == [200] * 5
    r = api.get("/v2/organization")
    assert_qonto_error(r, 429, "too_many_requests")
    assert "Retry-After" not in r.headers  # Qonto documents none
    sim.set_switches(rate_limit_retry_after=True)
    r = api.get("/v2/organization")
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 10


# --- clients -----------------------------------------------------------------------------------------
def test_client_filters(api: Api) -> None:
    acme = api.create_client()
    demo_id = api.create_client(
        name="Société Démo",
        email="Contact@Demo.FR",
        tax_identification_number="12345678900011",
        vat_number=None,
    )
    jane = api.post(
        "/v2/clients",
        json={"kind": "individual", "first_name": "Jeanne", "last_name": "Héloïse", "currency": "EUR"},
    ).json()["client"]
    assert jane["name"] == "Jeanne Héloïse"

    def ids(**params: str) -> list[str]:
        r = api.get("/v2/clients", params=params)
        assert r.status_code == 200, r.text
        return [c["id"] for c in r.json()["clients"]]

    assert ids(**{"filter[name]": "DEMO"}) == [demo_id]
    assert ids(**{"filter[name]": "soci"}) == [demo_id]
    assert ids(**{"filter[name]": "heloise"}) == [jane["id"]]
    assert ids(**{"filter[email]": "contact@demo.fr"}) == [demo_id]
    assert ids(**{"filter[tax_identification_number]": "73282932000074"}) == [acme]
    assert ids(**{"filter[vat_number]": "fr44732829320"}) == [acme]
    assert ids(**{"filter[tax_identification_number]": "7328293200007"}) == []  # exact, not partial
    assert ids() == [acme, jane["id"], demo_id]  # name:asc, accents folded
    assert ids(sort_by="created_at:desc") == [jane["id"], demo_id, acme]
    err = assert_qonto_error(api.get("/v2/clients", params={"filter[name]": "a"}), 422, "invalid")
    assert err["source"]["parameter"] == "filter[name]"


def test_client_validation_kind_precedence_and_limits(api: Api) -> None:
    r = api.post("/v2/clients", json={"type": "individual", "kind": "company", "name": "Kind wins"})
    assert r.status_code == 200
    assert (r.json()["client"]["kind"], r.json()["client"]["type"]) == ("company", "company")
    r = api.post("/v2/clients", json={"type": "company", "name": "Legacy type"})
    assert r.json()["client"]["kind"] == "company"
    cases = [
        ({"client": CLIENT_EXAMPLE}, "invalid_body", "/data/attributes/client"),
        ({"kind": "company", "name": "x" * 251}, "too_long", "/data/attributes/name"),
        ({"kind": "company", "name": "A", "vat_number": "F" * 21}, "too_long", "/data/attributes/vat_number"),
        (
            {"kind": "company", "name": "A", "tax_identification_number": "1" * 31},
            "too_long",
            "/data/attributes/tax_identification_number",
        ),
        (
            {"kind": "individual", "first_name": "x" * 61, "last_name": "B"},
            "too_long",
            "/data/attributes/first_name",
        ),
        ({"kind": "company"}, "blank", "/data/attributes/name"),
        ({"name": "No kind"}, "blank", "/data/attributes/kind"),
        ({"kind": "robot", "name": "A"}, "not_in_list", "/data/attributes/kind"),
        ({"kind": "freelancer", "first_name": "A", "last_name": "B"}, "not_in_list", "/data/attributes/kind"),
    ]
    for body, code, pointer in cases:
        err = assert_qonto_error(api.post("/v2/clients", json=body), 422, code)
        assert err["source"]["pointer"] == pointer, body


def test_client_patch_then_invoice_then_delete(api: Api) -> None:
    cid = api.create_client(currency=None)
    r = api.post("/v2/client_invoices", json=invoice_body(cid))
    assert_qonto_error(r, 422, "blank")
    before = api.get(f"/v2/clients/{cid}").json()["client"]["updated_at"]
    r = api.patch(f"/v2/clients/{cid}", json={"currency": "EUR"})
    assert r.status_code == 200
    assert r.json()["client"]["currency"] == "EUR"
    assert r.json()["client"]["name"] == "ACME SAS"
    assert parse_iso(r.json()["client"]["updated_at"]) > parse_iso(before)
    api.create_invoice(cid)
    assert api.delete(f"/v2/clients/{cid}").status_code == 204
    assert_qonto_error(api.get(f"/v2/clients/{cid}"), 404, "not_found")


# --- lifecycle ---------------------------------------------------------------------------------------
def test_full_lifecycle_with_strictly_increasing_updated_at(api: Api, client_id: str, sim: QontoSim) -> None:
    sim.clock.freeze(FROZEN_AT)
    sim.set_switches(attachment_delay_s=10)
    inv = api.create_invoice(client_id)
    stamps = [inv["updated_at"]]

    r = api.patch(
        f"/v2/client_invoices/{inv['id']}",
        json={"purchase_order": "HubSpot deal 42", "items": [item(quantity="2")]},
    )
    assert r.status_code == 200
    edited = r.json()["client_invoice"]
    assert (edited["purchase_order"], edited["total_amount_cents"], edited["status"]) == (
        "HubSpot deal 42",
        288000,
        "draft",
    )
    stamps.append(edited["updated_at"])

    finalized = api.action(inv["id"], "finalize").json()["client_invoice"]
    assert (finalized["status"], finalized["number"]) == ("unpaid", "F-2030-0001")
    assert parse_iso(finalized["finalized_at"]) == parse_iso(finalized["updated_at"])
    assert finalized["attachment_id"] is None  # the PDF is built asynchronously
    stamps.append(finalized["updated_at"])
    sim.clock.advance(10)
    attachment_id = api.get(f"/v2/client_invoices/{inv['id']}").json()["client_invoice"]["attachment_id"]
    assert attachment_id
    attachment = api.get(f"/v2/attachments/{attachment_id}").json()["attachment"]
    assert attachment["file_name"] == "F-2030-0001.pdf"
    assert requests.get(attachment["url"], timeout=5).content.startswith(b"%PDF")

    paid = api.action(inv["id"], "mark_as_paid", json={"paid_at": "2026-07-10"}).json()["client_invoice"]
    assert (paid["status"], paid["paid_at"], paid["amount_paid_cents"]) == (
        "paid",
        "2026-07-10T00:00:00Z",
        288000,
    )
    stamps.append(paid["updated_at"])
    repaid = api.action(inv["id"], "mark_as_paid", json={"paid_at": "2026-07-12"}).json()["client_invoice"]
    assert (repaid["status"], repaid["paid_at"]) == ("paid", "2026-07-12T00:00:00Z")
    stamps.append(repaid["updated_at"])
    unpaid = api.action(inv["id"], "unmark_as_paid").json()["client_invoice"]
    assert (unpaid["status"], unpaid["paid_at"], unpaid["amount_paid_cents"]) == ("unpaid", None, 0)
    stamps.append(unpaid["updated_at"])
    canceled = api.action(inv["id"], "mark_as_canceled").json()["client_invoice"]
    assert canceled["status"] == "canceled"
    assert canceled["number"] == "F-2030-0001"
    stamps.append(canceled["updated_at"])

    parsed = [parse_iso(s) for s in stamps]
    assert parsed == sorted(parsed)
    assert len(set(parsed)) == len(parsed)  # strictly increasing, even with the clock frozen
    second = api.create_invoice(client_id)
    assert api.action(second["id"], "finalize").json()["client_invoice"]["number"] == "F-2030-0002"


def test_deleted_draft_is_gone_from_the_api_but_kept_as_a_tombstone(
    api: Api, client_id: str, sim: QontoSim
) -> None:
    inv = api.create_invoice(client_id)
    assert api.delete(f"/v2/client_invoices/{inv['id']}").status_code == 204
    assert_qonto_error(api.get(f"/v2/client_invoices/{inv['id']}"), 404, "not_found")
    assert api.get("/v2/client_invoices").json()["meta"]["total_count"] == 0
    tomb = sim.get_invoice(inv["id"])
    assert tomb is not None
    assert tomb["deleted"] is True
    assert parse_iso(tomb["deleted_at"]) > parse_iso(inv["updated_at"])
    assert [i["id"] for i in sim.list_invoices(demo.QONTO_LOGIN, include_deleted=True)] == [inv["id"]]


def _invoice_in(api: Api, client_id: str, sim: QontoSim, status: str) -> dict[str, Any]:
    inv = api.create_invoice(client_id)
    if status in ("unpaid", "paid", "canceled"):
        sim.finalize(inv["id"])
    if status == "paid":
        sim.mark_paid(inv["id"])
    if status == "canceled":
        sim.cancel(inv["id"])
    got = sim.get_invoice(inv["id"])
    assert got is not None
    return got


REFUSED = [
    ("draft", "mark_as_paid"),
    ("draft", "unmark_as_paid"),
    ("draft", "mark_as_canceled"),
    ("unpaid", "finalize"),
    ("unpaid", "unmark_as_paid"),
    ("unpaid", "PATCH"),
    ("unpaid", "DELETE"),
    ("paid", "finalize"),
    ("paid", "mark_as_canceled"),
    ("paid", "PATCH"),
    ("paid", "DELETE"),
    ("canceled", "finalize"),
    ("canceled", "mark_as_paid"),
    ("canceled", "unmark_as_paid"),
    ("canceled", "mark_as_canceled"),
    ("canceled", "DELETE"),
]


@pytest.mark.parametrize(("status", "action"), REFUSED, ids=[f"{s}-{a}" for s, a in REFUSED])
def test_refused_transitions(api: Api, client_id: str, sim: QontoSim, status: str, action: str) -> None:
    inv = _invoice_in(api, client_id, sim, status)
    path = f"/v2/client_invoices/{inv['id']}"
    if action == "PATCH":
        r = api.patch(path, json={"purchase_order": "changed"})
    elif action == "DELETE":
        r = api.delete(path)
    else:
        r = api.action(inv["id"], action)
    assert_qonto_error(r, 422, "invalid_status_transition")
    after = sim.get_invoice(inv["id"])
    assert after is not None
    assert (after["status"], after["updated_at"], after["purchase_order"]) == (
        status,
        inv["updated_at"],
        inv["purchase_order"],
    )


def test_mark_as_paid_refuses_a_future_date(api: Api, client_id: str, sim: QontoSim) -> None:
    sim.clock.freeze(FROZEN_AT)
    inv = api.create_invoice(client_id, status="unpaid")
    err = assert_qonto_error(
        api.action(inv["id"], "mark_as_paid", json={"paid_at": "2030-07-16"}), 422, "invalid"
    )
    assert err["source"]["pointer"] == "/data/attributes/paid_at"
    r = api.action(inv["id"], "mark_as_paid")  # no body: paid now
    assert r.json()["client_invoice"]["paid_at"] == "2030-07-15T10:00:00Z"


def test_send_and_send_by_einvoice(api: Api, client_id: str, sim: QontoSim) -> None:
    inv = api.create_invoice(client_id)
    send = {"send_to": ["compta@acme.fr"], "email_title": "Votre facture"}
    assert_qonto_error(api.action(inv["id"], "send", json=send), 422, "invalid_status_transition")
    sim.finalize(inv["id"])
    assert_qonto_error(api.action(inv["id"], "send"), 422, "invalid_body")
    assert_qonto_error(api.action(inv["id"], "send", json={"send_to": ["a@b.fr"]}), 422, "blank")
    r = api.action(inv["id"], "send", json=send)
    assert (r.status_code, r.content) == (204, b"")
    got = sim.get_invoice(inv["id"])
    assert got is not None
    assert (got["status"], got["sent_emails"][0]["send_to"]) == ("unpaid", ["compta@acme.fr"])

    assert_qonto_error(api.action(inv["id"], "send_by_einvoice"), 422, "client_not_reachable")
    reachable = sim.seed_client(demo.QONTO_LOGIN, **CLIENT_EXAMPLE, e_invoicing_address="732829320")
    inv2 = api.create_invoice(reachable["id"], status="unpaid")
    assert api.action(inv2["id"], "send_by_einvoice").status_code == 204
    assert (
        api.get(f"/v2/client_invoices/{inv2['id']}").json()["client_invoice"]["einvoicing_status"]
        == "submitted"
    )
    assert api.action(inv2["id"], "send_by_einvoice").status_code == 204  # idempotent
    # The Qonto sandbox has no e-invoicing.
    sim.set_switches(staging_mode=True)
    api.session.headers["X-Qonto-Staging-Token"] = "sandbox-staging-token"
    assert_qonto_error(api.action(inv2["id"], "send_by_einvoice"), 422, "einvoicing_unavailable")


def test_other_organization_cannot_see_the_invoice(running: RunningSandbox, api: Api, client_id: str) -> None:
    inv = api.create_invoice(client_id)
    other = Api(running.url, demo.OTHER_QONTO_LOGIN, demo.OTHER_QONTO_SECRET_KEY)
    assert_qonto_error(other.get(f"/v2/client_invoices/{inv['id']}"), 404, "not_found")
    assert_qonto_error(other.action(inv["id"], "finalize"), 404, "not_found")
    assert other.get("/v2/client_invoices").json()["client_invoices"] == []
    entry = running.sandbox.log.entries("qonto")[-1]
    assert entry.portal == demo.OTHER_QONTO_LOGIN


# --- default status and idempotency ------------------------------------------------------------------
def test_default_status_is_unpaid_then_draft(api: Api, client_id: str, sim: QontoSim) -> None:
    sim.clock.freeze(FROZEN_AT)
    body = invoice_body(client_id)
    del body["status"]
    r = api.post("/v2/client_invoices", json=body)
    inv = r.json()["client_invoice"]
    assert (inv["status"], inv["number"]) == ("unpaid", "F-2030-0001")
    assert inv["finalized_at"] == inv["created_at"]
    sim.set_default_status("draft")
    inv = api.post("/v2/client_invoices", json=body).json()["client_invoice"]
    assert (inv["status"], inv["number"], inv["finalized_at"]) == ("draft", None, None)


def test_idempotency_key_replays_the_first_success_for_30_minutes(
    api: Api, client_id: str, sim: QontoSim
) -> None:
    headers = {"X-Qonto-Idempotency-Key": "4f1e3c5a-0b7d-4c2e-9a55-1d2b3c4d5e6f"}
    first = api.post("/v2/client_invoices", json=invoice_body(client_id), headers=headers)
    other_body = invoice_body(client_id, purchase_order="something else")
    second = api.post("/v2/client_invoices", json=other_body, headers=headers)
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert len(sim.list_invoices(demo.QONTO_LOGIN)) == 1
    sim.clock.advance(31 * 60)
    third = api.post("/v2/client_invoices", json=other_body, headers=headers)
    assert third.json()["client_invoice"]["id"] != first.json()["client_invoice"]["id"]
    assert third.json()["client_invoice"]["purchase_order"] == "something else"
    assert len(sim.list_invoices(demo.QONTO_LOGIN)) == 2


def test_failed_request_is_not_remembered_by_the_idempotency_key(api: Api, client_id: str) -> None:
    headers = {"X-Qonto-Idempotency-Key": "k-1"}
    bad = api.post("/v2/client_invoices", json=invoice_body(client_id, currency="USD"), headers=headers)
    assert bad.status_code == 422
    good = api.post("/v2/client_invoices", json=invoice_body(client_id), headers=headers)
    assert good.status_code == 200


# --- list, filters, pagination -----------------------------------------------------------------------
def test_list_filters_sort_and_pagination(api: Api, client_id: str, sim: QontoSim) -> None:
    sim.clock.freeze(FROZEN_AT)
    drafts = sim.bulk_seed_invoices(demo.QONTO_LOGIN, 10, client_id=client_id, issue_date="2026-07-01")
    sim.clock.advance(3600)
    unpaid = sim.bulk_seed_invoices(
        demo.QONTO_LOGIN, 10, status="unpaid", issue_date="2026-07-02", due_days=10
    )
    paid = sim.bulk_seed_invoices(demo.QONTO_LOGIN, 5, status="paid", issue_date="2026-07-03", due_days=10)
    everything = drafts + unpaid + paid

    def listing(**params: Any) -> dict[str, Any]:
        r = api.get("/v2/client_invoices", params=params)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def ids(**params: Any) -> list[str]:
        return [i["id"] for i in listing(per_page=100, **params)["client_invoices"]]

    assert ids() == everything[::-1]  # created_at:desc by default
    assert ids(sort_by="created_at:asc") == everything
    assert set(ids(**{"filter[status]": "draft,paid"})) == set(drafts + paid)
    assert ids(**{"filter[status]": "unpaid"}, sort_by="created_at:asc") == unpaid
    cut = (FROZEN_AT + timedelta(minutes=30)).isoformat()
    assert set(ids(**{"filter[created_at_to]": cut})) == set(drafts)
    assert set(ids(**{"filter[created_at_from]": cut})) == set(unpaid + paid)
    assert set(ids(**{"filter[due_date]": "2026-07-12"})) == set(unpaid)
    assert set(ids(**{"filter[due_date_from]": "2026-07-13", "filter[due_date_to]": "2026-07-31"})) == set(
        paid + drafts
    )

    # Paging (per_page 10 over 25).
    page1 = listing(per_page=10, sort_by="created_at:asc")
    assert page1["meta"] == {
        "current_page": 1,
        "next_page": 2,
        "prev_page": None,
        "total_pages": 3,
        "total_count": 25,
        "per_page": 10,
    }
    page3 = listing(per_page=10, page=3, sort_by="created_at:asc")
    assert [i["id"] for i in page3["client_invoices"]] == everything[20:]
    assert (page3["meta"]["next_page"], page3["meta"]["prev_page"]) == (None, 2)
    assert "einvoicing_lifecycle_events" not in page3["client_invoices"][0]
    sim.set_switches(omit_next_page=True)
    assert "next_page" not in listing(per_page=10, page=3)["meta"]
    assert listing(per_page=10, page=2)["meta"]["next_page"] == 3

    # updated_at cursor: touch some, then only those come back, oldest change first.
    cursor = max(parse_iso(i["updated_at"]) for i in listing(per_page=100)["client_invoices"])
    sim.clock.advance(60)
    touched = sim.touch_invoices(demo.QONTO_LOGIN, ids=[drafts[3], unpaid[0]], status="paid")
    changed = listing(**{"filter[updated_at_from]": (cursor + timedelta(microseconds=1)).isoformat()})
    assert [i["id"] for i in changed["client_invoices"]] == touched[::-1]
    by_update = ids(sort_by="updated_at:asc", **{"filter[updated_at_from]": cursor.isoformat()})
    assert by_update[-2:] == touched
    assert {i["status"] for i in changed["client_invoices"]} == {"paid"}
    assert all(i["number"] for i in changed["client_invoices"])


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": "ten"}, "per_page"),
        ({"page": 0}, "page"),
        ({"filter[status]": "sent"}, "filter[status]"),
        ({"filter[status]": ["draft", "paid"]}, "filter[status]"),  # repeated: not documented
        ({"filter[updated_at_from]": "yesterday"}, "filter[updated_at_from]"),
        ({"filter[due_date]": "31/07/2026"}, "filter[due_date]"),
        ({"sort_by": "number:asc"}, "sort_by"),
    ],
)
def test_bad_list_parameters_are_422_with_source_parameter(
    api: Api, params: dict[str, Any], parameter: str
) -> None:
    r = api.get("/v2/client_invoices", params=params)
    assert r.status_code == 422
    assert [e["source"]["parameter"] for e in r.json()["errors"]] == [parameter]


def test_unknown_and_unbracketed_params_are_ignored_but_recorded(
    running: RunningSandbox, api: Api, client_id: str
) -> None:
    api.create_invoice(client_id)
    params = {
        "status": "paid",
        "updated_at_from": "2030-01-01T00:00:00Z",
        "filter[number]": "F-1",
        "current_page": "2",
        "per_page": "5",
    }
    r = api.get("/v2/client_invoices", params=params)
    assert r.status_code == 200
    assert r.json()["meta"]["total_count"] == 1  # nothing was filtered
    entry = running.sandbox.log.entries("qonto")[-1]
    assert entry.route == "/v2/client_invoices"
    assert entry.unknown_params == ["status", "updated_at_from", "filter[number]", "current_page"]
    assert entry.portal == demo.QONTO_LOGIN
    assert entry.headers["Authorization"] == "<redacted>"


# --- faults through /_sim/faults -----------------------------------------------------------------------
def _fault(running: RunningSandbox, **rule: Any) -> None:
    r = requests.post(f"{running.url}/_sim/faults", json={"provider": "qonto", **rule}, timeout=5)
    assert r.status_code == 201, r.text


def test_injected_429_then_500(running: RunningSandbox, api: Api) -> None:
    _fault(running, status=429, count=2, path="^/v2/organization$", headers={"Retry-After": "2"})
    for _ in range(2):
        r = api.get("/v2/organization")
        assert_qonto_error(r, 429, "too_many_requests")
        assert r.headers["Retry-After"] == "2"
    assert api.get("/v2/organization").status_code == 200
    _fault(running, status=500, count=1)
    assert_qonto_error(api.get("/v2/organization"), 500, "internal_server_error")
    assert api.get("/v2/organization").status_code == 200


def test_commit_then_fail_creates_the_invoice(
    running: RunningSandbox, api: Api, client_id: str, sim: QontoSim
) -> None:
    _fault(running, kind="commit_then_fail", method="POST", path="^/v2/client_invoices$")
    r = api.post("/v2/client_invoices", json=invoice_body(client_id))
    assert_qonto_error(r, 500, "internal_server_error")
    [created] = sim.list_invoices(demo.QONTO_LOGIN)
    assert created["purchase_order"] == "HubSpot deal 1234567890"
    # The connector's recovery: search recent drafts for its marker.
    found = api.get("/v2/client_invoices", params={"filter[status]": "draft"}).json()["client_invoices"]
    assert [i["id"] for i in found] == [created["id"]]


def test_reset_fault_drops_the_connection(
    running: RunningSandbox, api: Api, client_id: str, sim: QontoSim
) -> None:
    _fault(running, kind="reset", method="POST", path="^/v2/client_invoices$")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("/v2/client_invoices", json=invoice_body(client_id))
    assert sim.list_invoices(demo.QONTO_LOGIN) == []
    _fault(running, kind="commit_then_fail", status=0, method="POST", path="^/v2/client_invoices$")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("/v2/client_invoices", json=invoice_body(client_id))
    assert len(sim.list_invoices(demo.QONTO_LOGIN)) == 1


# --- amounts -----------------------------------------------------------------------------------------
def test_amount_rounding(api: Api, client_id: str, sim: QontoSim) -> None:
    inv = api.create_invoice(
        client_id, items=[item(quantity="3", unit_price={"value": "33.333", "currency": "EUR"})]
    )
    [line] = inv["items"]
    assert line["unit_price"] == {"value": "33.33", "currency": "EUR"}  # prices are held in cents
    assert (line["subtotal_cents"], line["total_vat_cents"], line["total_amount_cents"]) == (
        9999,
        2000,
        11999,
    )
    lines = [
        item(quantity="1.5", unit_price=eur("33.33")),  # 49.995 → 50.00
        item(quantity="3", unit_price=eur("33.33"), discount={"type": "percentage", "value": "0.1"}),
        item(quantity="1", unit_price=eur("19.99"), vat_rate="0.055"),  # VAT 1.09945 → 1.10
        item(quantity="2", unit_price=eur("50.00"), discount={"type": "absolute", "value": "10.00"}),
        item(quantity="1", unit_price=eur("10.00"), vat_rate="0"),
    ]
    inv = api.create_invoice(client_id, items=lines)
    got = [(li["subtotal_cents"], li["total_vat_cents"], li["total_amount_cents"]) for li in inv["items"]]
    assert got == [
        (5000, 1000, 6000),
        (8999, 1800, 10799),
        (1999, 110, 2109),
        (9000, 1800, 10800),
        (1000, 0, 1000),
    ]
    assert inv["vat_amount_cents"] == sum(li["total_vat_cents"] for li in inv["items"]) == 4710
    assert inv["total_amount_cents"] == sum(li["total_amount_cents"] for li in inv["items"]) == 30708
    assert inv["total_amount"]["value"] == "307.08"
    # An invoice-level discount is spread over the lines; totals stay the sums of the lines.
    inv = api.create_invoice(client_id, discount={"type": "percentage", "value": "0.5"})
    assert (inv["items"][0]["subtotal_cents"], inv["vat_amount_cents"], inv["total_amount_cents"]) == (
        60000,
        12000,
        72000,
    )
    sim.set_switches(non_normalised_amounts=True)
    fetched = api.get(f"/v2/client_invoices/{inv['id']}").json()["client_invoice"]
    assert fetched["total_amount"] == {"value": "720.0", "currency": "EUR"}
    assert fetched["total_amount_cents"] == 72000


# --- control surface, web app, bulk, state -------------------------------------------------------------
def test_control_routes_act_as_a_qonto_user(running: RunningSandbox, api: Api, client_id: str) -> None:
    ctl = f"{running.url}/_sim/qonto"
    inv = api.create_invoice(client_id)
    r = requests.post(f"{ctl}/invoices/{inv['id']}/finalize", timeout=5)
    assert r.json()["client_invoice"]["status"] == "unpaid"
    r = requests.post(f"{ctl}/invoices/{inv['id']}/mark_as_paid", json={"paid_at": "2026-01-05"}, timeout=5)
    assert r.json()["client_invoice"]["paid_at"] == "2026-01-05T00:00:00Z"
    r = requests.post(f"{ctl}/invoices/{inv['id']}/unmark_as_paid", timeout=5)
    assert r.json()["client_invoice"]["status"] == "unpaid"
    r = requests.post(f"{ctl}/invoices/{inv['id']}/einvoicing_status", json={"status": "approved"}, timeout=5)
    assert r.json()["client_invoice"]["einvoicing_status"] == "approved"
    r = requests.post(f"{ctl}/invoices/{inv['id']}/mark_as_canceled", timeout=5)
    assert r.json()["client_invoice"]["status"] == "canceled"
    r = requests.post(f"{ctl}/invoices/{inv['id']}/finalize", timeout=5)
    assert (r.status_code, r.json()["errors"][0]["code"]) == (422, "invalid_status_transition")
    draft = api.create_invoice(client_id)
    r = requests.patch(f"{ctl}/invoices/{draft['id']}", json={"purchase_order": "edited"}, timeout=5)
    assert r.json()["client_invoice"]["purchase_order"] == "edited"
    assert parse_iso(r.json()["client_invoice"]["updated_at"]) > parse_iso(draft["updated_at"])
    assert (
        requests.delete(f"{ctl}/invoices/{draft['id']}", timeout=5).json()["client_invoice"]["deleted"]
        is True
    )
    r = requests.post(f"{ctl}/switches", json={"default_status": "draft", "omit_next_page": True}, timeout=5)
    assert (r.json()["switches"]["default_status"], r.json()["switches"]["omit_next_page"]) == ("draft", True)
    assert requests.post(f"{ctl}/switches", json={"nope": 1}, timeout=5).status_code == 400
    r = requests.post(
        f"{ctl}/organizations",
        json={
            "login": "nouvelle-org-9",
            "secret_key": "qsk_new",
            "legal_name": "Nouvelle",
            "ibans": ["FR76 3000 1"],
        },
        timeout=5,
    )
    assert r.status_code == 201
    new = Api(running.url, "nouvelle-org-9", "qsk_new")
    assert new.get("/v2/organization").json()["organization"]["bank_accounts"][0]["iban"] == "FR7630001"
    r = requests.post(f"{ctl}/organizations/nouvelle-org-9/clients", json=CLIENT_EXAMPLE, timeout=5)
    assert r.status_code == 201
    assert new.get("/v2/clients").json()["clients"][0]["name"] == "ACME SAS"
    listed = requests.get(
        f"{ctl}/organizations/{demo.QONTO_LOGIN}/invoices?include_deleted=1", timeout=5
    ).json()
    assert [i["status"] for i in listed["client_invoices"]] == ["canceled", "draft"]


def test_web_app_lists_and_acts_with_escaping(running: RunningSandbox, api: Api, client_id: str) -> None:
    inv = api.create_invoice(client_id, purchase_order="<script>alert(1)</script>")
    page = requests.get(f"{running.url}/qonto/app/{demo.QONTO_LOGIN}", timeout=5)
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "Brouillon" in page.text
    assert "Finaliser" in page.text
    assert "Supprimer le brouillon" in page.text
    action = f"{running.url}/_sim/qonto/invoices/{inv['id']}/finalize?next=/qonto/app/{demo.QONTO_LOGIN}"
    r = requests.post(action, data={}, timeout=5, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"].startswith(f"/qonto/app/{demo.QONTO_LOGIN}?msg=")
    html_page = requests.get(f"{running.url}{r.headers['Location']}", timeout=5).text
    assert "Facture finalisée" in html_page
    assert "Marquer payée" in html_page
    assert "Annuler" in html_page
    number = api.get(f"/v2/client_invoices/{inv['id']}").json()["client_invoice"]["number"]
    assert number in html_page
    index = requests.get(f"{running.url}/qonto/app", timeout=5).text
    assert demo.OTHER_QONTO_LOGIN in index


def test_bulk_seed_and_touch(api: Api, sim: QontoSim) -> None:
    ids = sim.bulk_seed_invoices(demo.QONTO_LOGIN, 2000, purchase_order="Deal {i} / {login}", start=5)
    page = api.get("/v2/client_invoices", params={"per_page": 100, "page": 20}).json()
    assert page["meta"]["total_count"] == 2000
    assert page["meta"]["total_pages"] == 20
    assert page["client_invoices"][-1]["purchase_order"] == f"Deal 5 / {demo.QONTO_LOGIN}"
    assert page["client_invoices"][-1]["id"] == ids[0]
    touched = sim.touch_invoices(demo.QONTO_LOGIN, fraction=0.05, status="canceled")
    assert len(touched) == len(set(touched)) == 100
    canceled = api.get("/v2/client_invoices", params={"filter[status]": "canceled"}).json()
    assert canceled["meta"]["total_count"] == 100
    assert {i["id"] for i in canceled["client_invoices"]} == set(touched)


def test_dump_and_load_state_round_trip(api: Api, client_id: str, sim: QontoSim) -> None:
    draft = api.create_invoice(client_id)
    paid = api.create_invoice(client_id, status="unpaid")
    sim.mark_paid(paid["id"], "2026-01-02")
    gone = api.create_invoice(client_id)
    sim.delete_draft(gone["id"])
    state = json.loads(json.dumps(sim.dump_state()))
    sim.reset()
    assert api.get("/v2/organization").status_code == 401
    sim.load_state(state)
    assert api.get(f"/v2/client_invoices/{draft['id']}").json()["client_invoice"] == draft
    reloaded = api.get(f"/v2/client_invoices/{paid['id']}").json()["client_invoice"]
    assert (reloaded["status"], reloaded["paid_at"]) == ("paid", "2026-01-02T00:00:00Z")
    tomb = sim.get_invoice(gone["id"])
    assert tomb is not None
    assert tomb["deleted"] is True
    assert (
        api.action(api.create_invoice(client_id)["id"], "finalize")
        .json()["client_invoice"]["number"]
        .endswith("0002")
    )


# --- webhooks ----------------------------------------------------------------------------------------
def test_webhook_signature_test_vector() -> None:
    expected = "t=1704110400,v1=56aff06dc227db80d6568a5070f912c601c31f20451745d257cbc0b5dfa93805"
    assert sign_webhook("test-secret", '{"test":"data"}', 1704110400) == expected
    assert sign_webhook("test-secret", b'{"test":"data"}', 1704110400) == expected
    assert sign_webhook("other-secret", b'{"test":"data"}', 1704110400) != expected
