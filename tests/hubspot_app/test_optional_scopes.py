"""Optional HubSpot scopes: ``tax_rates.read`` (fallback: the tenant's VAT rate) and the notes scope.

A 403 for an optional scope is recorded once on the installation and never retried; the doctor
says what the tenant is missing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.cache import cache

from connector.doctor import tenant_diagnose
from hubspot_app.client import HubSpotClient
from hubspot_app.crm import TAX_RATES_PATH, tax_rates
from hubspot_app.models import HubSpotInstallation
from hubspot_app.scopes import NOTES_SCOPE, OPTIONAL_SCOPES, REQUIRED_SCOPES, TAX_RATES_SCOPE, missing_scopes
from sandbox import demo
from tests.connector.test_invoice_flow import click
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

MISSING_SCOPES_BODY = {
    "status": "error",
    "message": "This app hasn't been granted all required scopes to make this call.",
    "correlationId": "0c0e6f8c-0000-4000-8000-000000000000",
    "category": "MISSING_SCOPES",
    "context": {"requiredGranularScopes": ["crm.objects.contacts.write"]},
}


def _calls(world: InvoiceWorld, method: str, path_end: str) -> list[Any]:
    return [
        e for e in world.sb.sandbox.log.entries("hubspot") if e.method == method and e.path.endswith(path_end)
    ]


def _revoke(world: InvoiceWorld, scope: str) -> None:
    installation = HubSpotInstallation.objects.get(tenant=world.tenant)
    installation.scopes = [s for s in installation.scopes if s != scope]
    installation.save()


def test_tax_rates_is_optional_and_an_install_without_it_is_complete() -> None:
    assert TAX_RATES_SCOPE not in REQUIRED_SCOPES
    assert TAX_RATES_SCOPE in OPTIONAL_SCOPES
    assert missing_scopes([*REQUIRED_SCOPES]) == []  # granted without tax_rates.read: still installed


@pytest.mark.django_db
def test_without_tax_rates_read_lines_use_the_tenant_rate_and_nothing_is_asked(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _revoke(invoice_world, TAX_RATES_SCOPE)
    with django_capture_on_commit_callbacks(execute=True):
        result = click(invoice_world)
    result.invoice.refresh_from_db()
    assert result.invoice.status == "draft"
    [qinv] = invoice_world.qonto_invoices()
    assert {item["vat_rate"] for item in qinv["items"]} == {"0.2"}  # the tenant's 20 %
    assert _calls(invoice_world, "GET", TAX_RATES_PATH) == []
    [finding] = [f for f in tenant_diagnose(invoice_world.tenant) if f.code == "optional_scopes_missing"]
    assert finding.severity == "warning"
    assert TAX_RATES_SCOPE in finding.message
    assert NOTES_SCOPE not in finding.message


@pytest.mark.django_db
def test_a_403_on_tax_rates_is_recorded_once_and_never_retried(invoice_world: InvoiceWorld) -> None:
    invoice_world.fault(
        provider="hubspot",
        method="GET",
        path=f"{TAX_RATES_PATH}$",
        status=403,
        count=None,
        body=MISSING_SCOPES_BODY,
    )
    client = HubSpotClient(invoice_world.tenant)
    assert tax_rates(client) == {}
    cache.clear()  # not the cache that stops the second call
    assert tax_rates(client) == {}
    assert [e.status for e in _calls(invoice_world, "GET", TAX_RATES_PATH)] == [403]
    assert TAX_RATES_SCOPE not in HubSpotInstallation.objects.get(tenant=invoice_world.tenant).scopes


@pytest.mark.django_db
def test_with_tax_rates_read_the_line_rates_are_hubspots(invoice_world: InvoiceWorld) -> None:
    rates = tax_rates(HubSpotClient(invoice_world.tenant))
    assert Decimal("5.5") in rates.values()


@pytest.mark.django_db
def test_a_403_on_notes_is_recorded_once_and_never_retried(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    invoice_world.fault(
        provider="hubspot", method="POST", path=r"/notes$", status=403, count=None, body=MISSING_SCOPES_BODY
    )
    with django_capture_on_commit_callbacks(execute=True):
        deposit = click(invoice_world, "deposit", "50", key="key-deposit")
    with django_capture_on_commit_callbacks(execute=True):
        balance = click(invoice_world, "balance", key="key-balance")
    for result in (deposit, balance):
        result.invoice.refresh_from_db()
        assert result.invoice.status == "draft"
        assert result.invoice.hubspot_written_at is not None  # written back, only without a note
    assert [e.status for e in _calls(invoice_world, "POST", "/notes")] == [403]  # asked once
    assert NOTES_SCOPE not in HubSpotInstallation.objects.get(tenant=invoice_world.tenant).scopes
    props = invoice_world.deal(demo.DEAL_COMPLETE_ID)["properties"]
    assert props["qonto_left_to_invoice"] == "0.00"
    [finding] = [f for f in tenant_diagnose(invoice_world.tenant) if f.code == "optional_scopes_missing"]
    assert NOTES_SCOPE in finding.message


@pytest.mark.django_db
def test_notes_are_not_asked_for_when_the_scope_was_never_granted(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    _revoke(invoice_world, NOTES_SCOPE)
    with django_capture_on_commit_callbacks(execute=True):
        result = click(invoice_world)
    result.invoice.refresh_from_db()
    assert result.invoice.hubspot_written_at is not None
    assert _calls(invoice_world, "POST", "/notes") == []
    assert invoice_world.hubspot.notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID) == []
