"""Fixtures and helpers for tests that talk to the sandbox simulators (HubSpot and Qonto).

``tests/hubspot_app/conftest.py`` makes the ``sandbox`` fixtures available to that package; other
packages import ``running_sandbox_fixture`` and ``sandbox_fixture`` from here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from connector.models import Tenant
from connector.tenancy import SESSION_TENANT_ID, SESSION_USER_EMAIL, SESSION_USER_ID
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from sandbox.core import FaultRule, SandboxConfig
from sandbox.testing import RunningSandbox, start_sandbox

ROOT = Path(__file__).resolve().parents[2]
APP_HSMETA = ROOT / "hubspot_app/card/app-hsmeta.template.json"
TEST_PUBLIC_BASE_URL = "http://testserver"


def app_required_scopes() -> list[str]:
    return list(json.loads(APP_HSMETA.read_text())["config"]["auth"]["requiredScopes"])


def app_optional_scopes() -> list[str]:
    return list(json.loads(APP_HSMETA.read_text())["config"]["auth"]["optionalScopes"])


@pytest.fixture(scope="session", name="running_sandbox")
def running_sandbox_fixture() -> Iterator[RunningSandbox]:
    running = start_sandbox(
        SandboxConfig(
            port=0,
            connector_base_url=TEST_PUBLIC_BASE_URL,
            hubspot_redirect_uris=(f"{TEST_PUBLIC_BASE_URL}/hubspot/oauth/callback",),
        )
    )
    yield running
    running.stop()


@pytest.fixture(name="sandbox")
def sandbox_fixture(running_sandbox: RunningSandbox, settings: Any) -> RunningSandbox:
    """The sandbox, reset to its demo data, with our settings pointing at it."""
    running_sandbox.sandbox.reset()
    point_settings_at_sandbox(settings, running_sandbox, TEST_PUBLIC_BASE_URL)
    settings.QONTO_STAGING_TOKEN = ""
    return running_sandbox


def point_settings_at_sandbox(settings: Any, running: RunningSandbox, public_base_url: str) -> None:
    """Our settings pointing at the simulators: their base URLs and the HubSpot app's credentials."""
    for key, value in running.env.items():
        setattr(settings, key, value)
    cfg = running.sandbox.config
    settings.PUBLIC_BASE_URL = public_base_url
    settings.HUBSPOT_CLIENT_ID = cfg.hubspot_client_id
    settings.HUBSPOT_CLIENT_SECRET = cfg.hubspot_client_secret
    settings.HUBSPOT_APP_ID = cfg.hubspot_app_id


@pytest.fixture(name="signed_in")
def signed_in_fixture(client: Any, sandbox: RunningSandbox) -> Tenant:
    """The app installed on the demo portal (simulator), its installer signed in on ``client``."""
    tenant = install_in_simulator(sandbox)
    login(client, tenant)
    return tenant


def hubspot(sb: RunningSandbox) -> Any:
    return sb.provider("hubspot")


def qonto(sb: RunningSandbox) -> Any:
    return sb.provider("qonto")


def add_fault(sb: RunningSandbox, **kwargs: Any) -> None:
    sb.sandbox.faults.add(FaultRule(**kwargs))


def oauth_token_calls(sb: RunningSandbox, grant_type: str | None = None) -> list[Any]:
    """Requests the simulator received on the token endpoint (optionally of one grant type)."""
    return [
        e
        for e in sb.sandbox.log.entries("hubspot")
        if e.method == "POST"
        and e.path.rstrip("/").endswith("/token")
        and (grant_type is None or (e.body or {}).get("grant_type") == grant_type)
    ]


def install_in_simulator(
    sb: RunningSandbox,
    *,
    portal_id: int = demo.PORTAL_ID,
    expires_in: timedelta = timedelta(minutes=30),
    tenant: Tenant | None = None,
) -> Tenant:
    """The app installed on the portal without the browser, and our rows holding its tokens."""
    access, refresh = hubspot(sb).install(portal_id)
    if tenant is None:
        tenant, _ = Tenant.objects.get_or_create(
            portal_id=portal_id, defaults={"name": demo.HUB_DOMAIN, "hub_domain": demo.HUB_DOMAIN}
        )
    HubSpotInstallation.objects.update_or_create(
        tenant=tenant,
        defaults={
            "access_token": access,
            "refresh_token": refresh,
            "expires_at": timezone.now() + expires_in,
            "scopes": [*app_required_scopes(), *app_optional_scopes()],  # what the simulator granted
            "installer_email": demo.INSTALLER_EMAIL,
            "installer_user_id": demo.INSTALLER_USER_ID,
            "hub_domain": demo.HUB_DOMAIN,
            "installed_at": timezone.now(),
        },
    )
    return tenant


def login(
    client: Any,
    tenant: Tenant,
    email: str = demo.INSTALLER_EMAIL,
    user_id: int | None = demo.INSTALLER_USER_ID,
) -> None:
    """Sign ``client`` in as a HubSpot user of the tenant (by default the installer, a super admin)."""
    session = client.session
    session[SESSION_TENANT_ID] = tenant.pk
    session[SESSION_USER_EMAIL] = email
    session[SESSION_USER_ID] = user_id
    session.save()


def consent(
    sb: RunningSandbox, authorize_url: str, *, action: str = "install", portal_id: int = demo.PORTAL_ID
) -> str:
    """Play the HubSpot consent page: returns the path + query HubSpot redirects the browser to."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200, page.text[:500]
    form = {
        "client_id": query["client_id"],
        "redirect_uri": query["redirect_uri"],
        "scope": query["scope"],
        "optional_scope": query.get("optional_scope", ""),
        "state": query.get("state", ""),
        "portal_id": str(portal_id),
        "action": action,
    }
    answer = requests.post(
        f"{sb.url}/hubspot-app/oauth/authorize/decision", data=form, allow_redirects=False, timeout=5
    )
    assert answer.status_code in (302, 303), answer.text[:500]
    location = answer.headers["Location"]
    parts = urlsplit(location)
    return f"{parts.path}?{parts.query}"


__all__ = ["running_sandbox_fixture", "sandbox_fixture"]
