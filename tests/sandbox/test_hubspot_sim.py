"""Contract tests of the HubSpot simulator (sandbox/hubspot/) against spec/hubspot.md §10.

The sandbox runs in a background thread; every check goes over real HTTP with ``requests``.
Signatures are recomputed here with hmac/hashlib, independently of the simulator's helpers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from sandbox import demo
from sandbox.core import Sandbox, SandboxConfig
from sandbox.hubspot import APP_SCOPES, HubSpotApi, HubSpotWebApp, post_webhook, sign_v1, sign_v2, sign_v3
from sandbox.server import SandboxApp
from sandbox.testing import RunningSandbox, start_sandbox

ALL_SCOPES = APP_SCOPES["required"] + APP_SCOPES["optional"]
SPEC_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"


def _start(config: SandboxConfig) -> RunningSandbox:
    try:
        return start_sandbox(config)
    except ModuleNotFoundError as exc:
        if exc.name not in ("sandbox.qonto", "sandbox.stripe_sim"):
            raise
    # The Qonto / Stripe simulators are not in the tree yet: serve the HubSpot ones alone.
    sandbox = Sandbox(config)
    api = sandbox.register(HubSpotApi(sandbox))
    sandbox.register(HubSpotWebApp(sandbox, api=api))  # type: ignore[arg-type]
    if config.demo:
        sandbox.seed_demo()
    server = make_server(config.host, config.port, SandboxApp(sandbox), threaded=True)
    config.port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return RunningSandbox(sandbox=sandbox, server=server, thread=thread)


@pytest.fixture(scope="module")
def sb() -> Iterator[RunningSandbox]:
    # The 110 / 10 s limiter is tested on its own instance; here it must not get in the way.
    running = _start(SandboxConfig(port=0, hubspot_rate_limit=100_000))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api(sb: RunningSandbox) -> HubSpotApi:
    return sb.provider("hubspot")


@pytest.fixture(scope="module")
def base(sb: RunningSandbox) -> str:
    return sb.url + "/hubspot"


@pytest.fixture(scope="module")
def token(api: HubSpotApi) -> str:
    access, _ = api.install(demo.PORTAL_ID)
    return access


@pytest.fixture
def h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def many_searches(sb: RunningSandbox) -> Iterator[None]:
    sb.sandbox.config.hubspot_search_rate_limit = 10_000
    yield
    sb.sandbox.config.hubspot_search_rate_limit = 5


_portal_seq = iter(range(99_000_001, 99_999_999))


def _new_portal(api: HubSpotApi, scopes: list[str] | None = None) -> tuple[int, str, str]:
    portal_id = next(_portal_seq)
    api.create_portal(portal_id, users=[(9001, f"admin@{portal_id}.example")])
    access, refresh = api.install(portal_id, scopes)
    return portal_id, access, refresh


def _form_token(base: str, version: str, sb: RunningSandbox, **fields: str) -> requests.Response:
    cfg = sb.sandbox.config
    data = {"client_id": cfg.hubspot_client_id, "client_secret": cfg.hubspot_client_secret, **fields}
    return requests.post(f"{base}/oauth/{version}/token", data=data, timeout=5)


# --- §4 signatures ----------------------------------------------------------------------------


def test_signature_vectors_of_the_spec() -> None:
    body = (
        '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        '"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM",'
        '"changeFlag":"NEW","appId":54321}]'
    )
    assert sign_v1(SPEC_SECRET, body) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
    assert (
        sign_v2(SPEC_SECRET, "GET", "https://www.example.com/webhook_uri", "")
        == "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
    )
    uri, v3_body, ts = "https://app.example.com/hubspot/card?portalId=123", '{"a":1}', "1700000000000"
    independent = base64.b64encode(
        hmac.new(SPEC_SECRET.encode(), f"POST{uri}{v3_body}{ts}".encode(), hashlib.sha256).digest()
    ).decode()
    assert sign_v3(SPEC_SECRET, "POST", uri, v3_body, ts) == independent
    assert independent == "csjJ4LuhvpUY47wrbmkpbIx9dBx2UnuBUplc0bKjmMc="


# --- §2 OAuth ---------------------------------------------------------------------------------


def _authorize_params(sb: RunningSandbox, **override: str) -> dict[str, str]:
    cfg = sb.sandbox.config
    params = {
        "client_id": cfg.hubspot_client_id,
        "redirect_uri": cfg.hubspot_redirect_uris[0],
        "scope": " ".join(APP_SCOPES["required"]),
        "optional_scope": " ".join(APP_SCOPES["optional"]),
        "state": "st-4242",
    }
    params.update(override)
    return params


def _consent_and_install(sb: RunningSandbox, action: str = "install") -> requests.Response:
    page = requests.get(f"{sb.url}/hubspot-app/oauth/authorize", params=_authorize_params(sb), timeout=5)
    assert page.status_code == 200
    assert 'id="install-button"' in page.text
    assert "Installer l'application" in page.text
    assert "Agence Démo" in page.text
    assert f'value="{demo.PORTAL_ID}" selected' in page.text
    for scope in ALL_SCOPES:
        assert scope in page.text
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))
    form = {k: v.replace("&amp;", "&") for k, v in form.items()}
    form.update({"portal_id": str(demo.PORTAL_ID), "action": action})
    return requests.post(
        f"{sb.url}/hubspot-app/oauth/authorize/decision", data=form, allow_redirects=False, timeout=5
    )


def test_oauth_code_flow_token_response_and_single_use_code(sb: RunningSandbox, base: str) -> None:
    redirect = _consent_and_install(sb)
    assert redirect.status_code == 302
    location = urllib.parse.urlsplit(redirect.headers["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == sb.sandbox.config.hubspot_redirect_uris[0]
    )
    query = dict(urllib.parse.parse_qsl(location.query))
    assert query["state"] == "st-4242"
    code = query["code"]

    resp = _form_token(
        base,
        "2026-03",
        sb,
        grant_type="authorization_code",
        code=code,
        redirect_uri=sb.sandbox.config.hubspot_redirect_uris[0],
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["expires_in"] == 1800
    assert body["token_type"] == "bearer"
    assert body["hub_id"] == demo.PORTAL_ID
    assert body["user_id"] == demo.INSTALLER_USER_ID
    assert body["refresh_token"].startswith("na1-")
    assert len(body["access_token"]) >= 300
    assert body["token_use"] == "access_token"
    assert body["id_token"].count(".") == 2
    assert sorted(body["scopes"]) == sorted(ALL_SCOPES)

    again = _form_token(
        base,
        "v1",
        sb,
        grant_type="authorization_code",
        code=code,
        redirect_uri=sb.sandbox.config.hubspot_redirect_uris[0],
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert again.json()["status"] == "BAD_AUTH_CODE"


def test_oauth_refusal_redirects_with_access_denied(sb: RunningSandbox) -> None:
    redirect = _consent_and_install(sb, action="deny")
    assert redirect.status_code == 302
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(redirect.headers["Location"]).query))
    assert query["error"] == "access_denied"
    assert query["state"] == "st-4242"
    assert "code" not in query


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"client_id": "someone-else"}, "client_id inconnu"),
        ({"redirect_uri": "https://evil.example/callback"}, "URL de redirection"),
        ({"optional_scope": "crm.objects.contacts.read"}, "crm.objects.contacts.read"),
        ({"scope": "oauth crm.objects.deals.read"}, "obligatoires absentes"),
    ],
)
def test_authorize_rejects_bad_requests(sb: RunningSandbox, override: dict[str, str], needle: str) -> None:
    resp = requests.get(
        f"{sb.url}/hubspot-app/oauth/authorize",
        params=_authorize_params(sb, **override),
        allow_redirects=False,
        timeout=5,
    )
    assert resp.status_code == 400
    assert "install-button" not in resp.text
    assert needle in resp.text


def test_authorize_with_a_preselected_portal(sb: RunningSandbox) -> None:
    url = f"{sb.url}/hubspot-app/oauth/{demo.OTHER_PORTAL_ID}/authorize"
    page = requests.get(url, params=_authorize_params(sb), timeout=5)
    assert page.status_code == 200
    assert f'value="{demo.OTHER_PORTAL_ID}" selected' in page.text
    unknown = requests.get(f"{sb.url}/hubspot-app/oauth/1/authorize", params=_authorize_params(sb), timeout=5)
    assert unknown.status_code == 404


def test_account_info_and_portal_isolation(api: HubSpotApi, base: str) -> None:
    access, _ = api.install(demo.OTHER_PORTAL_ID)
    bearer = {"Authorization": f"Bearer {access}"}
    info = requests.get(f"{base}/account-info/2026-03/details", headers=bearer, timeout=5).json()
    assert (info["portalId"], info["companyCurrency"]) == (demo.OTHER_PORTAL_ID, "EUR")
    other_deal = requests.get(
        f"{base}/crm/objects/2026-03/deals/{demo.DEAL_COMPLETE_ID}", headers=bearer, timeout=5
    )
    assert other_deal.status_code == 404


def _fresh_code(sb: RunningSandbox) -> str:
    location = _consent_and_install(sb).headers["Location"]
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))["code"]


def test_token_endpoint_errors(sb: RunningSandbox, base: str) -> None:
    redirect_uri = sb.sandbox.config.hubspot_redirect_uris[0]
    cfg = sb.sandbox.config
    as_json = requests.post(
        f"{base}/oauth/v1/token",
        json={
            "grant_type": "authorization_code",
            "client_id": cfg.hubspot_client_id,
            "client_secret": cfg.hubspot_client_secret,
            "code": _fresh_code(sb),
            "redirect_uri": redirect_uri,
        },
        timeout=5,
    )
    assert as_json.status_code == 400
    assert as_json.json()["status"] == "BAD_GRANT_TYPE"

    wrong_redirect = _form_token(
        base,
        "2026-03",
        sb,
        grant_type="authorization_code",
        code=_fresh_code(sb),
        redirect_uri="https://x.example/cb",
    )
    assert wrong_redirect.status_code == 400
    assert wrong_redirect.json()["status"] == "BAD_REDIRECT_URI"

    bad_client = requests.post(
        f"{base}/oauth/2026-03/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "nope",
            "client_secret": "x",
            "refresh_token": "na1-x",
        },
        timeout=5,
    )
    assert bad_client.json()["status"] == "BAD_CLIENT_ID"
    bad_grant = _form_token(base, "2026-03", sb, grant_type="password")
    assert (bad_grant.status_code, bad_grant.json()["status"]) == (400, "BAD_GRANT_TYPE")

    code = _fresh_code(sb)
    sb.sandbox.clock.advance(301)  # codes live 5 minutes on the sandbox clock
    try:
        expired = _form_token(
            base, "v1", sb, grant_type="authorization_code", code=code, redirect_uri=redirect_uri
        )
    finally:
        sb.sandbox.clock.advance(-301)
    assert expired.json()["status"] == "BAD_AUTH_CODE"


def test_refresh_keeps_or_rotates_the_refresh_token(sb: RunningSandbox, api: HubSpotApi, base: str) -> None:
    portal_id, access, refresh = _new_portal(api)
    first = _form_token(base, "2026-03", sb, grant_type="refresh_token", refresh_token=refresh)
    assert first.status_code == 200
    assert first.json()["refresh_token"] == refresh
    assert first.json()["access_token"] != access
    assert first.json()["hub_id"] == portal_id
    legacy = _form_token(base, "v1", sb, grant_type="refresh_token", refresh_token=refresh)
    assert legacy.status_code == 200
    assert "token_use" not in legacy.json()

    api.set_rotate_refresh_tokens(True)
    try:
        rotated = _form_token(base, "2026-03", sb, grant_type="refresh_token", refresh_token=refresh)
        new_refresh = rotated.json()["refresh_token"]
        assert new_refresh != refresh
        assert new_refresh.startswith("na1-")
        old = _form_token(base, "2026-03", sb, grant_type="refresh_token", refresh_token=refresh)
        assert old.status_code == 400
        assert old.json()["error"] == "invalid_grant"
        assert _form_token(base, "2026-03", sb, grant_type="refresh_token", refresh_token=new_refresh).ok
    finally:
        api.set_rotate_refresh_tokens(False)


def test_introspect_and_revoke_do_not_uninstall(sb: RunningSandbox, api: HubSpotApi, base: str) -> None:
    portal_id, access, refresh = _new_portal(api)
    cfg = sb.sandbox.config
    creds = {"client_id": cfg.hubspot_client_id, "client_secret": cfg.hubspot_client_secret}
    info = requests.post(
        f"{base}/oauth/2026-03/token/introspect",
        data={**creds, "token": access, "token_type_hint": "access_token"},
        timeout=5,
    ).json()
    assert info["active"] is True
    assert info["hub_id"] == portal_id
    assert info["hub_domain"] == f"portal-{portal_id}.hubspot.com"
    assert info["user"] == f"admin@{portal_id}.example"
    assert info["user_id"] == 9001
    assert info["token_use"] == "access_token"
    assert 1700 < info["expires_in"] <= 1800
    assert info["app_id"] == int(cfg.hubspot_app_id)

    legacy = requests.get(f"{base}/oauth/v1/access-tokens/{access}", timeout=5).json()
    assert (legacy["hub_id"], legacy["user"], legacy["token_type"]) == (
        portal_id,
        f"admin@{portal_id}.example",
        "access",
    )
    assert requests.get(f"{base}/oauth/v1/refresh-tokens/{refresh}", timeout=5).json()["hub_id"] == portal_id
    unknown = requests.post(
        f"{base}/oauth/2026-03/token/introspect", data={**creds, "token": "nope"}, timeout=5
    )
    assert unknown.json() == {"active": False}

    assert requests.delete(f"{base}/oauth/v1/refresh-tokens/{refresh}", timeout=5).status_code == 204
    dead = _form_token(base, "2026-03", sb, grant_type="refresh_token", refresh_token=refresh)
    assert (dead.status_code, dead.json()["status"]) == (400, "BAD_REFRESH_TOKEN")
    # Revoking is not uninstalling: the access token still works.
    ok = requests.get(
        f"{base}/crm/v3/objects/deals", headers={"Authorization": f"Bearer {access}"}, timeout=5
    )
    assert ok.status_code == 200
    assert api.is_installed(portal_id)

    requests.post(f"{base}/oauth/2026-03/token/revoke", data={**creds, "token": access}, timeout=5)
    revoked = requests.get(
        f"{base}/crm/v3/objects/deals", headers={"Authorization": f"Bearer {access}"}, timeout=5
    )
    assert revoked.status_code == 401


def test_uninstall_kills_refresh_and_api_calls(sb: RunningSandbox, api: HubSpotApi, base: str) -> None:
    portal_id, access, refresh = _new_portal(api)
    bearer = {"Authorization": f"Bearer {access}"}
    resp = requests.delete(f"{base}/appinstalls/2026-03/external-install", headers=bearer, timeout=5)
    assert resp.status_code == 204
    assert not api.is_installed(portal_id)
    after = requests.get(f"{base}/crm/objects/2026-03/deals", headers=bearer, timeout=5)
    assert after.status_code == 401
    assert after.json()["category"] == "INVALID_AUTHENTICATION"
    refreshed = _form_token(base, "2026-03", sb, grant_type="refresh_token", refresh_token=refresh)
    assert refreshed.status_code == 400
    assert refreshed.json() | {"correlationId": None, "message": None} == {
        "error": "invalid_grant",
        "error_description": "refresh token is invalid, expired or revoked",
        "status": "BAD_REFRESH_TOKEN",
        "message": None,
        "correlationId": None,
    }
    # The legacy path works too, on a second portal.
    other_id, other_access, _ = _new_portal(api)
    legacy = requests.delete(
        f"{base}/appinstalls/v3/external-install",
        headers={"Authorization": f"Bearer {other_access}"},
        timeout=5,
    )
    assert legacy.status_code == 204
    assert not api.is_installed(other_id)


# --- §10.4 bearer and scopes -------------------------------------------------------------------


def test_bearer_missing_invalid_expired_and_missing_scope(api: HubSpotApi, base: str) -> None:
    url = f"{base}/crm/objects/2026-03/deals/{demo.DEAL_COMPLETE_ID}"
    missing = requests.get(url, timeout=5)
    assert missing.status_code == 401
    body = missing.json()
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert re.fullmatch(r"[0-9a-f-]{36}", body["correlationId"])
    assert "X-HubSpot-RateLimit-Max" not in missing.headers
    assert requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=5).status_code == 401

    portal_id, access, _ = _new_portal(api, scopes=["oauth", "crm.objects.deals.read"])
    bearer = {"Authorization": f"Bearer {access}"}
    deal = api.create_deal(portal_id, dealname="Scopes", amount="10")
    deal_url = f"{base}/crm/v3/objects/deals/{deal['id']}"
    assert requests.get(deal_url, headers=bearer, timeout=5).status_code == 200
    forbidden = requests.patch(deal_url, json={"properties": {"amount": "20"}}, headers=bearer, timeout=5)
    assert forbidden.status_code == 403
    assert forbidden.json()["category"] == "MISSING_SCOPES"
    assert forbidden.json()["context"]["missingScopes"] == ["crm.objects.deals.write"]
    no_tax = requests.get(f"{base}/tax-rates/2026-03/tax-rates", headers=bearer, timeout=5)
    assert no_tax.status_code == 403

    assert api.expire_tokens(portal_id) == 1
    expired = requests.get(deal_url, headers=bearer, timeout=5)
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]


# --- §5 CRM objects ---------------------------------------------------------------------------


def test_deal_with_associations_matches_the_spec_example(
    api: HubSpotApi, base: str, h: dict[str, str]
) -> None:
    params = {
        "properties": "dealname,amount,deal_currency_code,closedate,dealstage,qonto_last_invoice_id",
        "associations": "companies,line_items,unknown_things",
    }
    url = f"{base}/crm/objects/2026-03/deals/{demo.DEAL_COMPLETE_ID}"
    resp = requests.get(url, params=params, headers=h, timeout=5)
    assert resp.status_code == 200
    deal = resp.json()
    assert deal["id"] == demo.DEAL_COMPLETE_ID
    assert deal["archived"] is False
    props = deal["properties"]
    assert props["amount"] == "12000"
    assert props["deal_currency_code"] == "EUR"
    assert props["dealname"] == "Refonte site – Agence & Co"
    assert props["dealstage"] == "closedwon"
    assert props["hs_object_id"] == demo.DEAL_COMPLETE_ID
    assert props["createdate"]
    assert props["hs_lastmodifieddate"]
    assert "qonto_last_invoice_id" not in props  # not defined yet: unknown properties are ignored
    assert deal["createdAt"].endswith("Z")
    assert deal["updatedAt"].endswith("Z")
    assert deal["associations"]["companies"]["results"] == [
        {"id": demo.COMPANY_COMPLETE_ID, "type": "deal_to_company"},
        {"id": demo.COMPANY_COMPLETE_ID, "type": "deal_to_company_unlabeled"},
    ]
    items = deal["associations"]["line items"]["results"]
    assert len(items) == 4
    assert {i["type"] for i in items} == {"deal_to_line_item"}
    assert set(deal["associations"]) == {"companies", "line items"}

    # Same record through the v3 path and the 0-3 type id.
    v3 = requests.get(f"{base}/crm/v3/objects/0-3/{demo.DEAL_COMPLETE_ID}", headers=h, timeout=5).json()
    assert v3["properties"]["dealname"] == props["dealname"]
    assert set(v3["properties"]) >= {
        "amount",
        "closedate",
        "dealname",
        "dealstage",
        "pipeline",
        "hs_object_id",
    }
    assert (
        requests.get(f"{base}/crm/v3/objects/deals/1", headers=h, timeout=5).json()["category"]
        == "OBJECT_NOT_FOUND"
    )


def test_demo_line_items_taxes_and_companies(api: HubSpotApi, base: str, h: dict[str, str]) -> None:
    deal = api.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID)
    assert deal is not None
    ids = deal["associations"]["line_items"]
    resp = requests.post(
        f"{base}/crm/objects/2026-03/line_items/batch/read",
        json={
            "inputs": [{"id": i} for i in ids],
            "properties": [
                "name",
                "quantity",
                "price",
                "amount",
                "hs_discount_percentage",
                "hs_tax_rate_group_id",
            ],
        },
        headers=h,
        timeout=5,
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["status"] == "COMPLETE"
    lines = [r["properties"] for r in body["results"]]
    assert sum(Decimal(p["amount"]) for p in lines) == Decimal(deal["properties"]["amount"])
    assert any(p["hs_discount_percentage"] == "10" and p["amount"] == "1800.00" for p in lines)
    assert any(len(p["name"]) > 40 and "é" in p["name"] for p in lines)
    assert all(isinstance(v, str) or v is None for p in lines for v in p.values())

    rates = requests.get(f"{base}/tax-rates/2026-03/tax-rates", headers=h, timeout=5).json()["results"]
    by_id = {r["id"]: r for r in rates}
    assert sorted(by_id[p["hs_tax_rate_group_id"]]["percentageRate"] for p in lines) == [5.5, 10, 20, 20]
    one = requests.get(
        f"{base}/tax-rates/v1/tax-rates/{lines[0]['hs_tax_rate_group_id']}", headers=h, timeout=5
    )
    assert one.json()["percentageRate"] == 20
    assert one.json()["active"] is True

    acme = api.get_object(demo.PORTAL_ID, "companies", demo.COMPANY_COMPLETE_ID)
    assert acme is not None
    assert acme["properties"]["name"] == "ACME Industrie SAS"
    assert acme["properties"]["siret"] == demo.COMPLETE_SIRET
    assert acme["properties"]["country"] == "France"
    assert acme["properties"]["zip"] == "75002"
    foreign = api.get_object(demo.PORTAL_ID, "companies", demo.COMPANY_FOREIGN_ID)
    assert foreign is not None
    assert (foreign["properties"]["country"], foreign["properties"]["zip"]) == (
        "Belgique",
        "1000",
    )
    elise = api.get_object(demo.PORTAL_ID, "companies", demo.COMPANY_NO_SIRET_ID)
    assert elise is not None
    assert "siret" not in elise["properties"]
    company_props = requests.get(f"{base}/crm/properties/2026-03/companies", headers=h, timeout=5).json()[
        "results"
    ]
    names = {p["name"] for p in company_props}
    assert "siret" in names
    assert "qonto_siret" not in names
    amount_only = api.get_object(demo.PORTAL_ID, "deals", demo.DEAL_AMOUNT_ONLY_ID)
    assert amount_only is not None
    assert amount_only["properties"]["amount"] == "2400"
    assert "line_items" not in amount_only["associations"]
    for deal_id, company_id in (
        (demo.DEAL_NO_SIRET_ID, demo.COMPANY_NO_SIRET_ID),
        (demo.DEAL_FOREIGN_ID, demo.COMPANY_FOREIGN_ID),
    ):
        record = api.get_object(demo.PORTAL_ID, "deals", deal_id)
        assert record is not None
        assert record["associations"]["companies"] == [company_id]


def _define_qonto_props(base: str, h: dict[str, str]) -> None:
    requests.post(
        f"{base}/crm/properties/2026-03/deals/groups",
        json={"name": "qonto_connector", "label": "Qonto", "displayOrder": -1},
        headers=h,
        timeout=5,
    )
    requests.post(
        f"{base}/crm/properties/2026-03/deals/batch/create",
        json={
            "inputs": [
                {
                    "name": "qonto_last_invoice_id",
                    "label": "Qonto invoice id",
                    "type": "string",
                    "fieldType": "text",
                    "groupName": "qonto_connector",
                },
                {
                    "name": "qonto_last_invoice_number",
                    "label": "Qonto invoice number",
                    "type": "string",
                    "fieldType": "text",
                    "groupName": "qonto_connector",
                },
                {
                    "name": "qonto_last_invoice_due_date",
                    "label": "Due date",
                    "type": "date",
                    "fieldType": "date",
                    "groupName": "qonto_connector",
                },
                {
                    "name": "qonto_last_invoice_status",
                    "label": "Status",
                    "type": "enumeration",
                    "fieldType": "select",
                    "groupName": "qonto_connector",
                    "options": [
                        {"label": "Brouillon", "value": "draft"},
                        {"label": "Payée", "value": "paid"},
                    ],
                },
            ]
        },
        headers=h,
        timeout=5,
    )


def test_batch_update_200_207_cap_and_undefined_property(base: str, h: dict[str, str]) -> None:
    _define_qonto_props(base, h)
    url = f"{base}/crm/objects/2026-03/deals/batch/update"
    ok = requests.post(
        url,
        json={
            "inputs": [
                {
                    "id": demo.DEAL_COMPLETE_ID,
                    "properties": {
                        "qonto_last_invoice_number": "F-2026-001",
                        "qonto_last_invoice_status": "draft",
                        "qonto_last_invoice_due_date": "2026-12-25",
                    },
                }
            ]
        },
        headers=h,
        timeout=5,
    )
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "COMPLETE"
    assert {"requestedAt", "startedAt", "completedAt"} <= set(body)
    assert body["results"][0]["properties"]["qonto_last_invoice_number"] == "F-2026-001"
    assert body["results"][0]["properties"]["qonto_last_invoice_due_date"] == "2026-12-25"

    partial = requests.post(
        url,
        json={
            "inputs": [
                {"id": demo.DEAL_AMOUNT_ONLY_ID, "properties": {"qonto_last_invoice_number": "F-2"}},
                {"id": "51299999999", "properties": {"qonto_last_invoice_number": "F-3"}},
            ]
        },
        headers=h,
        timeout=5,
    )
    assert partial.status_code == 207
    assert partial.json()["numErrors"] == 1
    assert partial.json()["errors"][0]["category"] == "OBJECT_NOT_FOUND"
    assert partial.json()["errors"][0]["context"]["ids"] == ["51299999999"]
    assert [r["id"] for r in partial.json()["results"]] == [demo.DEAL_AMOUNT_ONLY_ID]

    too_many = requests.post(
        url,
        json={"inputs": [{"id": str(i), "properties": {"amount": "1"}} for i in range(101)]},
        headers=h,
        timeout=5,
    )
    assert too_many.status_code == 400
    assert too_many.json()["category"] == "VALIDATION_ERROR"

    undefined = requests.patch(
        f"{base}/crm/v3/objects/deals/{demo.DEAL_COMPLETE_ID}",
        json={"properties": {"qonto_not_created": "x"}},
        headers=h,
        timeout=5,
    )
    assert undefined.status_code == 400
    assert undefined.json()["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in undefined.json()["message"]
    bad_option = requests.patch(
        f"{base}/crm/v3/objects/deals/{demo.DEAL_COMPLETE_ID}",
        json={"properties": {"qonto_last_invoice_status": "shipped"}},
        headers=h,
        timeout=5,
    )
    assert bad_option.status_code == 400
    assert "INVALID_OPTION" in bad_option.json()["message"]
    read_only = requests.patch(
        f"{base}/crm/v3/objects/deals/{demo.DEAL_COMPLETE_ID}",
        json={"properties": {"hs_lastmodifieddate": "2020-01-01"}},
        headers=h,
        timeout=5,
    )
    assert read_only.status_code == 400
    assert "READ_ONLY_VALUE" in read_only.json()["message"]

    # Now defined: requested-but-empty is null, values are strings.
    deal = requests.get(
        f"{base}/crm/objects/2026-03/deals/{demo.DEAL_COMPLETE_ID}",
        params={"properties": "qonto_last_invoice_id,qonto_last_invoice_number,amount"},
        headers=h,
        timeout=5,
    ).json()
    assert deal["properties"]["qonto_last_invoice_id"] is None
    assert deal["properties"]["qonto_last_invoice_number"] == "F-2026-001"


def test_batch_read_create_archive_and_deleted_deal(api: HubSpotApi, base: str, h: dict[str, str]) -> None:
    created = requests.post(
        f"{base}/crm/v3/objects/deals/batch/create",
        json={
            "inputs": [
                {"properties": {"dealname": "Lot A", "amount": 100}},
                {"properties": {"dealname": "Lot B", "amount": "200.50"}},
            ]
        },
        headers=h,
        timeout=5,
    )
    assert created.status_code == 201
    ids = [r["id"] for r in created.json()["results"]]
    assert created.json()["results"][0]["properties"]["amount"] == "100"
    read = requests.post(
        f"{base}/crm/v3/objects/deals/batch/read",
        json={"inputs": [{"id": i} for i in ids], "properties": ["dealname", "amount"]},
        headers=h,
        timeout=5,
    )
    assert read.status_code == 200
    assert [r["properties"]["amount"] for r in read.json()["results"]] == ["100", "200.50"]

    assert api.delete_deal(demo.PORTAL_ID, ids[0])
    assert requests.get(f"{base}/crm/v3/objects/deals/{ids[0]}", headers=h, timeout=5).status_code == 404
    archived = requests.get(
        f"{base}/crm/v3/objects/deals/{ids[0]}?archived=true", headers=h, timeout=5
    ).json()
    assert archived["archived"] is True
    assert archived["archivedAt"]
    reread = requests.post(
        f"{base}/crm/v3/objects/deals/batch/read",
        json={"inputs": [{"id": i} for i in ids]},
        headers=h,
        timeout=5,
    )
    assert reread.status_code == 207
    assert reread.json()["errors"][0]["context"]["ids"] == [ids[0]]
    gone = requests.post(
        f"{base}/crm/v3/objects/deals/batch/archive", json={"inputs": [{"id": ids[1]}]}, headers=h, timeout=5
    )
    assert gone.status_code == 204
    assert api.get_object(demo.PORTAL_ID, "deals", ids[1]) is None


def test_properties_and_groups_409_and_validation(base: str, h: dict[str, str]) -> None:
    groups = f"{base}/crm/properties/2026-03/deals/groups"
    first = requests.post(
        groups, json={"name": "sim_group", "label": "Sim", "displayOrder": -1}, headers=h, timeout=5
    )
    assert first.status_code == 201
    assert first.json() == {"name": "sim_group", "label": "Sim", "displayOrder": -1, "archived": False}
    dup = requests.post(groups, json={"name": "sim_group", "label": "Sim"}, headers=h, timeout=5)
    assert dup.status_code == 409
    assert dup.json()["category"] == "CONFLICT"

    props = f"{base}/crm/properties/2026-03/deals"
    definition = {
        "name": "sim_amount",
        "label": "Montant",
        "type": "number",
        "fieldType": "number",
        "groupName": "sim_group",
    }
    created = requests.post(props, json=definition, headers=h, timeout=5)
    assert created.status_code == 201
    assert created.json()["hubspotDefined"] is False
    assert created.json()["groupName"] == "sim_group"
    conflict = requests.post(props, json=definition, headers=h, timeout=5)
    assert conflict.status_code == 409
    assert conflict.json()["category"] == "CONFLICT"
    assert conflict.json()["status"] == "error"

    for bad in (
        {**definition, "name": "sim_b", "type": "money"},
        {**definition, "name": "sim_c", "fieldType": "slider"},
        {**definition, "name": "sim_d", "type": "enumeration", "fieldType": "select"},  # no options
        {**definition, "name": "sim_e", "type": "date", "fieldType": "text"},
        {**definition, "name": "hs_mine"},
        {**definition, "name": "sim_f", "groupName": "no_such_group"},
        {"name": "sim_g", "label": "x", "type": "string"},
    ):
        resp = requests.post(props, json=bad, headers=h, timeout=5)
        assert resp.status_code == 400, bad
        assert resp.json()["category"] == "VALIDATION_ERROR"

    patched = requests.patch(f"{props}/sim_amount", json={"label": "Montant Qonto"}, headers=h, timeout=5)
    assert patched.status_code == 200
    assert patched.json()["label"] == "Montant Qonto"
    assert requests.get(f"{props}/sim_amount", headers=h, timeout=5).json()["label"] == "Montant Qonto"
    assert requests.patch(f"{props}/dealname", json={"label": "x"}, headers=h, timeout=5).status_code == 400
    v3_list = requests.get(f"{base}/crm/v3/properties/deals", headers=h, timeout=5).json()["results"]
    assert "sim_amount" in {p["name"] for p in v3_list}
    number_write = requests.patch(
        f"{base}/crm/v3/objects/deals/{demo.DEAL_AMOUNT_ONLY_ID}",
        json={"properties": {"sim_amount": "abc"}},
        headers=h,
        timeout=5,
    )
    assert number_write.status_code == 400


# --- §5.5 associations v4 and notes ------------------------------------------------------------


def test_associations_v4_read_batch_put_and_notes(api: HubSpotApi, base: str, h: dict[str, str]) -> None:
    companies = requests.get(
        f"{base}/crm/objects/2026-03/deals/{demo.DEAL_COMPLETE_ID}/associations/companies",
        headers=h,
        timeout=5,
    ).json()
    assert companies["results"] == [
        {
            "toObjectId": int(demo.COMPANY_COMPLETE_ID),
            "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
                {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None},
            ],
        }
    ]
    page = requests.get(
        f"{base}/crm/v4/objects/deals/{demo.DEAL_COMPLETE_ID}/associations/line_items?limit=3",
        headers=h,
        timeout=5,
    ).json()
    assert len(page["results"]) == 3
    assert page["paging"]["next"]["after"] == "3"
    rest = requests.get(
        f"{base}/crm/v4/objects/deals/{demo.DEAL_COMPLETE_ID}/associations/line_items?limit=3&after=3",
        headers=h,
        timeout=5,
    ).json()
    assert len(rest["results"]) == 1
    assert "paging" not in rest
    assert all(isinstance(r["toObjectId"], int) for r in page["results"] + rest["results"])

    batch = requests.post(
        f"{base}/crm/associations/2026-03/deals/line_items/batch/read",
        json={"inputs": [{"id": demo.DEAL_COMPLETE_ID}, {"id": demo.DEAL_AMOUNT_ONLY_ID}]},
        headers=h,
        timeout=5,
    )
    assert batch.status_code == 207
    assert batch.json()["status"] == "COMPLETE"
    assert batch.json()["results"][0]["from"] == {"id": demo.DEAL_COMPLETE_ID}
    assert len(batch.json()["results"][0]["to"]) == 4
    assert batch.json()["errors"][0]["context"]["fromObjectId"] == [demo.DEAL_AMOUNT_ONLY_ID]
    full = requests.post(
        f"{base}/crm/v4/associations/deals/companies/batch/read",
        json={"inputs": [{"id": demo.DEAL_COMPLETE_ID}]},
        headers=h,
        timeout=5,
    )
    assert full.status_code == 200

    put = requests.put(
        f"{base}/crm/objects/2026-03/deals/{demo.DEAL_AMOUNT_ONLY_ID}/associations/default/companies/{demo.COMPANY_FOREIGN_ID}",
        headers=h,
        timeout=5,
    )
    assert put.status_code == 200
    assert put.json()["status"] == "COMPLETE"
    labelled = requests.put(
        f"{base}/crm/v4/objects/deals/{demo.DEAL_AMOUNT_ONLY_ID}/associations/companies/{demo.COMPANY_FOREIGN_ID}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
        headers=h,
        timeout=5,
    )
    assert labelled.status_code == 200
    assert labelled.json()["labels"] == ["Primary"]
    targets = requests.get(
        f"{base}/crm/v4/objects/deals/{demo.DEAL_AMOUNT_ONLY_ID}/associations/companies", headers=h, timeout=5
    ).json()["results"]
    primary = [t["toObjectId"] for t in targets if any(a["typeId"] == 5 for a in t["associationTypes"])]
    assert primary == [int(demo.COMPANY_FOREIGN_ID)]  # the primary moved, ACME stays unlabeled
    requests.put(
        f"{base}/crm/v4/objects/deals/{demo.DEAL_AMOUNT_ONLY_ID}/associations/companies/{demo.COMPANY_COMPLETE_ID}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
        headers=h,
        timeout=5,
    )

    note = requests.post(
        f"{base}/crm/objects/2026-03/notes",
        json={
            "properties": {
                "hs_timestamp": "2026-11-02T10:00:00Z",
                "hs_note_body": "<p>Facture F-1 créée</p>",
            },
            "associations": [
                {
                    "to": {"id": demo.DEAL_COMPLETE_ID},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}],
                }
            ],
        },
        headers=h,
        timeout=5,
    )
    assert note.status_code == 201
    notes = api.notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID)
    assert [n["id"] for n in notes] == [note.json()["id"]]
    assert notes[0]["properties"]["hs_note_body"] == "<p>Facture F-1 créée</p>"
    assert notes[0]["properties"]["hs_timestamp"] == "2026-11-02T10:00:00.000Z"
    no_timestamp = requests.post(
        f"{base}/crm/objects/2026-03/notes", json={"properties": {"hs_note_body": "x"}}, headers=h, timeout=5
    )
    assert no_timestamp.status_code == 400


def test_notes_need_the_contacts_write_scope(api: HubSpotApi, base: str) -> None:
    portal_id, access, _ = _new_portal(api, scopes=APP_SCOPES["required"])
    deal = api.create_deal(portal_id, dealname="Notes", amount="10")
    note = {
        "properties": {"hs_timestamp": "2026-11-02T10:00:00Z", "hs_note_body": "<p>x</p>"},
        "associations": [
            {
                "to": {"id": deal["id"]},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214}],
            }
        ],
    }
    bearer = {"Authorization": f"Bearer {access}"}
    strict = requests.post(f"{base}/crm/objects/2026-03/notes", json=note, headers=bearer, timeout=5)
    assert strict.status_code == 403
    assert strict.json()["context"]["missingScopes"] == ["crm.objects.contacts.write"]
    api.set_notes_require_contacts_scope(False)
    try:
        lenient = requests.post(f"{base}/crm/objects/2026-03/notes", json=note, headers=bearer, timeout=5)
    finally:
        api.set_notes_require_contacts_scope(True)
    assert lenient.status_code == 201
    assert [n["id"] for n in api.notes_for_deal(portal_id, deal["id"])] == [lenient.json()["id"]]


def test_settings_users_answers_super_admin_under_its_scope(api: HubSpotApi, base: str) -> None:
    # GET /settings/users/{version}/{userId} (legacy /settings/v3/users/{userId}) [doc].
    portal_id = next(_portal_seq)
    api.create_portal(portal_id, users=[(91, "admin@x.example"), (92, "sales@x.example")])
    access, _ = api.install(portal_id, scopes=[*APP_SCOPES["required"], "settings.users.read"])
    bearer = {"Authorization": f"Bearer {access}"}
    admin = requests.get(f"{base}/settings/users/2026-03/91", headers=bearer, timeout=5)
    assert admin.status_code == 200
    assert admin.json() == {
        "id": "91", "email": "admin@x.example", "roleIds": [], "superAdmin": True, "sendWelcomeEmail": False,
    }  # fmt: skip
    sales = requests.get(f"{base}/settings/v3/users/92", headers=bearer, timeout=5)
    assert sales.json()["superAdmin"] is False
    by_email = requests.get(
        f"{base}/settings/users/2026-03/sales@x.example",
        params={"idProperty": "EMAIL"},
        headers=bearer,
        timeout=5,
    )
    assert by_email.json()["id"] == "92"
    assert requests.get(f"{base}/settings/users/2026-03/93", headers=bearer, timeout=5).status_code == 404
    api.set_super_admin(portal_id, 92)
    assert requests.get(f"{base}/settings/users/2026-03/92", headers=bearer, timeout=5).json()["superAdmin"]
    without, _ = api.install(portal_id, scopes=APP_SCOPES["required"])
    refused = requests.get(
        f"{base}/settings/users/2026-03/91", headers={"Authorization": f"Bearer {without}"}, timeout=5
    )
    assert refused.status_code == 403
    assert refused.json()["context"]["missingScopes"] == ["settings.users.read"]


def test_app_scopes_match_the_app_project() -> None:
    from pathlib import Path

    # The committed template (src/app/app-hsmeta.json is generated from it for each deployment).
    meta_file = Path(__file__).resolve().parents[2] / "hubspot_app/card/app-hsmeta.template.json"
    auth = json.loads(meta_file.read_text(encoding="utf-8"))["config"]["auth"]
    assert APP_SCOPES["required"] == auth["requiredScopes"]
    assert set(auth.get("optionalScopes") or []) <= set(APP_SCOPES["optional"])


# --- §5.6 search -------------------------------------------------------------------------------


def _search(base: str, bearer: dict[str, str], body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{base}/crm/objects/2026-03/deals/search", json=body, headers=bearer, timeout=5)


@pytest.mark.usefixtures("many_searches")
def test_search_operators_sorts_and_paging(api: HubSpotApi, base: str) -> None:
    portal_id, access, _ = _new_portal(api)
    bearer = {"Authorization": f"Bearer {access}"}
    names = ["Alpha refonte", "Beta audit", "Gamma refonte site", "Delta", "Epsilon"]
    ids = [
        api.create_deal(
            portal_id,
            dealname=n,
            amount=str(100 * (i + 1)),
            dealstage="closedwon" if i % 2 == 0 else "contractsent",
        )["id"]
        for i, n in enumerate(names)
    ]
    api.update_object(portal_id, "deals", ids[4], {"amount": ""})  # Epsilon has no amount

    def names_for(filters: list[dict[str, Any]], **extra: Any) -> list[str]:
        resp = _search(
            base,
            bearer,
            {"filterGroups": [{"filters": filters}], "properties": ["dealname", "amount"], **extra},
        )
        assert resp.status_code == 200, resp.text
        return [r["properties"]["dealname"] for r in resp.json()["results"]]

    assert names_for([{"propertyName": "amount", "operator": "EQ", "value": "300"}]) == ["Gamma refonte site"]
    assert names_for([{"propertyName": "amount", "operator": "GT", "value": "250"}]) == [
        "Gamma refonte site",
        "Delta",
    ]
    assert names_for([{"propertyName": "amount", "operator": "LTE", "value": "200"}]) == [
        "Alpha refonte",
        "Beta audit",
    ]
    assert names_for(
        [{"propertyName": "amount", "operator": "BETWEEN", "value": "150", "highValue": "350"}]
    ) == [
        "Beta audit",
        "Gamma refonte site",
    ]
    assert names_for([{"propertyName": "dealstage", "operator": "IN", "values": ["contractsent"]}]) == [
        "Beta audit",
        "Delta",
    ]
    assert (
        len(names_for([{"propertyName": "dealstage", "operator": "NOT_IN", "values": ["contractsent"]}])) == 3
    )
    assert names_for([{"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}]) == ["Epsilon"]
    assert len(names_for([{"propertyName": "amount", "operator": "HAS_PROPERTY"}])) == 4
    assert names_for([{"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "refonte"}]) == [
        "Alpha refonte",
        "Gamma refonte site",
    ]
    assert "Alpha refonte" not in names_for(
        [{"propertyName": "dealname", "operator": "NOT_CONTAINS_TOKEN", "value": "refon*"}]
    )
    assert names_for([{"propertyName": "dealname", "operator": "NEQ", "value": "delta"}]) == [
        "Alpha refonte",
        "Beta audit",
        "Gamma refonte site",
        "Epsilon",
    ]
    assert names_for([{"propertyName": "hs_object_id", "operator": "EQ", "value": ids[1]}]) == ["Beta audit"]
    # Groups are ORed, filters ANDed.
    ored = _search(
        base,
        bearer,
        {
            "filterGroups": [
                {"filters": [{"propertyName": "amount", "operator": "EQ", "value": "100"}]},
                {
                    "filters": [
                        {"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"},
                        {"propertyName": "amount", "operator": "GTE", "value": "500"},
                    ]
                },
            ]
        },
    )
    assert ored.json()["total"] == 1  # Epsilon (500) lost its amount; only Alpha matches
    sorted_desc = _search(
        base,
        bearer,
        {
            "sorts": [{"propertyName": "amount", "direction": "DESCENDING"}],
            "properties": ["dealname"],
            "limit": 2,
        },
    ).json()
    assert [r["properties"]["dealname"] for r in sorted_desc["results"]] == ["Delta", "Gamma refonte site"]
    assert sorted_desc["total"] == 5
    assert sorted_desc["paging"]["next"]["after"] == "2"
    last = _search(
        base,
        bearer,
        {"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}], "limit": 2, "after": "4"},
    ).json()
    assert len(last["results"]) == 1
    assert "paging" not in last
    assert last["results"][0]["properties"]["hs_object_id"] == ids[4]  # missing values sort last

    assert _search(base, bearer, {"limit": 201}).status_code == 400
    assert (
        _search(
            base,
            bearer,
            {"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "LIKE", "value": "1"}]}]},
        ).status_code
        == 400
    )
    six_groups = [{"filters": [{"propertyName": "amount", "operator": "HAS_PROPERTY"}]}] * 6
    assert _search(base, bearer, {"filterGroups": six_groups}).status_code == 400


@pytest.mark.usefixtures("many_searches")
def test_bulk_deals_and_search_depth(api: HubSpotApi, base: str) -> None:
    portal_id, access, _ = _new_portal(api)
    started = time.monotonic()
    ids = api.bulk_create_deals(portal_id, 10_000)
    assert time.monotonic() - started < 5
    assert len(set(ids)) == 10_000
    bearer = {"Authorization": f"Bearer {access}"}
    page = _search(base, bearer, {"limit": 200, "after": "9800"}).json()
    assert page["total"] == 10_000
    assert len(page["results"]) == 200
    assert "paging" not in page
    assert _search(base, bearer, {"limit": 200, "after": "9900"}).status_code == 400


def test_search_has_its_own_5_per_second_limit(sb: RunningSandbox, base: str, h: dict[str, str]) -> None:
    sb.sandbox.config.hubspot_search_rate_limit = 5
    time.sleep(1.05)  # a clean window
    answers = [_search(base, h, {"limit": 1}) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    limited = answers[-1]
    assert limited.json()["message"] == "You have reached your secondly limit."
    assert limited.json()["errorType"] == "RATE_LIMIT"
    assert "X-HubSpot-RateLimit-Max" not in limited.headers
    assert "X-HubSpot-RateLimit-Max" not in answers[0].headers
    # Other calls are not affected, and the limit frees after a second.
    assert requests.get(f"{base}/crm/v3/objects/deals?limit=1", headers=h, timeout=5).status_code == 200
    time.sleep(1.05)
    assert _search(base, h, {"limit": 1}).status_code == 200


# --- §6 the 110 / 10 s limiter ------------------------------------------------------------------


def test_ten_secondly_limiter_headers_and_429_body() -> None:
    assert SandboxConfig().hubspot_rate_limit == 110
    running = _start(SandboxConfig(port=0, hubspot_rate_limit=5))
    try:
        api: HubSpotApi = running.provider("hubspot")
        access, _ = api.install(demo.PORTAL_ID)
        other, _ = api.install(demo.OTHER_PORTAL_ID)
        url = f"{running.url}/hubspot/crm/v3/objects/deals?limit=1"
        answers = [
            requests.get(url, headers={"Authorization": f"Bearer {access}"}, timeout=5) for _ in range(6)
        ]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert [a.headers["X-HubSpot-RateLimit-Remaining"] for a in answers] == ["4", "3", "2", "1", "0", "0"]
        assert {a.headers["X-HubSpot-RateLimit-Max"] for a in answers} == {"5"}
        assert {a.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] for a in answers} == {"10000"}
        body = answers[-1].json()
        assert body["status"] == "error"
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert body["errorType"] == "RATE_LIMIT"
        assert body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["groupName"].startswith("publicapi:oauth-app-api-calls-ten-secondly:")
        assert re.fullmatch(r"[0-9a-f-]{36}", body["correlationId"])
        # Per portal: the other portal still has its budget; search is outside the budget.
        assert requests.get(url, headers={"Authorization": f"Bearer {other}"}, timeout=5).status_code == 200
        search = requests.post(
            f"{running.url}/hubspot/crm/v3/objects/deals/search",
            json={},
            headers={"Authorization": f"Bearer {access}"},
            timeout=5,
        )
        assert search.status_code == 200
        assert len(api.calls(demo.PORTAL_ID)) == 7
        assert len(api.calls(demo.OTHER_PORTAL_ID)) == 1
    finally:
        running.stop()


def test_faults_apply_to_hubspot(sb: RunningSandbox, base: str, h: dict[str, str]) -> None:
    requests.post(
        f"{sb.url}/_sim/faults",
        json={"provider": "hubspot", "status": 502, "path": "/crm/v3/objects/companies", "count": 1},
        timeout=5,
    )
    url = f"{base}/crm/v3/objects/companies/{demo.COMPANY_COMPLETE_ID}"
    assert requests.get(url, headers=h, timeout=5).status_code == 502
    assert requests.get(url, headers=h, timeout=5).status_code == 200


# --- the web app: deal page and the signed card proxy ------------------------------------------


class _Recorder:
    """A tiny HTTP server standing in for our product: records requests, replays scripted answers."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: list[tuple[int, dict[str, Any]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": body,
                    }
                )
                status, payload = recorder.answers.pop(0) if recorder.answers else (200, {"ok": True})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def product(sb: RunningSandbox) -> Iterator[_Recorder]:
    recorder = _Recorder()
    previous = sb.sandbox.config.connector_base_url
    sb.sandbox.config.connector_base_url = recorder.url
    yield recorder
    sb.sandbox.config.connector_base_url = previous
    recorder.close()


_V3_DECODE = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}


def _verify_v3(secret: str, method: str, base_url: str, recorded: dict[str, Any]) -> bool:
    uri = base_url + recorded["path"]
    for encoded, char in _V3_DECODE.items():
        uri = uri.replace(encoded, char).replace(encoded.lower(), char)
    ts = recorded["headers"]["X-HubSpot-Request-Timestamp"]
    message = f"{method}{uri}{recorded['body'].decode('utf-8')}{ts}".encode()
    expected = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() * 1000 - int(ts)) < 300_000
    return fresh and hmac.compare_digest(expected, recorded["headers"]["X-HubSpot-Signature-v3"])


def test_card_proxy_signs_like_hubspot_fetch(sb: RunningSandbox, product: _Recorder) -> None:
    cfg = sb.sandbox.config
    product.answers = [(202, {"invoice": {"id": "inv-1", "status": "pending"}})]
    body = {"kind": "deposit", "percentage": "30", "idempotency_key": "3b8f8a4e-1f7e-4b8e-9d0b-7f7d1c2e3a4b"}
    resp = requests.post(
        f"{sb.url}/hubspot-app/_card-fetch",
        params={
            "path": f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/invoices",
            "portalId": str(demo.PORTAL_ID),
            "userId": str(demo.SALES_USER_ID),
            "dealId": demo.DEAL_COMPLETE_ID,
        },
        data=json.dumps(body),
        headers={"Content-Type": "application/json", "Cookie": "sessionid=secret"},
        timeout=10,
    )
    assert resp.status_code == 202
    assert resp.json() == {"invoice": {"id": "inv-1", "status": "pending"}}
    assert len(product.requests) == 1
    got = product.requests[0]
    assert got["method"] == "POST"
    path, _, query = got["path"].partition("?")
    assert path == f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/invoices"
    params = dict(urllib.parse.parse_qsl(query))
    assert params == {
        "portalId": str(demo.PORTAL_ID),
        "userId": str(demo.SALES_USER_ID),
        "userEmail": demo.SALES_EMAIL,
        "dealId": demo.DEAL_COMPLETE_ID,
        "appId": cfg.hubspot_app_id,
    }
    assert "%40" in query  # the e-mail is escaped on the wire and signed decoded
    assert json.loads(got["body"]) == body
    assert "Cookie" not in got["headers"]
    assert "Authorization" not in got["headers"]
    assert _verify_v3(cfg.hubspot_client_secret, "POST", product.url, got)
    assert not _verify_v3("another-secret", "POST", product.url, got)
    assert (
        got["headers"]["X-HubSpot-Signature"]
        == hashlib.sha256(
            f"{cfg.hubspot_client_secret}POST{product.url}{got['path']}{got['body'].decode()}".encode()
        ).hexdigest()
    )

    # GET: no body, own query kept; a 5xx is retried once, like hubspot.fetch.
    product.answers = [(503, {"error": {"code": "down"}}), (200, {"tenant": {"status": "active"}})]
    card = requests.get(
        f"{sb.url}/hubspot-app/_card-fetch",
        params={
            "path": f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/card?x=1",
            "portalId": str(demo.PORTAL_ID),
        },
        timeout=10,
    )
    assert card.status_code == 200
    assert card.json() == {"tenant": {"status": "active"}}
    assert len(product.requests) == 3
    again = product.requests[2]
    assert again["body"] == b""
    assert dict(urllib.parse.parse_qsl(again["path"].partition("?")[2]))["userEmail"] == demo.INSTALLER_EMAIL
    assert again["path"].partition("?")[2].startswith("x=1&portalId=")
    assert _verify_v3(cfg.hubspot_client_secret, "GET", product.url, again)

    webapp: HubSpotWebApp = sb.provider("hubspot_web")
    webapp.card_settings["signature_mode"] = "stale"
    try:
        requests.get(
            f"{sb.url}/hubspot-app/_card-fetch",
            params={"path": "/api/hubspot/v1/x", "portalId": str(demo.PORTAL_ID)},
            timeout=10,
        )
    finally:
        webapp.card_settings["signature_mode"] = "valid"
    assert not _verify_v3(cfg.hubspot_client_secret, "GET", product.url, product.requests[-1])

    assert (
        requests.get(
            f"{sb.url}/hubspot-app/_card-fetch", params={"path": "/x", "portalId": "1"}, timeout=5
        ).status_code
        == 400
    )
    not_object = requests.post(
        f"{sb.url}/hubspot-app/_card-fetch",
        params={"path": "/x", "portalId": str(demo.PORTAL_ID)},
        data="[1]",
        timeout=5,
    )
    assert not_object.status_code == 400


def test_card_proxy_signature_passes_the_product_verifier(sb: RunningSandbox, product: _Recorder) -> None:
    signature = pytest.importorskip("hubspot_app.signature")
    requests.post(
        f"{sb.url}/hubspot-app/_card-fetch",
        params={"path": "/api/hubspot/v1/deals/1/invoices", "portalId": str(demo.PORTAL_ID), "dealId": "1"},
        json={"kind": "full", "percentage": None, "idempotency_key": "k-1"},
        timeout=10,
    )
    got = product.requests[0]
    signature.verify_v3(
        secret=sb.sandbox.config.hubspot_client_secret,
        method="POST",
        uri=product.url + got["path"],
        body=got["body"],
        timestamp=got["headers"]["X-HubSpot-Request-Timestamp"],
        signature=got["headers"]["X-HubSpot-Signature-v3"],
    )


def test_post_webhook_signs_v1_and_v3(api: HubSpotApi, product: _Recorder) -> None:
    events = [api.webhook_event(demo.PORTAL_ID, "deal.deletion", demo.DEAL_FOREIGN_ID)]
    secret = "sandbox-client-secret-0000-000000000000"
    resp = post_webhook(f"{product.url}/hubspot/webhooks", events, client_secret=secret)
    assert resp.status_code == 200
    got = product.requests[0]
    assert json.loads(got["body"])[0]["subscriptionType"] == "deal.deletion"
    assert json.loads(got["body"])[0]["objectId"] == int(demo.DEAL_FOREIGN_ID)
    assert got["headers"]["X-HubSpot-Signature-Version"] == "v1"
    assert got["headers"]["X-HubSpot-Signature"] == hashlib.sha256(secret.encode() + got["body"]).hexdigest()
    assert _verify_v3(secret, "POST", product.url, got)


def test_deal_page_index_and_properties_json(sb: RunningSandbox, base: str, h: dict[str, str]) -> None:
    page = requests.get(
        f"{sb.url}/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/{demo.DEAL_COMPLETE_ID}", timeout=5
    )
    assert page.status_code == 200
    for marker in (
        'id="btn-full"',
        'id="deposit-percentage"',
        'id="btn-deposit"',
        'id="btn-balance"',
        "Générer la facture",
    ):
        assert marker in page.text
    assert "Refonte site – Agence &amp; Co" in page.text  # escaped in the title
    assert "innerHTML" not in page.text
    found = re.search(r'<script type="application/json" id="hs-context">(.*?)</script>', page.text, re.S)
    assert found is not None
    context = json.loads(found.group(1))
    assert (context["portalId"], context["dealId"], context["userEmail"]) == (
        demo.PORTAL_ID,
        demo.DEAL_COMPLETE_ID,
        demo.INSTALLER_EMAIL,
    )
    props = requests.get(sb.url + context["propertiesUrl"], timeout=5).json()
    values = {p["name"]: p["value"] for p in props["properties"]}
    assert values["dealname"] == "Refonte site – Agence & Co"
    assert values["amount"] == "12000"
    assert props["company"]["name"] == "ACME Industrie SAS"
    requests.patch(
        f"{base}/crm/v3/objects/deals/{demo.DEAL_COMPLETE_ID}",
        json={"properties": {"qonto_last_invoice_number": "F-2026-042"}},
        headers=h,
        timeout=5,
    )
    values = {
        p["name"]: p["value"]
        for p in requests.get(sb.url + context["propertiesUrl"], timeout=5).json()["properties"]
    }
    assert values.get("qonto_last_invoice_number") == "F-2026-042"
    index = requests.get(f"{sb.url}/hubspot-app/", timeout=5)
    assert f"/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/{demo.DEAL_FOREIGN_ID}" in index.text
    assert (
        requests.get(f"{sb.url}/hubspot-app/contacts/{demo.PORTAL_ID}/record/0-3/1", timeout=5).status_code
        == 404
    )


# --- Python API, control routes, state -----------------------------------------------------------


def test_control_routes(sb: RunningSandbox, api: HubSpotApi) -> None:
    ctl = f"{sb.url}/_sim/hubspot"
    created = requests.post(f"{ctl}/portals", json={"portal_id": 55500001, "name": "Ctl"}, timeout=5)
    assert created.status_code == 201
    tokens = requests.post(f"{ctl}/portals/55500001/install", json={}, timeout=5).json()
    company = requests.post(
        f"{ctl}/portals/55500001/companies", json={"properties": {"name": "Ctl SAS"}}, timeout=5
    ).json()
    deal = requests.post(
        f"{ctl}/portals/55500001/deals",
        json={
            "properties": {"dealname": "Ctl deal", "amount": "300"},
            "company_id": company["id"],
            "line_items": [{"name": "L", "quantity": "3", "price": "100"}],
        },
        timeout=5,
    ).json()
    assert deal["associations"]["companies"] == [company["id"]]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    got = requests.get(f"{sb.url}/hubspot/crm/v3/objects/deals/{deal['id']}", headers=bearer, timeout=5)
    assert got.json()["properties"]["amount"] == "300"
    calls = requests.get(f"{ctl}/portals/55500001/calls", timeout=5).json()
    assert calls["count"] == 1
    assert calls["calls"][0]["path"] == f"/crm/v3/objects/deals/{deal['id']}"
    assert requests.delete(f"{ctl}/portals/55500001/deals/{deal['id']}", timeout=5).json() == {
        "deleted": True
    }
    assert requests.get(f"{ctl}/portals/55500001/objects/deals/{deal['id']}", timeout=5).status_code == 404
    assert requests.post(f"{ctl}/portals/55500001/expire-tokens", timeout=5).json() == {"expired": 1}
    assert requests.post(f"{ctl}/portals/55500001/uninstall", timeout=5).ok
    assert not api.is_installed(55500001)
    summary = requests.get(ctl, timeout=5).json()
    assert summary["app_scopes"] == APP_SCOPES


def test_dump_and_load_state_round_trip(api: HubSpotApi) -> None:
    state = json.loads(json.dumps(api.dump_state()))
    other = HubSpotApi(Sandbox(SandboxConfig(port=0)))
    other.load_state(state)
    original = api.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID)
    assert other.get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID) == original
    new = other.create_company(demo.PORTAL_ID, name="Après rechargement")
    assert api.get_object(demo.PORTAL_ID, "companies", new["id"]) is None  # independent copies
