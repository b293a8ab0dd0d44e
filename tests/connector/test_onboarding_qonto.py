"""Connect Qonto (onboarding step 2), against the Qonto and HubSpot simulators."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from connector.models import QontoConnection
from connector.onboarding.forms import VatRateField
from connector.onboarding.services import MAX_FAILED_ATTEMPTS
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import (  # noqa: F401 - fixtures
    add_fault,
    install_in_simulator,
    login,
    qonto,
    running_sandbox_fixture,
    sandbox_fixture,
)

pytestmark = pytest.mark.django_db
URL = "/onboarding/qonto"


@pytest.fixture
def tenant(client, sandbox):
    tenant = install_in_simulator(sandbox)
    login(client, tenant)
    return tenant


def form_data(**overrides):
    data = {
        "form": "qonto",
        "organization_slug": demo.QONTO_LOGIN,
        "secret_key": demo.QONTO_SECRET_KEY,
        "environment": "production",
        "staging_token": "",
        "vat_rate": "20",
        "siret_property": "qonto_siret",
    }
    data.update(overrides)
    return data


def organization_calls(sb) -> int:
    return len([e for e in sb.sandbox.log.entries("qonto") if e.path == "/v2/organization"])


def field_errors(body: str, field: str) -> str:
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', body, re.S)
    return match.group(1) if match else ""


def test_url_and_page(client, tenant) -> None:
    assert reverse("onboarding_qonto") == URL
    response = client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="fr">' in body
    assert 'aria-current="step"' in body
    assert "2 Connecter Qonto" in body
    assert "3 Choisir une offre" in body
    # Labels tied to inputs; the secret input is a password, empty, autocomplete off.
    for field in ("organization_slug", "secret_key", "vat_rate", "siret_property", "staging_token"):
        assert f'for="id_{field}"' in body
    secret_input = re.search(r'<input[^>]*name="secret_key"[^>]*>', body).group(0)
    assert 'type="password"' in secret_input
    assert 'autocomplete="off"' in secret_input
    assert "value=" not in secret_input
    assert "csrfmiddlewaretoken" in body
    assert response["X-Frame-Options"] == "DENY"


def test_siret_select_lists_hubspot_company_properties(client, tenant) -> None:
    body = client.get(URL).content.decode()
    select = re.search(r'<select name="siret_property".*?</select>', body, re.S).group(0)
    assert 'value="qonto_siret"' in select
    assert 'value="city"' in select
    # The demo portal's own "siret" property is the one whose companies hold valid SIRETs.
    assert '<option value="siret" selected>' in select
    assert "Présélectionnée" in body


def test_siret_falls_back_to_text_when_hubspot_is_unreachable(client, tenant, settings) -> None:
    hubspot_api = settings.HUBSPOT_API_BASE
    settings.HUBSPOT_API_BASE = "http://127.0.0.1:9"
    body = client.get(URL).content.decode()
    assert re.search(r'<input type="text" name="siret_property" value="qonto_siret"', body)
    assert "HubSpot ne répond pas" in body
    # Who is a super admin cannot be checked either: connecting Qonto waits for HubSpot.
    response = client.post(URL, form_data(siret_property="siret"))
    assert response.status_code == 403
    assert "pas pu être vérifiés" in response.content.decode()
    # HubSpot back: the form works with the typed name.
    settings.HUBSPOT_API_BASE = hubspot_api
    response = client.post(URL, form_data(siret_property="siret"))
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert tenant.siret_property == "siret"


def test_wrong_credentials_flag_both_fields_with_one_message(client, tenant, sandbox) -> None:
    response = client.post(URL, form_data(secret_key="qsk_wrong_key_000"))
    assert response.status_code == 400
    body = response.content.decode()
    alert = re.search(r'<div class="alert error" role="alert" id="form-errors">(.*?)</div>', body, re.S)
    assert alert is not None
    assert "Qonto ne reconnaît pas cet identifiant" in alert.group(1)
    assert body.count("Qonto ne reconnaît pas cet identifiant") == 1  # one message
    for field in ("organization_slug", "secret_key"):
        tag = re.search(rf'<input[^>]*name="{field}"[^>]*>', body).group(0)
        assert 'aria-invalid="true"' in tag
        assert 'aria-describedby="form-errors' in tag
    assert not QontoConnection.objects.filter(tenant=tenant).exists()
    assert organization_calls(sandbox) == 1


def test_unknown_organization_slug_flags_both_fields(client, tenant, sandbox) -> None:
    response = client.post(URL, form_data(organization_slug="no-such-company-0000"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Qonto ne reconnaît pas cet identifiant" in body
    for field in ("organization_slug", "secret_key"):
        assert 'aria-invalid="true"' in re.search(rf'<input[^>]*name="{field}"[^>]*>', body).group(0)


def test_unknown_slug_answered_404_flags_both_fields(client, tenant, sandbox) -> None:
    add_fault(sandbox, provider="qonto", path="/v2/organization", status=404, body={"errors": []})
    response = client.post(URL, form_data(organization_slug="no-such-company-0000"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Qonto ne reconnaît pas cet identifiant" in body
    assert "erreur inattendue" not in body
    for field in ("organization_slug", "secret_key"):
        assert 'aria-invalid="true"' in re.search(rf'<input[^>]*name="{field}"[^>]*>', body).group(0)


def test_staging_mismatch(client, tenant, sandbox) -> None:
    qonto(sandbox).set_switches(staging_mode=True)
    response = client.post(URL, form_data())  # production chosen, sandbox answers its login page
    assert response.status_code == 400
    assert "environnement" in field_errors(response.content.decode(), "environment")
    response = client.post(URL, form_data(environment="sandbox", staging_token="not-the-token"))
    assert response.status_code == 400
    assert "jeton de staging" in field_errors(response.content.decode(), "staging_token")
    response = client.post(
        URL, form_data(environment="sandbox", staging_token=sandbox.sandbox.config.qonto_staging_token)
    )
    assert response.status_code == 302
    connection = QontoConnection.objects.get(tenant=tenant)
    assert connection.environment == "sandbox"
    assert connection.staging_token == sandbox.sandbox.config.qonto_staging_token


def test_sandbox_requires_a_staging_token(client, tenant) -> None:
    response = client.post(URL, form_data(environment="sandbox"))
    assert response.status_code == 400
    assert "jeton de staging" in field_errors(response.content.decode(), "staging_token")


def test_qonto_unreachable(client, tenant, settings) -> None:
    settings.QONTO_API_BASE = "http://127.0.0.1:9"
    response = client.post(URL, form_data())
    assert response.status_code == 400
    body = response.content.decode()
    assert "Qonto est injoignable" in body
    assert 'role="alert"' in body
    assert not QontoConnection.objects.filter(tenant=tenant).exists()


def test_qonto_rate_limited(client, tenant, sandbox) -> None:
    add_fault(sandbox, provider="qonto", status=429, path="^/v2/organization$", count=1)
    response = client.post(URL, form_data())
    assert response.status_code == 400
    assert "Qonto limite temporairement les requêtes" in response.content.decode()
    assert not QontoConnection.objects.filter(tenant=tenant).exists()


def test_successful_connect_with_iban_choice(client, tenant, sandbox) -> None:
    response = client.post(URL, form_data(vat_rate="5,5"), follow=True)
    assert response.redirect_chain == [(URL, 302)]
    body = response.content.decode()
    assert "alert success" in body
    assert demo.QONTO_LEGAL_NAME in body
    connection = QontoConnection.objects.get(tenant=tenant)
    assert connection.organization_slug == demo.QONTO_LOGIN
    assert connection.secret_key == demo.QONTO_SECRET_KEY
    assert connection.legal_name == demo.QONTO_LEGAL_NAME
    assert connection.vat_rate == Decimal("5.50")
    assert connection.verified_at is not None
    assert connection.iban == demo.QONTO_IBAN_MAIN  # the main account by default
    # Two usable accounts: a radio list with names, the main one preselected.
    radios = re.findall(r'<input type="radio" name="iban"[^>]*>', body)
    assert len(radios) == 2
    main = next(r for r in radios if demo.QONTO_IBAN_MAIN in r)
    assert "checked" in main
    assert "Compte principal" in body
    response = client.post(URL, {"form": "iban", "iban": demo.QONTO_IBAN_SECOND})
    assert response.status_code == 302
    assert response["Location"] == "/billing/plans"
    connection.refresh_from_db()
    assert connection.iban == demo.QONTO_IBAN_SECOND


def test_iban_must_be_one_of_the_organizations(client, tenant) -> None:
    client.post(URL, form_data())
    response = client.post(URL, {"form": "iban", "iban": "FR7630001007941234567890185"})
    assert response.status_code == 400
    assert QontoConnection.objects.get(tenant=tenant).iban == demo.QONTO_IBAN_MAIN


def test_single_account_shows_a_continue_link(client, tenant, sandbox) -> None:
    qonto(sandbox).seed_organization(
        "solo-org-1", "qsk_solo_secret_123456", "Solo SARL", ibans=[demo.OTHER_QONTO_IBAN]
    )
    response = client.post(
        URL, form_data(organization_slug="solo-org-1", secret_key="qsk_solo_secret_123456"), follow=True
    )
    body = response.content.decode()
    assert "Solo SARL" in body
    assert 'name="iban"' not in body
    assert 'href="/billing/plans"' in body


def test_secret_is_never_rendered_back(client, tenant) -> None:
    bodies = [client.get(URL).content.decode()]
    bodies.append(client.post(URL, form_data(vat_rate="20 %")).content.decode())  # invalid form
    bodies.append(client.post(URL, form_data(organization_slug="unknown-org-1")).content.decode())  # refused
    success = client.post(URL, form_data(), follow=True)
    bodies.append(success.content.decode())
    bodies.append(client.get(URL).content.decode())
    bodies.append(client.get(reverse("tenant_settings")).content.decode())
    for body in bodies:
        assert demo.QONTO_SECRET_KEY not in body
    assert "…" + demo.QONTO_SECRET_KEY[-4:] in bodies[-1]


def test_resubmitting_without_a_key_keeps_the_old_one(client, tenant, sandbox) -> None:
    client.post(URL, form_data())
    response = client.post(URL, form_data(secret_key="", vat_rate="10"))
    assert response.status_code == 302
    connection = QontoConnection.objects.get(tenant=tenant)
    assert connection.secret_key == demo.QONTO_SECRET_KEY
    assert connection.vat_rate == Decimal("10.00")
    assert organization_calls(sandbox) == 2  # the kept key was verified again


def test_first_submission_needs_a_key(client, tenant, sandbox) -> None:
    response = client.post(URL, form_data(secret_key=""))
    assert response.status_code == 400
    assert "clé secrète" in field_errors(response.content.decode(), "secret_key")
    assert organization_calls(sandbox) == 0


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("20", Decimal("20.00")),
        ("5,5", Decimal("5.50")),
        ("5.5", Decimal("5.50")),
        ("0", Decimal("0.00")),
        ("100", Decimal("100.00")),
        ("8,50", Decimal("8.50")),
    ],
)
def test_vat_accepted(typed, expected) -> None:
    assert VatRateField().clean(typed) == expected


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("vingt", "en pour cent"),
        ("abc", "en pour cent"),
        ("-5", "en pour cent"),
        ("20 %%", "en pour cent"),
        ("101", "entre 0 et 100"),
        ("150", "entre 0 et 100"),
        ("5,555", "Deux décimales"),
    ],
)
def test_vat_refused(client, tenant, sandbox, typed, message) -> None:
    response = client.post(URL, form_data(vat_rate=typed))
    assert response.status_code == 400
    assert message in field_errors(response.content.decode(), "vat_rate")
    assert not QontoConnection.objects.filter(tenant=tenant).exists()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("20 %", Decimal("20.00")),
        ("20%", Decimal("20.00")),
        ("20\u202f%", Decimal("20.00")),
        ("20,0", Decimal("20.00")),
        ("20", Decimal("20.00")),
        ("5,5", Decimal("5.50")),
        (" 8.5 % ", Decimal("8.50")),
    ],
)
def test_vat_typed_as_people_do_is_accepted(client, tenant, typed, stored) -> None:
    response = client.post(URL, form_data(vat_rate=typed))
    assert response.status_code == 302
    assert QontoConnection.objects.get(tenant=tenant).vat_rate == stored


def test_vat_5_5_is_stored_as_decimal(client, tenant) -> None:
    client.post(URL, form_data(vat_rate="5,5"))
    assert QontoConnection.objects.get(tenant=tenant).vat_rate == Decimal("5.50")
    body = client.get(URL).content.decode()
    assert 'name="vat_rate" value="5,5"' in body


def test_brute_force_limit(client, tenant, sandbox) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS):
        assert client.post(URL, form_data(secret_key="qsk_guess_00000000")).status_code == 400
    assert organization_calls(sandbox) == MAX_FAILED_ATTEMPTS
    response = client.post(URL, form_data())  # even the right key is not tried now
    assert response.status_code == 400
    assert "Trop de tentatives" in response.content.decode()
    assert organization_calls(sandbox) == MAX_FAILED_ATTEMPTS
    assert not QontoConnection.objects.filter(tenant=tenant).exists()


def test_unreachable_attempts_do_not_count_toward_the_limit(client, tenant, settings) -> None:
    settings.QONTO_API_BASE = "http://127.0.0.1:9"
    from connector.onboarding.services import qonto_failed_attempts

    client.post(URL, form_data())
    assert qonto_failed_attempts(tenant) == 0


def test_english(client, tenant) -> None:
    body = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in body
    assert "Connect your Qonto account" in body
    assert "Secret key" in body
    response = client.post(URL, form_data(vat_rate="abc"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Type a rate in percent" in field_errors(response.content.decode(), "vat_rate")
    response = client.post(URL, form_data(vat_rate="150"), HTTP_ACCEPT_LANGUAGE="en")
    assert "between 0 and 100" in field_errors(response.content.decode(), "vat_rate")


def test_anonymous_is_sent_to_signin(db, client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")


def test_verified_key_is_kept_when_another_field_is_wrong(client, tenant, sandbox, caplog) -> None:
    response = client.post(URL, form_data(vat_rate="abc"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "en pour cent" in field_errors(body, "vat_rate")
    assert "Clé vérifiée par Qonto et gardée" in body
    assert demo.QONTO_SECRET_KEY not in body  # never rendered back
    assert organization_calls(sandbox) == 1
    # Kept encrypted in the session, never in clear, never logged.
    session = client.session
    assert demo.QONTO_SECRET_KEY not in str(dict(session.items()))
    assert demo.QONTO_SECRET_KEY not in caplog.text
    # The user fixes the VAT and sends the form with the secret key left empty: saved.
    response = client.post(URL, form_data(vat_rate="20 %", secret_key=""))
    assert response.status_code == 302
    connection = QontoConnection.objects.get(tenant=tenant)
    assert connection.secret_key == demo.QONTO_SECRET_KEY
    assert connection.vat_rate == Decimal("20.00")
    assert "onboarding_pending_qonto_key" not in client.session  # forgotten once saved


def test_kept_key_does_not_apply_to_another_login_nor_after_15_minutes(
    client, tenant, sandbox, monkeypatch
) -> None:
    from connector.onboarding import services

    client.post(URL, form_data(vat_rate="abc"))
    response = client.post(URL, form_data(organization_slug=demo.OTHER_QONTO_LOGIN, secret_key=""))
    assert response.status_code == 400
    assert "Saisissez la clé secrète" in field_errors(response.content.decode(), "secret_key")
    monkeypatch.setattr(services, "PENDING_KEY_TTL_S", -1)  # as if 15 minutes had passed
    response = client.post(URL, form_data(secret_key=""))
    assert response.status_code == 400
    assert "Saisissez la clé secrète" in field_errors(response.content.decode(), "secret_key")
    assert not QontoConnection.objects.filter(tenant=tenant).exists()


def test_a_refused_key_is_not_kept(client, tenant, sandbox) -> None:
    response = client.post(URL, form_data(vat_rate="abc", secret_key="qsk_wrong_key_000"))
    body = response.content.decode()
    assert "Qonto ne reconnaît pas cet identifiant" in body
    assert "en pour cent" in field_errors(body, "vat_rate")
    assert "Clé vérifiée" not in body
    assert "onboarding_pending_qonto_key" not in client.session


def test_no_siret_guess_when_no_property_holds_sirets(client, tenant, sandbox) -> None:
    from tests.hubspot_app.sandbox_fixtures import hubspot

    api = hubspot(sandbox)
    with api.lock:
        for record in api.state["portals"][str(demo.PORTAL_ID)]["objects"]["companies"].values():
            record["properties"]["siret"] = (
                "pas encore renseigné" if record["properties"].get("siret") else ""
            )
    body = client.get(URL).content.decode()
    assert '<option value="qonto_siret" selected>' in body
    assert "Présélectionnée" not in body


def test_siret_guess_degrades_when_the_search_fails(client, tenant, sandbox) -> None:
    add_fault(sandbox, provider="hubspot", path="/companies/search$", status=502, count=None)
    body = client.get(URL).content.decode()
    assert '<option value="qonto_siret" selected>' in body
    assert "Présélectionnée" not in body


def test_siret_property_best() -> None:
    from connector.onboarding.selectors import siret_property_best

    samples = [
        {"siret": "732 829 320 00074", "notes": "client depuis 2019", "qonto_siret": ""},
        {"siret": "55210055400013", "notes": "73282932000074", "qonto_siret": ""},
        {"siret": "", "notes": "à relancer", "qonto_siret": ""},
    ]
    assert siret_property_best(samples, ["qonto_siret", "siret", "notes"]) == "siret"
    assert siret_property_best(samples, ["qonto_siret", "notes"]) is None  # 1 SIRET out of 3 notes
    samples[0]["qonto_siret"] = "73282932000074"
    samples[1]["qonto_siret"] = "55210055400013"
    assert siret_property_best(samples, ["qonto_siret", "siret"]) == "qonto_siret"  # tie: ours first
