"""An operational demo tenant wired to the sandbox: HubSpot installed, Qonto connected, plan active.

Import the fixtures in a test module (or conftest) with:

    from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
    from tests.invoice_world import invoice_world_fixture  # noqa: F401
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from billing.models import Subscription
from connector.models import QontoConnection, Tenant
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from sandbox.core import FaultRule
from sandbox.testing import RunningSandbox
from tests.hubspot_app.sandbox_fixtures import app_optional_scopes, app_required_scopes


@dataclasses.dataclass
class InvoiceWorld:
    sb: RunningSandbox
    tenant: Tenant
    settings: Any

    @property
    def hubspot(self) -> Any:
        return self.sb.provider("hubspot")

    @property
    def qonto(self) -> Any:
        return self.sb.provider("qonto")

    def qonto_invoices(self) -> list[dict[str, Any]]:
        return list(self.qonto.list_invoices(demo.QONTO_LOGIN))

    def deal(self, deal_id: str) -> dict[str, Any]:
        return dict(self.hubspot.get_object(demo.PORTAL_ID, "deals", deal_id))

    def fault(self, **kwargs: Any) -> None:
        self.sb.sandbox.faults.add(FaultRule(**kwargs))

    def signed(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None = None,
        body: Any = None,
        *,
        portal_id: int | None = None,
        secret: str | None = None,
        age_ms: int = 0,
    ) -> dict[str, Any]:
        """Django test-client kwargs for a card call signed the way HubSpot signs it (v3)."""
        params = {
            "appId": self.settings.HUBSPOT_APP_ID,
            "portalId": portal_id or self.tenant.portal_id,
            "userId": demo.SALES_USER_ID,
            "userEmail": demo.SALES_EMAIL,
            **(query or {}),
        }
        full_path = f"{path}?{urlencode(params)}"
        raw = json.dumps(body) if body is not None else ""
        ts = str(int(time.time() * 1000) - age_ms)
        uri = self.settings.PUBLIC_BASE_URL + full_path.replace("%40", "@")
        mac = hmac.new(
            (secret or self.settings.HUBSPOT_CLIENT_SECRET).encode(),
            f"{method}{uri}{raw}{ts}".encode(),
            hashlib.sha256,
        )
        return {"path": full_path, "data": raw, "content_type": "application/json",
                "HTTP_X_HUBSPOT_SIGNATURE_V3": base64.b64encode(mac.digest()).decode(),
                "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": ts}  # fmt: skip


def make_operational_tenant(sb: RunningSandbox, *, portal_id: int = demo.PORTAL_ID) -> Tenant:
    hub = sb.provider("hubspot")
    scopes = [*app_required_scopes(), *app_optional_scopes()]  # everything granted
    access, refresh = hub.install(portal_id, scopes=scopes)
    tenant = Tenant.objects.create(portal_id=portal_id, name="Agence Démo", siret_property="siret")
    HubSpotInstallation.objects.create(
        tenant=tenant,
        access_token=access,
        refresh_token=refresh,
        expires_at=timezone.now() + timedelta(minutes=30),
        scopes=scopes,
        installed_at=timezone.now(),
    )
    QontoConnection.objects.create(
        tenant=tenant,
        organization_slug=demo.QONTO_LOGIN if portal_id == demo.PORTAL_ID else demo.OTHER_QONTO_LOGIN,
        secret_key=demo.QONTO_SECRET_KEY if portal_id == demo.PORTAL_ID else demo.OTHER_QONTO_SECRET_KEY,
        vat_rate=Decimal("20"),
        iban=demo.QONTO_IBAN_MAIN if portal_id == demo.PORTAL_ID else demo.OTHER_QONTO_IBAN,
        legal_name=demo.QONTO_LEGAL_NAME,
        verified_at=timezone.now(),
    )
    Subscription.objects.create(
        tenant=tenant,
        stripe_customer_id=f"cus_test_{portal_id}",
        stripe_subscription_id=f"sub_test_{portal_id}",
        status="active",
        plan="monthly",
        current_period_end=timezone.now() + timedelta(days=30),
    )
    from hubspot_app.services import hubspot_setup

    hubspot_setup(tenant_id=tenant.pk)  # our deal properties, as the install task creates them
    return tenant


@pytest.fixture(name="invoice_world")
def invoice_world_fixture(sandbox: RunningSandbox, settings: Any, db: Any) -> InvoiceWorld:
    return InvoiceWorld(sb=sandbox, tenant=make_operational_tenant(sandbox), settings=settings)
