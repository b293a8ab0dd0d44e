"""Our HTML pages: security headers (CSP…), CSRF on every form, no open redirect on any ``next``."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from connector.security import INLINE_SCRIPT_HASHES, content_security_policy
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import login
from tests.invoice_world import InvoiceWorld

ROOT = Path(__file__).resolve().parents[2]
EVIL = [
    "https://evil.example/",
    "//evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "/%2F%2Fevil.example",
    " //evil.example",
    "\t//evil.example",
    "javascript:alert(1)",
    "http://testserver@evil.example/",
]


def _csp(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


# --- headers -------------------------------------------------------------------------------------
def test_csp_allows_no_inline_script_and_no_foreign_origin_except_redirect_targets() -> None:
    policy = {d.split()[0]: d.split()[1:] for d in content_security_policy().split("; ")}
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    for directive, sources in policy.items():
        assert "*" not in sources, directive
        if directive != "form-action":
            assert all(not s.startswith(("http:", "https:", "data:")) or s == "data:" for s in sources), (
                directive
            )
    assert policy["form-action"][0] == "'self'"
    assert "https://checkout.stripe.com" in policy["form-action"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/", "/signin?next=/settings", "/hubspot/oauth/error?reason=access_denied", "/admin/login/",
     "/settings", "/onboarding/qonto", "/onboarding/history", "/billing/", "/billing/plans",
     "/settings/disconnect"],
)  # fmt: skip
def test_every_page_sends_the_security_headers(client, invoice_world: InvoiceWorld, path: str) -> None:  # type: ignore[no-untyped-def]
    login(client, invoice_world.tenant)
    response = client.get(path)
    assert response.status_code in (200, 302, 400), (path, response.status_code)
    policy = _csp(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # Every form of the page posts to our own origin.
    for action in re.findall(r'<form[^>]*action="([^"]*)"', response.content.decode()):
        assert action.startswith("/"), action
        assert not action.startswith("//"), action


@pytest.mark.django_db
def test_card_api_answers_carry_the_headers_too(client, invoice_world: InvoiceWorld) -> None:  # type: ignore[no-untyped-def]
    kwargs = invoice_world.signed("GET", f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/card")
    response = client.get(kwargs.pop("path"), **kwargs)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_form_action_follows_the_configured_providers(settings) -> None:  # type: ignore[no-untyped-def]
    settings.HUBSPOT_AUTH_BASE = "https://app.hubspot.com"
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    policy = {d.split()[0]: d.split()[1:] for d in content_security_policy().split("; ")}
    assert policy["form-action"] == [
        "'self'", "https://checkout.stripe.com", "https://billing.stripe.com", "https://app.hubspot.com",
    ]  # fmt: skip


def _inline_scripts(html: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)]


def _templates() -> list[Path]:
    dirs = [ROOT / "templates", *ROOT.glob("*/templates")]
    return [p for d in dirs for p in d.rglob("*.html") if ".venv" not in p.parts]


def test_only_known_templates_have_inline_scripts() -> None:
    """A new inline <script> must be moved to a static file or get its hash in connector/security.py."""
    with_scripts = sorted(
        str(p.relative_to(ROOT)) for p in _templates() if _inline_scripts(p.read_text(encoding="utf-8"))
    )
    assert with_scripts == ["billing/templates/billing/return.html"]
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\son[a-z]+\s*=", text), f"inline event handler in {path}"
        assert "javascript:" not in text, path


@pytest.mark.django_db
def test_the_activation_page_script_is_allowed_by_its_hash(rf: RequestFactory, tenant) -> None:  # type: ignore[no-untyped-def]
    request = rf.get("/billing/return")
    request.session = {}  # type: ignore[attr-defined]
    html = render_to_string(
        "billing/return.html",
        {
            "result": SimpleNamespace(session_status="complete"),
            "decision": SimpleNamespace(allowed=False, message=""),
            "tenant": tenant,
        },
        request=request,
    )
    scripts = _inline_scripts(html)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"sha256-{digest}" in INLINE_SCRIPT_HASHES, (
        f"billing/return.html's script changed: put 'sha256-{digest}' in connector/security.py"
    )


def test_hsts_and_https_redirect_under_production_settings() -> None:
    from tests.config.test_settings import PROD_ENV, _run

    code = (
        "import django; django.setup(); from django.test import Client; c = Client(); "
        "r = c.get('/hubspot/oauth/error?reason=x', secure=True, SERVER_NAME='connector.example.com'); "
        "print(r.status_code, r['Strict-Transport-Security']); "
        "print(r['Content-Security-Policy']); "
        "r = c.get('/hubspot/oauth/error?reason=x', SERVER_NAME='connector.example.com'); "
        "print(r.status_code, r['Location'])"
    )
    result = _run(["-c", code], {**PROD_ENV, "STRIPE_API_BASE": "https://api.stripe.com"})
    assert result.returncode == 0, result.stderr
    hsts, csp, redirect = result.stdout.strip().splitlines()
    assert hsts == "400 max-age=31536000; includeSubDomains; preload"
    assert (
        "form-action 'self' https://checkout.stripe.com https://billing.stripe.com https://app.hubspot.com"
        in csp
    )
    assert redirect == "301 https://connector.example.com/hubspot/oauth/error?reason=x"


# --- CSRF ----------------------------------------------------------------------------------------
FORMS = [
    ("/i18n/setlang/", {"language": "en", "next": "/"}),
    ("/signout", {}),
    ("/settings/disconnect", {"confirm": "yes"}),
    ("/onboarding/qonto", {"organization_slug": "x", "secret_key": "y"}),
    ("/onboarding/qonto", {"form": "iban", "iban": demo.QONTO_IBAN_SECOND}),
    ("/onboarding/history", {}),
    ("/settings", {"form": "setup"}),
    ("/settings", {"form": "qonto", "qonto-secret_key": "z"}),
    ("/billing/plans", {"plan": "monthly", "attempt": "a"}),
    ("/billing/portal", {}),
]


def test_every_form_of_every_template_is_in_the_csrf_list() -> None:
    from django.urls import reverse

    targets = set()
    for path in _templates():
        for name in re.findall(
            r"<form[^>]*action=\"\{% url '([^']+)' %\}\"", path.read_text(encoding="utf-8")
        ):
            if not name.startswith("admin:"):  # the admin's own forms: see the admin test below
                targets.add(reverse(name))
    assert targets <= {path for path, _ in FORMS}, targets - {path for path, _ in FORMS}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "data"), FORMS, ids=[f"{p}{'+' + d.get('form', '') if d else ''}" for p, d in FORMS]
)
def test_posts_without_a_csrf_token_are_refused(invoice_world: InvoiceWorld, path: str, data: dict) -> None:
    browser = Client(enforce_csrf_checks=True)
    login(browser, invoice_world.tenant)
    browser.get("/")  # a CSRF cookie exists; the attacker's page just cannot read it
    assert browser.post(path, data).status_code == 403
    # A forged token, and a token from another browser, are refused too.
    other = Client(enforce_csrf_checks=True)
    other.get("/signin")
    foreign = other.cookies.get(django_settings.CSRF_COOKIE_NAME)
    assert browser.post(path, {**data, "csrfmiddlewaretoken": "x" * 64}).status_code == 403
    if foreign is not None:
        assert browser.post(path, {**data, "csrfmiddlewaretoken": foreign.value}).status_code == 403
    invoice_world.tenant.refresh_from_db()
    assert invoice_world.tenant.status != "uninstalled"


@pytest.mark.django_db
def test_admin_posts_without_a_csrf_token_are_refused(invoice_world: InvoiceWorld, django_user_model) -> None:  # type: ignore[no-untyped-def]
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "correct-horse-battery")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    changelist = "/admin/connector/tenant/"
    data = {"action": "delete_selected", "_selected_action": [invoice_world.tenant.pk], "post": "yes"}
    assert browser.post(changelist, data).status_code == 403
    assert (
        browser.post(
            f"/admin/connector/tenant/{invoice_world.tenant.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    invoice_world.tenant.refresh_from_db()


@pytest.mark.django_db
def test_a_post_with_the_token_is_accepted(invoice_world: InvoiceWorld) -> None:
    """The refusals above are CSRF's, not something else's."""
    browser = Client(enforce_csrf_checks=True)
    login(browser, invoice_world.tenant)
    page = browser.get("/settings")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = browser.post(
        "/i18n/setlang/", {"language": "en", "next": "/settings", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_card_api_ignores_the_session_cookie(invoice_world: InvoiceWorld) -> None:
    """Signed calls only: a logged-in browser cannot be made to call the card API (no ambient auth)."""
    browser = Client(enforce_csrf_checks=True)
    login(browser, invoice_world.tenant)
    path = f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/invoices?portalId={demo.PORTAL_ID}"
    response = browser.post(
        path, {"kind": "full", "idempotency_key": "csrf-key-0001"}, content_type="application/json"
    )
    assert response.status_code == 401
    assert (
        browser.get(
            f"/api/hubspot/v1/deals/{demo.DEAL_COMPLETE_ID}/card?portalId={demo.PORTAL_ID}"
        ).status_code
        == 401
    )


# --- open redirects ------------------------------------------------------------------------------
def _off_site(location: str) -> bool:
    parts = urlsplit(location.strip().replace("\\", "/"))
    foreign_host = bool(parts.netloc) and parts.netloc != "testserver"
    return foreign_host or parts.scheme not in ("", "http", "https")


@pytest.mark.django_db
@pytest.mark.parametrize("target", EVIL)
def test_language_switch_never_redirects_off_site(client, target: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/i18n/setlang/", {"language": "en", "next": target})
    assert response.status_code in (302, 204)
    if response.status_code == 302:
        assert not _off_site(response["Location"]), response["Location"]
    response = client.post("/i18n/setlang/", {"language": "en"}, HTTP_REFERER=target)
    if response.status_code == 302:
        assert not _off_site(response["Location"]), response["Location"]


@pytest.mark.django_db
@pytest.mark.parametrize("target", EVIL)
def test_signin_and_install_never_carry_an_off_site_next(client, sandbox, target: str) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/signin", {"next": target}).content.decode()
    for href in re.findall(r'href="([^"]*)"', page):
        href = html.unescape(href)
        assert not _off_site(href), href
        for value in parse_qs(urlsplit(href).query).get("next", []):  # the install link's ``next``
            assert not _off_site(value), href
            assert value.startswith("/"), href
            assert not value.startswith("//"), href
    location = client.get("/hubspot/install", {"next": target})["Location"]
    assert urlsplit(location).netloc == urlsplit(sandbox.url).netloc  # HubSpot's consent page
    assert "evil.example" not in location
    # A percent-encoded path stays on our host (CommonMiddleware never redirects it to "//host").
    landing = client.get("/%2F%2Fevil.example")
    assert landing.status_code == 404 or not _off_site(landing["Location"])


@pytest.mark.django_db
@pytest.mark.parametrize("target", EVIL[:4])
def test_signed_in_user_is_never_sent_off_site(client, invoice_world: InvoiceWorld, target: str) -> None:  # type: ignore[no-untyped-def]
    login(client, invoice_world.tenant)
    page = client.get("/signin", {"next": target}).content.decode()
    continue_links = re.findall(r'<a href="([^"]*)">', page)
    assert all(not _off_site(link) for link in continue_links), continue_links
    # The protected pages send anonymous visitors to the sign-in with a local ``next`` only.
    anonymous = Client().get("/settings?x=" + target)
    assert anonymous["Location"].startswith("/signin?next=%2Fsettings")
