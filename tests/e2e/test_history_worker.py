"""Issue 13, history from day one, end to end: the onboarding step queues the import, a real Celery
worker (through Redis) attaches the existing Qonto invoices, and the deals show the right totals."""

from __future__ import annotations

import os
from typing import Any

import pytest

from connector.models import HistoryCandidate, HistoryImport, Invoice
from sandbox import demo
from tests.connector.test_history import seed_history
from tests.hubspot_app.sandbox_fixtures import login, running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, make_operational_tenant
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


@pytest.mark.django_db(transaction=True)
def test_onboarding_history_step_attaches_existing_invoices_through_a_real_worker(
    client, sandbox, settings
) -> None:  # type: ignore[no-untyped-def]
    world = InvoiceWorld(sb=sandbox, tenant=make_operational_tenant(sandbox), settings=settings)
    ids = seed_history(world)
    login(client, world.tenant)
    env: dict[str, Any] = {
        **sandbox.env,
        "HUBSPOT_CLIENT_ID": settings.HUBSPOT_CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": settings.HUBSPOT_CLIENT_SECRET,
    }
    page = client.get("/onboarding/history")
    assert page.status_code == 200
    assert "Rechercher mes factures existantes" in page.content.decode()
    with celery_worker(extra_env=env), tasks_sent_to_broker():
        response = client.post("/onboarding/history")
        assert response.status_code == 302
        run = wait_for(
            lambda: HistoryImport.objects.filter(tenant=world.tenant, finished_at__isnull=False).first(),
            timeout=45,
        )
    assert run.status == HistoryImport.Status.SUCCEEDED, run.error
    assert run.requested_by.startswith("onboarding")
    assert run.attached == 3
    assert Invoice.objects.get(qonto_invoice_id=ids["marked"]).hubspot_deal_id == demo.DEAL_COMPLETE_ID
    assert HistoryCandidate.objects.filter(tenant=world.tenant, state="pending").count() == 2
    deal = world.deal(demo.DEAL_COMPLETE_ID)["properties"]
    assert deal["qonto_invoiced_amount"] == "3000.00"
    assert deal["qonto_left_to_invoice"] == "9000.00"
    body = client.get("/onboarding/history").content.decode()
    assert "3 factures rattachées à vos transactions." in body
    assert "2 factures à vérifier" in body
