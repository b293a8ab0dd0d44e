"""Issue 13, e-invoicing readiness, end to end: the card's checklist for a French client (SIREN/SIRET,
full address, VAT number), and Qonto's e-invoicing status brought back by a sync that a real Celery
worker runs, shown on the card in words."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import Client

from connector import jobs
from connector.models import Invoice, SyncRun, Tenant
from sandbox import demo
from tests.e2e.test_sync_worker import created_by_worker, worker_env
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, make_operational_tenant
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)"),
]

GOOD_VAT = "FR44732829320"  # the key of SIREN 732 829 320, the demo company's SIRET's
OTHER_SIREN_VAT = "FR96552100554"  # a valid number, of another company


def card(world: InvoiceWorld, deal_id: str = demo.DEAL_COMPLETE_ID, lang: str = "fr") -> dict[str, Any]:
    from django.core.cache import cache

    cache.clear()  # the card's short per-deal cache: each read here must be fresh
    kwargs = world.signed("GET", f"/api/hubspot/v1/deals/{deal_id}/card")
    path = kwargs.pop("path")
    response = Client().get(path, HTTP_ACCEPT_LANGUAGE=lang, **kwargs)
    assert response.status_code == 200, response.content
    return dict(response.json())


def checklist(body: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(c["code"], c["ok"]) for c in body["readiness"]["einvoicing"]]


def warnings(body: dict[str, Any]) -> list[str]:
    return [w["code"] for w in body["readiness"]["warnings"]]


def set_vat(world: InvoiceWorld, value: str) -> None:
    world.hubspot.update_object(
        demo.PORTAL_ID, "companies", demo.COMPANY_COMPLETE_ID, {"qonto_vat_number": value}
    )


@pytest.mark.django_db(transaction=True)
def test_einvoicing_checklist_and_qonto_status_through_a_real_worker(sandbox, settings) -> None:  # type: ignore[no-untyped-def]
    tenant: Tenant = make_operational_tenant(sandbox)
    world = InvoiceWorld(sb=sandbox, tenant=tenant, settings=settings)

    # The checklist: a French client without a VAT number is ready for today's draft, with a warning.
    body = card(world)
    assert body["readiness"]["ready"] is True
    assert checklist(body) == [("siret", True), ("address", True), ("vat_number", False)]
    assert warnings(body) == ["einvoicing_missing_vat_number"]
    assert "facturation électronique" in body["readiness"]["warnings"][0]["message"]
    set_vat(world, OTHER_SIREN_VAT)
    assert warnings(card(world)) == ["einvoicing_vat_siren_mismatch"]
    set_vat(world, "FR00 123")
    assert warnings(card(world, lang="en")) == ["einvoicing_invalid_vat_number"]
    set_vat(world, GOOD_VAT)
    body = card(world)
    assert checklist(body) == [("siret", True), ("address", True), ("vat_number", True)]
    assert warnings(body) == []
    # A client outside France has no French e-invoicing checklist.
    assert card(world, demo.DEAL_FOREIGN_ID)["readiness"].get("einvoicing") in (None, [])

    qonto = sandbox.provider("qonto")
    with celery_worker(extra_env=worker_env(sandbox, settings)), tasks_sent_to_broker():
        invoice = created_by_worker(tenant, demo.DEAL_COMPLETE_ID, "einvoicing-e2e-1")
        qonto.finalize(str(invoice.qonto_invoice_id))
        qonto.set_einvoicing_status(str(invoice.qonto_invoice_id), "submitted", status_code=200)
        before = SyncRun.objects.filter(tenant=tenant).count()
        jobs.tenant_sync(tenant.pk)  # what the beat's fan-out queues
        run = wait_for(
            lambda: (
                SyncRun.objects.filter(tenant=tenant, finished_at__isnull=False)
                .order_by("-started_at")
                .first()
                if SyncRun.objects.filter(tenant=tenant, finished_at__isnull=False).count() > before
                else None
            ),
            timeout=45,
        )
        assert run.status == SyncRun.Status.SUCCEEDED, run.error

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.UNPAID
    assert invoice.einvoicing_status == "submitted"
    shown = next(i for i in card(world)["invoices"] if i["id"] == str(invoice.pk))
    assert shown["einvoicing_status"] == "submitted"
    assert shown["einvoicing_label"] == "Facture électronique : déposée"
    shown_en = next(i for i in card(world, lang="en")["invoices"] if i["id"] == str(invoice.pk))
    assert shown_en["einvoicing_label"] == "E-invoice: submitted"
