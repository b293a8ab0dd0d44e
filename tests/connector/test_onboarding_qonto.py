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
    assert "3 Choisir un plan" in body
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
    assert '<option value="qonto_siret" selected>' in select
    assert 'value="siret"' in select  # the demo portal's own SIRET property
    assert 'value="city"' in select


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


def test_wrong_credentials(client, tenant, sandbox) -> None:
    response = client.post(URL, form_data(secret_key="qsk_wrong_key_000"))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Qonto refuse ces identifiants" in field_errors(body, "secret_key")
    assert 'aria-describedby="id_secret_key_helptext id_secret_key_error"' in body
    assert 'aria-invalid="true"' in body
    assert not QontoConnection.objects.filter(tenant=tenant).exists()
    assert organization_calls(sandbox) == 1


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
        ("20 %", "uniquement des chiffres"),
        ("20%", "uniquement des chiffres"),
        ("vingt", "uniquement des chiffres"),
        ("-5", "uniquement des chiffres"),
        ("101", "entre 0 et 100"),
        ("5,555", "Deux décimales"),
    ],
)
def test_vat_refused(client, tenant, sandbox, typed, message) -> None:
    response = client.post(URL, form_data(vat_rate=typed))
    assert response.status_code == 400
    assert message in field_errors(response.content.decode(), "vat_rate")
    assert organization_calls(sandbox) == 0


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
    response = client.post(URL, form_data(vat_rate="20 %"), HTTP_ACCEPT_LANGUAGE="en")
    assert "Type digits only" in field_errors(response.content.decode(), "vat_rate")


def test_anonymous_is_sent_to_signin(db, client) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/signin?next=")
