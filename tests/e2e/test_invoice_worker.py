"""A click's invoice is created by a real Celery worker process, through Redis, against the sandbox."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest

from connector.invoices.request import invoice_request_create
from connector.models import Invoice
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import make_operational_tenant
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]


@pytest.mark.django_db(transaction=True)
def test_click_to_draft_through_a_real_worker(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant = make_operational_tenant(sandbox)
    worker_env = {
        **sandbox.env,
        "HUBSPOT_CLIENT_ID": settings.HUBSPOT_CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": settings.HUBSPOT_CLIENT_SECRET,
    }
    with celery_worker(extra_env=worker_env), tasks_sent_to_broker():
        result = invoice_request_create(
            tenant=tenant, deal_id=demo.DEAL_COMPLETE_ID, kind="deposit", percentage=Decimal("50"),
            idempotency_key="worker-e2e-key-1",
        )  # fmt: skip
        assert result.invoice.status == Invoice.Status.PENDING  # the web answer does not wait
        invoice = wait_for(
            lambda: Invoice.objects.filter(pk=result.invoice.pk, hubspot_written_at__isnull=False).first(),
            timeout=45,
        )
    assert invoice.status == Invoice.Status.DRAFT
    qonto_invoices = sandbox.provider("qonto").list_invoices(demo.QONTO_LOGIN)
    assert [q["id"] for q in qonto_invoices] == [invoice.qonto_invoice_id]
    assert qonto_invoices[0]["status"] == "draft"
    deal = sandbox.provider("hubspot").get_object(demo.PORTAL_ID, "deals", demo.DEAL_COMPLETE_ID)
    assert deal["properties"]["qonto_last_invoice_status"] == "draft"
    assert deal["properties"]["qonto_invoiced_amount"] == "6000.00"
    assert len(sandbox.provider("hubspot").notes_for_deal(demo.PORTAL_ID, demo.DEAL_COMPLETE_ID)) == 1
