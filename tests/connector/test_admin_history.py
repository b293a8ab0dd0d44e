"""Issue 13, history from day one, from the support admin: the tenant action *Importer l'historique
Qonto* (through a real Celery worker), then the candidates support decides: *Choisir la
transaction* (the resolve view) attaches one to the chosen deal, *Écarter* dismisses another; the
deals' totals follow and every step is audited with the staff user."""

from __future__ import annotations

import os

import pytest
from django.contrib.auth.models import Group, User

from connector.audit import ADMIN_GROUP, READ_ONLY_GROUP, support_groups_ensure
from connector.history.services import history_import
from connector.models import AuditLog, HistoryCandidate, HistoryImport, Invoice
from sandbox import demo
from tests.connector.test_history import seed_history
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture, make_operational_tenant  # noqa: F401
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for

TENANTS = "/admin/connector/tenant/"
CANDIDATES = "/admin/connector/historycandidate/"


def staff(username: str, group: str) -> User:
    support_groups_ensure()  # a transactional test elsewhere may have flushed the groups
    user = User.objects.create_user(username, f"{username}@support.example", "pw-0123456789ab", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def resolve_url(candidate: HistoryCandidate) -> str:
    return f"{CANDIDATES}{candidate.pk}/resolve/"


def totals(world: InvoiceWorld, deal_id: str) -> tuple[str | None, str | None, str | None]:
    """The deal's invoiced / paid / left-to-invoice properties in HubSpot (None: never written)."""
    p = world.deal(deal_id)["properties"]
    return p.get("qonto_invoiced_amount"), p.get("qonto_paid_amount"), p.get("qonto_left_to_invoice")


def worker_env(world: InvoiceWorld) -> dict[str, str]:
    return {
        **world.sb.env,
        "HUBSPOT_CLIENT_ID": world.settings.HUBSPOT_CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": world.settings.HUBSPOT_CLIENT_SECRET,
    }


@pytest.mark.worker
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL)")
@pytest.mark.django_db(transaction=True)
def test_admin_import_history_then_choose_the_deal_and_dismiss_through_a_real_worker(
    client, sandbox, settings
) -> None:  # type: ignore[no-untyped-def]
    world = InvoiceWorld(sb=sandbox, tenant=make_operational_tenant(sandbox), settings=settings)
    tenant = world.tenant
    ids = seed_history(world)
    agent = staff("agent", ADMIN_GROUP)
    client.force_login(agent)
    page = f"{TENANTS}{tenant.pk}/change/"
    assert 'data-action="import_history"' in client.get(page).content.decode()
    assert totals(world, demo.DEAL_COMPLETE_ID) == (None, None, None)  # nothing before the import

    with celery_worker(extra_env=worker_env(world)), tasks_sent_to_broker():
        # 1. The action, run from the tenant's page, queues the import and stays on that page.
        form = {"action": "import_history", "_selected_action": [str(tenant.pk)], "_tenant_page": "1"}
        response = client.post(TENANTS, form)
        assert response.status_code == 302
        assert response["Location"] == page
        assert "import de l&#x27;historique Qonto lancé" in client.get(page).content.decode()
        requested = AuditLog.objects.get(action=AuditLog.Action.HISTORY_IMPORT_REQUESTED)
        assert requested.tenant == tenant
        assert requested.user == agent
        assert requested.user_email == "agent@support.example"

        # 2. The worker attaches the invoices that certainly belong to a deal.
        run: HistoryImport = wait_for(
            lambda: HistoryImport.objects.filter(tenant=tenant, finished_at__isnull=False).first(),
            timeout=45,
            what="the history import run by the worker",
        )
        assert run.status == HistoryImport.Status.SUCCEEDED, run.error
        assert run.requested_by == "agent"
        assert run.attached == 3
        assert run.candidates == 2
        attached = Invoice.objects.filter(tenant=tenant, kind=Invoice.Kind.IMPORTED)
        assert {i.qonto_invoice_id: i.hubspot_deal_id for i in attached} == {
            ids["marked"]: demo.DEAL_COMPLETE_ID,
            ids["amount_match"]: demo.DEAL_AMOUNT_ONLY_ID,
            ids["only_deal"]: ids["other_deal"],
        }
        assert totals(world, demo.DEAL_COMPLETE_ID) == ("3000.00", "0.00", "9000.00")
        assert totals(world, demo.DEAL_AMOUNT_ONLY_ID) == ("2400.00", "2400.00", "0.00")
        assert totals(world, ids["other_deal"]) == ("800.00", "0.00", "200.00")

        # 3. The two it could not place are listed for support, each with its "Choisir la transaction".
        ambiguous = HistoryCandidate.objects.get(tenant=tenant, qonto_invoice_id=ids["ambiguous"])
        too_big = HistoryCandidate.objects.get(tenant=tenant, qonto_invoice_id=ids["too_big"])
        listing = client.get(CANDIDATES).content.decode()
        assert f'href="{resolve_url(ambiguous)}"' in listing
        assert f'href="{resolve_url(too_big)}"' in listing
        assert "Choisir la transaction" in listing

        # 4. Choisir la transaction: the page offers the candidate's deals; an unlisted one is refused.
        choose = client.get(resolve_url(ambiguous))
        assert choose.status_code == 200
        body = choose.content.decode()
        assert "Plusieurs transactions possibles, aucune au montant exact" in body
        assert f'value="{demo.DEAL_COMPLETE_ID}"' in body
        assert f'value="{demo.DEAL_AMOUNT_ONLY_ID}"' in body
        refused = client.post(resolve_url(ambiguous), {"deal_id": ids["other_deal"]})
        assert refused.status_code == 200  # the form again, nothing attached
        ambiguous.refresh_from_db()
        assert ambiguous.state == HistoryCandidate.State.PENDING
        assert not AuditLog.objects.filter(action=AuditLog.Action.HISTORY_INVOICE_ATTACHED).exists()

        chosen = client.post(resolve_url(ambiguous), {"deal_id": demo.DEAL_COMPLETE_ID}, follow=True)
        assert chosen.redirect_chain[-1][0] == CANDIDATES
        assert f"rattachée à la transaction {demo.DEAL_COMPLETE_ID}" in chosen.content.decode()
        ambiguous.refresh_from_db()
        assert ambiguous.state == HistoryCandidate.State.ATTACHED
        assert ambiguous.deal_id == demo.DEAL_COMPLETE_ID
        assert ambiguous.resolved_by == "agent@support.example"
        inv = Invoice.objects.get(tenant=tenant, qonto_invoice_id=ids["ambiguous"])
        assert inv.kind == Invoice.Kind.IMPORTED
        assert inv.hubspot_deal_id == demo.DEAL_COMPLETE_ID
        assert inv.payload["history"]["matched_by"] == "person"
        assert totals(world, demo.DEAL_COMPLETE_ID) == ("3500.00", "0.00", "8500.00")
        row = AuditLog.objects.get(action=AuditLog.Action.HISTORY_INVOICE_ATTACHED)
        assert row.user == agent
        assert row.tenant == tenant
        assert row.detail == {
            "qonto_invoice_id": ids["ambiguous"],
            "deal_id": demo.DEAL_COMPLETE_ID,
            "invoice_id": str(inv.pk),
        }
        # Deciding twice is refused with a message, and attaches nothing a second time.
        twice = client.post(resolve_url(ambiguous), {"deal_id": demo.DEAL_COMPLETE_ID}, follow=True)
        assert "is attached" in twice.content.decode()
        assert Invoice.objects.filter(tenant=tenant, qonto_invoice_id=ids["ambiguous"]).count() == 1
        assert AuditLog.objects.filter(action=AuditLog.Action.HISTORY_INVOICE_ATTACHED).count() == 1

        # 5. Écarter: the 5 000 € invoice goes on no deal; the deal it was proposed for is unchanged.
        dismissed = client.post(
            CANDIDATES, {"action": "dismiss", "_selected_action": [str(too_big.pk)]}, follow=True
        )
        assert "écartée" in dismissed.content.decode()
        too_big.refresh_from_db()
        assert too_big.state == HistoryCandidate.State.DISMISSED
        assert too_big.resolved_by == "agent@support.example"
        row = AuditLog.objects.get(action=AuditLog.Action.HISTORY_INVOICE_DISMISSED)
        assert row.user == agent
        assert row.detail == {"qonto_invoice_id": ids["too_big"]}
        assert not Invoice.objects.filter(tenant=tenant, qonto_invoice_id=ids["too_big"]).exists()
        assert totals(world, ids["other_deal"]) == ("800.00", "0.00", "200.00")

        # 6. Running the action again attaches nothing twice and proposes neither decision again.
        client.post(TENANTS, form)
        again: HistoryImport = wait_for(
            lambda: (
                HistoryImport.objects.filter(tenant=tenant, finished_at__isnull=False)
                .exclude(pk=run.pk)
                .first()
            ),
            timeout=45,
            what="the second history import",
        )
    assert again.status == HistoryImport.Status.SUCCEEDED, again.error
    assert again.attached == 0
    assert again.already_known == 5  # the 3 it attached, the one chosen and the one dismissed
    assert again.candidates == 0
    assert AuditLog.objects.filter(action=AuditLog.Action.HISTORY_IMPORT_REQUESTED).count() == 2
    assert totals(world, demo.DEAL_COMPLETE_ID) == ("3500.00", "0.00", "8500.00")


@pytest.mark.django_db
def test_read_only_staff_can_neither_import_nor_decide(
    client, invoice_world: InvoiceWorld, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """In process (no worker): the read-only group sees the candidates but every decision is refused."""
    from connector import jobs

    world = invoice_world
    ids = seed_history(world)
    history_import(tenant_id=world.tenant.pk, requested_by="test")
    candidate = HistoryCandidate.objects.get(tenant=world.tenant, qonto_invoice_id=ids["ambiguous"])
    monkeypatch.setattr(jobs, "history_import", lambda *a, **k: pytest.fail("must not be queued"))
    client.force_login(staff("lecteur", READ_ONLY_GROUP))

    client.post(TENANTS, {"action": "import_history", "_selected_action": [str(world.tenant.pk)]})
    assert client.get(CANDIDATES).status_code == 200
    assert client.get(resolve_url(candidate)).status_code == 403
    assert client.post(resolve_url(candidate), {"deal_id": demo.DEAL_COMPLETE_ID}).status_code == 403
    client.post(CANDIDATES, {"action": "dismiss", "_selected_action": [str(candidate.pk)]})

    candidate.refresh_from_db()
    assert candidate.state == HistoryCandidate.State.PENDING
    assert not Invoice.objects.filter(tenant=world.tenant, qonto_invoice_id=ids["ambiguous"]).exists()
    assert not AuditLog.objects.exists()
    assert totals(world, demo.DEAL_COMPLETE_ID) == ("3000.00", "0.00", "9000.00")
