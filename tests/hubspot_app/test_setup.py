"""The HubSpot setup task: our property group and properties, created once, repaired if needed."""

from __future__ import annotations

import pytest

from connector.exceptions import HubSpotRetryableError
from hubspot_app.client import HubSpotClient
from hubspot_app.models import HubSpotInstallation
from hubspot_app.properties import DEAL_PROPERTIES, DEAL_PROPERTY_NAMES, GROUP_NAME
from hubspot_app.services import hubspot_setup
from hubspot_app.tasks import hubspot_setup_task
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import (
    add_fault,
    hubspot,
    install_in_simulator,
)

pytestmark = pytest.mark.django_db


def portal_state(sb):
    return hubspot(sb).state["portals"][str(demo.PORTAL_ID)]


def property_calls(sb, method: str) -> list:
    return [e for e in hubspot(sb).calls(demo.PORTAL_ID, method=method) if "/crm/properties/" in e.path]


def test_deal_property_definitions() -> None:
    assert len(DEAL_PROPERTY_NAMES) == 16
    assert len(set(DEAL_PROPERTY_NAMES)) == 16
    by_name = {p["name"]: p for p in DEAL_PROPERTIES}
    status = by_name["qonto_last_invoice_status"]
    assert status["type"] == "enumeration"
    assert [o["value"] for o in status["options"]] == [
        "pending",
        "draft",
        "unpaid",
        "paid",
        "canceled",
        "failed",
    ]
    assert by_name["qonto_last_invoice_issue_date"]["type"] == "date"
    assert by_name["qonto_last_sync_at"]["type"] == "datetime"
    assert by_name["qonto_overdue"]["type"] == "bool"
    assert by_name["qonto_invoices_summary"]["fieldType"] == "textarea"
    automation = by_name["qonto_automation_status"]
    assert (automation["type"], automation["fieldType"]) == ("enumeration", "select")
    assert [o["value"] for o in automation["options"]] == ["success", "failed"]
    assert by_name["qonto_automation_message"]["type"] == "string"
    assert {
        by_name[n]["type"] for n in ("qonto_invoiced_amount", "qonto_paid_amount", "qonto_left_to_invoice")
    } == {"number"}
    assert all(p["groupName"] == GROUP_NAME and p["name"].startswith("qonto_") for p in DEAL_PROPERTIES)


def test_first_run_creates_everything(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    hubspot_setup_task.delay(tenant.pk)
    state = portal_state(sandbox)
    assert state["groups"]["deals"][GROUP_NAME]["label"] == "Qonto"
    deals = state["properties"]["deals"]
    for definition in DEAL_PROPERTIES:
        created = deals[definition["name"]]
        assert created["label"] == definition["label"]
        assert created["type"] == definition["type"]
        assert created["fieldType"] == definition["fieldType"]
        assert created["groupName"] == GROUP_NAME
    # Default SIRET property is ours: the company group and qonto_siret exist too; and the EU VAT
    # number the card needs for reverse charge.
    assert GROUP_NAME in state["groups"]["companies"]
    assert state["properties"]["companies"]["qonto_siret"]["type"] == "string"
    assert state["properties"]["companies"]["qonto_vat_number"]["label"] == "N° de TVA intracommunautaire"
    assert HubSpotInstallation.objects.get(tenant=tenant).setup_completed_at is not None
    assert state["properties"]["companies"]["qonto_vat_number"]["groupName"] == GROUP_NAME
    posts = property_calls(sandbox, "POST")
    assert len(posts) == 2 + 16 + 1  # two groups, sixteen deal properties, qonto_siret
    # The demo portal already had qonto_vat_number (its Belgian client has one): moved into our group.
    [patch] = property_calls(sandbox, "PATCH")
    assert patch.path.endswith("/companies/qonto_vat_number")
    assert all(p.status == 201 for p in posts)
    assert all(p.path.startswith("/crm/properties/2026-03/") for p in posts)


def test_second_run_changes_nothing(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    hubspot_setup(tenant_id=tenant.pk)
    before = {n: dict(p) for n, p in portal_state(sandbox)["properties"]["deals"].items()}
    sandbox.sandbox.log.clear()
    report = hubspot_setup(tenant_id=tenant.pk)
    assert report.created == []
    assert report.updated == []
    assert property_calls(sandbox, "POST") == []
    assert property_calls(sandbox, "PATCH") == []
    assert len(property_calls(sandbox, "GET")) == 4  # one group read and one listing per object type
    assert portal_state(sandbox)["properties"]["deals"] == before


def test_conflicts_count_as_already_there(sandbox, monkeypatch) -> None:
    """A stale listing (or a race): every create answers 409, nothing is duplicated or patched."""
    tenant = install_in_simulator(sandbox)
    hubspot_setup(tenant_id=tenant.pk)
    count_before = len(portal_state(sandbox)["properties"]["deals"])
    sandbox.sandbox.log.clear()
    monkeypatch.setattr(HubSpotClient, "list_properties", lambda self, object_type: [])
    monkeypatch.setattr(HubSpotClient, "get_property_group", lambda self, object_type, name: None)
    report = hubspot_setup(tenant_id=tenant.pk)
    posts = property_calls(sandbox, "POST")
    assert len(posts) == 20  # 2 groups + 16 deal properties + 2 company properties
    assert all(p.status == 409 for p in posts)
    assert property_calls(sandbox, "PATCH") == []
    assert report.created == []
    assert report.updated == []
    assert len(portal_state(sandbox)["properties"]["deals"]) == count_before


def test_a_changed_definition_is_patched_back(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    hubspot_setup(tenant_id=tenant.pk)
    state = portal_state(sandbox)
    state["properties"]["deals"]["qonto_last_invoice_status"]["label"] = "Renamed by an admin"
    state["properties"]["deals"]["qonto_last_invoice_status"]["options"] = state["properties"]["deals"][
        "qonto_last_invoice_status"
    ]["options"][:2]
    state["groups"]["deals"][GROUP_NAME]["label"] = "Autre"
    sandbox.sandbox.log.clear()
    report = hubspot_setup(tenant_id=tenant.pk)
    assert sorted(report.updated) == ["deals:group:qonto_connector", "deals:qonto_last_invoice_status"]
    patched = portal_state(sandbox)["properties"]["deals"]["qonto_last_invoice_status"]
    assert patched["label"] == "Qonto – Statut de la dernière facture"
    assert len(patched["options"]) == 6
    assert portal_state(sandbox)["groups"]["deals"][GROUP_NAME]["label"] == "Qonto"
    assert len(property_calls(sandbox, "PATCH")) == 2


def test_no_siret_property_when_the_siret_lives_elsewhere(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    tenant.siret_property = "siret"
    tenant.save()
    hubspot_setup(tenant_id=tenant.pk)
    state = portal_state(sandbox)
    assert "qonto_siret" not in state["properties"]["companies"]
    assert "qonto_vat_number" in state["properties"]["companies"]  # always: reverse charge needs it


@pytest.fixture
def worker_like_eager():
    """Eager tasks that retry like a worker: a retry runs the task again instead of raising Retry."""
    from config.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


def test_retryable_errors_are_retried_then_succeed(sandbox, worker_like_eager) -> None:
    tenant = install_in_simulator(sandbox)
    add_fault(
        sandbox,
        provider="hubspot",
        status=429,
        path=r"^/crm/properties/2026-03/deals$",
        method="POST",
        count=2,
        body={
            "status": "error",
            "message": "You have reached your secondly limit.",
            "policyName": "SECONDLY",
        },
    )
    hubspot_setup_task.delay(tenant.pk)  # eager: the retries run inline
    assert set(DEAL_PROPERTY_NAMES) <= set(portal_state(sandbox)["properties"]["deals"])
    assert HubSpotInstallation.objects.get(tenant=tenant).setup_completed_at is not None


def test_retries_are_bounded(sandbox, worker_like_eager) -> None:
    tenant = install_in_simulator(sandbox)
    add_fault(
        sandbox, provider="hubspot", status=500, path=r"^/crm/properties/2026-03/deals/groups", count=None
    )
    result = hubspot_setup_task.delay(tenant.pk)
    assert result.failed()
    assert isinstance(result.result, HubSpotRetryableError)
    group_reads = [e for e in property_calls(sandbox, "GET") if e.path.endswith("/groups/qonto_connector")]
    assert len(group_reads) == 7  # first try + 6 retries (urllib3 does not retry a plain 500)
    assert HubSpotInstallation.objects.get(tenant=tenant).setup_completed_at is None


def test_setup_of_an_uninstalled_portal_stops_quietly(sandbox) -> None:
    tenant = install_in_simulator(sandbox)
    hubspot(sandbox).uninstall(demo.PORTAL_ID)
    hubspot_setup_task.delay(tenant.pk)  # no exception, no retry loop
    tenant.refresh_from_db()
    assert tenant.status == "uninstalled"
    assert HubSpotInstallation.objects.get(tenant=tenant).setup_completed_at is None
