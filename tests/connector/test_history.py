"""Issue 13, history from day one: existing Qonto invoices attached to the tenant's HubSpot deals,
conservatively (never a wrong deal), idempotently, with the doubtful ones left to a person."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from connector.history.services import (
    HistoryCandidateRefused,
    history_candidate_attach,
    history_candidate_dismiss,
    history_import,
)
from connector.invoices.request import invoice_request_create
from connector.invoicing.history import (
    AMOUNT_MATCH,
    EXCEEDS_DEAL,
    MARKER,
    ONLY_DEAL,
    SEVERAL_COMPANIES,
    SEVERAL_DEALS,
    DealOption,
    choose_deal,
    deal_id_from_marker,
    tax_id_digits,
)
from connector.models import AuditLog, CreditNote, Deal, HistoryCandidate, HistoryImport, Invoice
from sandbox import demo
from tests.hubspot_app.sandbox_fixtures import running_sandbox_fixture, sandbox_fixture  # noqa: F401
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

OTHER_SIRET = "40483304800022"  # a second client, one company with one deal
UNKNOWN_SIRET = "55210055400013"  # in Qonto, in no HubSpot company


# --- the pure rules --------------------------------------------------------------------------------
def test_marker_and_tax_id_parsing() -> None:
    assert deal_id_from_marker("HubSpot deal 51200000001 / QC-0a1b2c3d4e5f") == "51200000001"
    assert deal_id_from_marker("HubSpot deal 42") == "42"
    assert deal_id_from_marker("Commande HubSpot deal 42") is None  # only our own marker, at the start
    assert deal_id_from_marker(None) is None
    assert tax_id_digits("732 829 320 00074") == "73282932000074"
    assert tax_id_digits("732.829.320") == "732829320"
    assert tax_id_digits("FR44732829320") is None
    assert tax_id_digits("1234") is None


@pytest.mark.parametrize(
    ("subtotal", "companies", "options", "expected"),
    [
        (Decimal("800"), 1, [DealOption("d1", amount=Decimal("1000"))], ("d1", ONLY_DEAL)),
        (
            Decimal("800"),
            1,
            [DealOption("d1", amount=Decimal("1000"), invoiced=Decimal("300"))],
            (None, EXCEEDS_DEAL),
        ),
        (Decimal("800"), 2, [DealOption("d1", amount=Decimal("1000"))], (None, SEVERAL_COMPANIES)),
        (
            Decimal("2400"),
            1,
            [DealOption("d1", amount=Decimal("12000")), DealOption("d2", amount=Decimal("2400"))],
            ("d2", AMOUNT_MATCH),
        ),
        (  # two deals of that amount: a person decides
            Decimal("2400"),
            1,
            [DealOption("d1", amount=Decimal("2400")), DealOption("d2", amount=Decimal("2400"))],
            (None, SEVERAL_DEALS),
        ),
        (  # the balance of a deposit already invoiced matches what is left
            Decimal("6000"),
            1,
            [
                DealOption("d1", amount=Decimal("12000"), invoiced=Decimal("6000")),
                DealOption("d2", amount=Decimal("2400")),
            ],
            ("d1", AMOUNT_MATCH),
        ),
    ],
)
def test_choose_deal_attaches_only_when_unambiguous(
    subtotal: Decimal, companies: int, options: list[DealOption], expected: tuple[str | None, str]
) -> None:
    decision = choose_deal(subtotal, companies, options)
    assert (decision.deal_id, decision.reason) == expected
    assert decision.attach == (expected[0] is not None)


# --- against the simulators ------------------------------------------------------------------------
def seed_history(world: InvoiceWorld) -> dict[str, str]:
    """Invoices made in Qonto before the connector, and a second HubSpot company with one deal."""
    q, h, login = world.qonto, world.hubspot, demo.QONTO_LOGIN
    portal = world.tenant.portal_id
    complete = q.seed_client(
        login,
        kind="company",
        name="ACME Industrie SAS",
        tax_identification_number=demo.COMPLETE_SIRET,
        currency="EUR",
        locale="FR",
        billing_address={
            "street_address": "1 rue A",
            "city": "Paris",
            "zip_code": "75001",
            "country_code": "FR",
        },
    )
    other = q.seed_client(
        login,
        kind="company",
        name="Boulangerie Martin",
        tax_identification_number=OTHER_SIRET,
        currency="EUR",
        locale="FR",
        billing_address={
            "street_address": "2 rue B",
            "city": "Lyon",
            "zip_code": "69001",
            "country_code": "FR",
        },
    )
    unknown = q.seed_client(
        login,
        kind="company",
        name="Inconnue SARL",
        tax_identification_number=UNKNOWN_SIRET,
        currency="EUR",
        locale="FR",
        billing_address={
            "street_address": "3 rue C",
            "city": "Lille",
            "zip_code": "59000",
            "country_code": "FR",
        },
    )
    company = h.create_company(portal, name="Boulangerie Martin", siret=OTHER_SIRET, city="Lyon")
    deal = h.create_deal(portal, dealname="Site vitrine", amount="1000", company_id=company["id"])

    def invoice(client: dict[str, Any], price: str, *, status: str = "unpaid", po: str = "") -> str:
        [qid] = q.bulk_seed_invoices(
            login, 1, purchase_order=po, status=status, client_id=client["id"], unit_price=price
        )
        return str(qid)

    return {
        "other_deal": str(deal["id"]),
        # our own marker (an earlier install of the connector): the deal it names
        "marked": invoice(complete, "3000.00", po=f"HubSpot deal {demo.DEAL_COMPLETE_ID} / QC-0123456789ab"),
        # the complete company has two deals (12 000 and 2 400): 2 400 matches one exactly
        "amount_match": invoice(complete, "2400.00", status="paid"),
        # 500 matches neither: a person decides
        "ambiguous": invoice(complete, "500.00"),
        # one company, one deal of 1 000: 800 fits, then 5 000 would exceed it
        "only_deal": invoice(other, "800.00"),
        "too_big": invoice(other, "5000.00"),
        "no_company": invoice(unknown, "100.00"),
        "stray_draft": invoice(complete, "100.00", status="draft"),
    }


def imported(world: InvoiceWorld, qonto_id: str) -> Invoice | None:
    return Invoice.objects.filter(tenant=world.tenant, qonto_invoice_id=qonto_id).first()


def props(world: InvoiceWorld, deal_id: str) -> dict[str, Any]:
    return dict(world.deal(deal_id)["properties"])


@pytest.mark.django_db
def test_history_import_attaches_only_unambiguous_invoices_and_lists_the_others(
    invoice_world: InvoiceWorld,
) -> None:
    world = invoice_world
    ids = seed_history(world)
    run = history_import(tenant_id=world.tenant.pk, requested_by="test")
    assert run is not None
    assert run.status == HistoryImport.Status.SUCCEEDED, run.error
    assert run.attached == 3
    assert run.candidates == 2
    assert run.reasons == {"no_company": 1, "not_finalized": 1}
    assert run.truncated is False

    marked = imported(world, ids["marked"])
    assert marked is not None
    assert marked.kind == Invoice.Kind.IMPORTED
    assert marked.hubspot_deal_id == demo.DEAL_COMPLETE_ID
    assert marked.payload["history"]["matched_by"] == MARKER
    assert marked.status == Invoice.Status.UNPAID
    assert marked.subtotal_amount == Decimal("3000.00")
    assert marked.payload["vat_breakdown"] == {"0.2": "3000.00"}
    match = imported(world, ids["amount_match"])
    assert match is not None
    assert match.hubspot_deal_id == demo.DEAL_AMOUNT_ONLY_ID
    assert match.status == Invoice.Status.PAID
    only = imported(world, ids["only_deal"])
    assert only is not None
    assert only.hubspot_deal_id == ids["other_deal"]
    for key in ("ambiguous", "too_big", "no_company", "stray_draft"):
        assert imported(world, ids[key]) is None, key  # never guessed

    candidates = {c.qonto_invoice_id: c for c in HistoryCandidate.objects.filter(tenant=world.tenant)}
    assert candidates[ids["ambiguous"]].reason == SEVERAL_DEALS
    assert {o["id"] for o in candidates[ids["ambiguous"]].options} == {
        demo.DEAL_COMPLETE_ID,
        demo.DEAL_AMOUNT_ONLY_ID,
    }
    assert candidates[ids["too_big"]].reason == EXCEEDS_DEAL
    assert candidates[ids["too_big"]].options[0]["left"] == "200.00"  # 1 000 − the 800 just attached

    # Totals are right before the first click: the deals were written back.
    p = props(world, demo.DEAL_COMPLETE_ID)
    assert p["qonto_invoiced_amount"] == "3000.00"
    assert p["qonto_left_to_invoice"] == "9000.00"
    q = props(world, demo.DEAL_AMOUNT_ONLY_ID)
    assert q["qonto_paid_amount"] == "2400.00"
    assert q["qonto_left_to_invoice"] == "0.00"
    assert props(world, ids["other_deal"])["qonto_invoiced_amount"] == "800.00"

    # The card's Generate now sees them: a full invoice is refused, a balance bills the rest.
    from connector.invoices.request import InvoiceRequestRefused

    with pytest.raises(InvoiceRequestRefused):
        invoice_request_create(
            tenant=world.tenant,
            deal_id=demo.DEAL_COMPLETE_ID,
            kind="full",
            percentage=None,
            idempotency_key="h1",
        )


@pytest.mark.django_db
def test_history_import_twice_attaches_nothing_twice(invoice_world: InvoiceWorld) -> None:
    world = invoice_world
    ids = seed_history(world)
    first = history_import(tenant_id=world.tenant.pk)
    assert first is not None
    assert first.attached == 3
    second = history_import(tenant_id=world.tenant.pk)
    assert second is not None
    assert second.status == HistoryImport.Status.SUCCEEDED
    assert second.attached == 0
    assert second.already_known == 3
    assert second.candidates == 2  # still pending: listed again, not duplicated
    assert Invoice.objects.filter(tenant=world.tenant, kind=Invoice.Kind.IMPORTED).count() == 3
    assert HistoryCandidate.objects.filter(tenant=world.tenant).count() == 2
    assert props(world, demo.DEAL_COMPLETE_ID)["qonto_invoiced_amount"] == "3000.00"
    assert imported(world, ids["marked"]) is not None


@pytest.mark.django_db
def test_an_invoice_of_ours_whose_row_lost_its_answer_is_left_to_the_row(invoice_world: InvoiceWorld) -> None:
    """Our reference (« <deal name> — réf. QC-… ») names no deal id, but its key names our row: an
    invoice Qonto created for a row that never got the answer (FAILED after a refused search) is
    that row's, for its reconciliation to adopt. The import must not attach it a second time by
    SIRET, which would count it twice on the deal once the row adopts it."""
    world = invoice_world
    ids = seed_history(world)
    deal = Deal.objects.create(
        tenant=world.tenant, hubspot_deal_id=ids["other_deal"], amount=Decimal("1000.00")
    )
    row = Invoice.objects.create(
        tenant=world.tenant,
        deal=deal,
        hubspot_deal_id=deal.hubspot_deal_id,
        kind=Invoice.Kind.FULL,
        idempotency_key="lost-answer",
        reconcile_key="QC-7K3M9X2P4T",
        reference="Site vitrine — réf. QC-7K3M9X2P4T",
        status=Invoice.Status.FAILED,
        submitted_at=timezone.now(),
    )
    client = next(c for c in world.qonto.list_clients(demo.QONTO_LOGIN) if c["name"] == "Boulangerie Martin")
    [ours] = world.qonto.bulk_seed_invoices(
        demo.QONTO_LOGIN, 1, purchase_order=row.reference, status="unpaid", client_id=client["id"],
        unit_price="1000.00",
    )  # fmt: skip

    run = history_import(tenant_id=world.tenant.pk)
    assert run is not None
    assert run.status == HistoryImport.Status.SUCCEEDED, run.error
    assert imported(world, str(ours)) is None  # left to our row, not attached by SIRET
    assert run.already_known == 1
    assert not HistoryCandidate.objects.filter(tenant=world.tenant, qonto_invoice_id=str(ours)).exists()
    # The other invoices of the seed are decided as before (800 attached to the same deal).
    assert run.attached == 3
    only = imported(world, ids["only_deal"])
    assert only is not None
    assert only.hubspot_deal_id == ids["other_deal"]


@pytest.mark.django_db
def test_a_person_attaches_or_dismisses_a_candidate_and_the_next_import_respects_it(
    invoice_world: InvoiceWorld, admin_user: Any
) -> None:
    world = invoice_world
    ids = seed_history(world)
    history_import(tenant_id=world.tenant.pk)
    ambiguous = HistoryCandidate.objects.get(qonto_invoice_id=ids["ambiguous"])
    too_big = HistoryCandidate.objects.get(qonto_invoice_id=ids["too_big"])
    with pytest.raises(HistoryCandidateRefused):
        history_candidate_attach(candidate=ambiguous, deal_id="999", user=admin_user)  # not proposed

    inv = history_candidate_attach(candidate=ambiguous, deal_id=demo.DEAL_COMPLETE_ID, user=admin_user)
    assert inv.kind == Invoice.Kind.IMPORTED
    assert inv.payload["history"]["matched_by"] == "person"
    ambiguous.refresh_from_db()
    assert ambiguous.state == HistoryCandidate.State.ATTACHED
    assert ambiguous.deal_id == demo.DEAL_COMPLETE_ID
    assert props(world, demo.DEAL_COMPLETE_ID)["qonto_invoiced_amount"] == "3500.00"
    assert AuditLog.objects.filter(action=AuditLog.Action.HISTORY_INVOICE_ATTACHED).count() == 1
    with pytest.raises(HistoryCandidateRefused):
        history_candidate_attach(candidate=ambiguous, deal_id=demo.DEAL_COMPLETE_ID, user=admin_user)

    history_candidate_dismiss(candidate=too_big, user=admin_user)
    too_big.refresh_from_db()
    assert too_big.state == HistoryCandidate.State.DISMISSED
    again = history_import(tenant_id=world.tenant.pk)
    assert again is not None
    assert again.candidates == 0  # neither the attached nor the dismissed one comes back
    assert imported(world, ids["too_big"]) is None


@pytest.mark.django_db
def test_attached_invoices_bring_their_credit_notes_and_are_then_synced(
    invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    world = invoice_world
    ids = seed_history(world)
    world.qonto.create_credit_note(ids["marked"], amount="1000", vat_rate="0.2")
    history_import(tenant_id=world.tenant.pk)
    marked = imported(world, ids["marked"])
    assert marked is not None
    assert marked.credited_subtotal == Decimal("1000.00")
    assert CreditNote.objects.get().invoice_id == marked.pk
    assert props(world, demo.DEAL_COMPLETE_ID)["qonto_invoiced_amount"] == "2000.00"

    from connector.sync import tenant_sync

    world.qonto.mark_paid(ids["marked"])
    run = tenant_sync(tenant_id=world.tenant.pk)
    assert run is not None
    marked.refresh_from_db()
    assert marked.status == Invoice.Status.PAID  # the status sync follows attached invoices too
    assert props(world, demo.DEAL_COMPLETE_ID)["qonto_paid_amount"] == "2000.00"

    # A balance on the deal deducts the attached invoice, net of its avoir.
    with django_capture_on_commit_callbacks(execute=True):
        result = invoice_request_create(
            tenant=world.tenant,
            deal_id=demo.DEAL_COMPLETE_ID,
            kind="balance",
            percentage=None,
            idempotency_key="history-balance",
        )
    balance = Invoice.objects.get(pk=result.invoice.pk)
    assert balance.subtotal_amount == Decimal("10000.00")


@pytest.mark.django_db
def test_a_siret_on_two_companies_is_never_guessed(invoice_world: InvoiceWorld) -> None:
    world = invoice_world
    ids = seed_history(world)
    world.hubspot.create_company(
        world.tenant.portal_id, name="Boulangerie Martin (doublon)", siret=OTHER_SIRET
    )
    run = history_import(tenant_id=world.tenant.pk)
    assert run is not None
    assert imported(world, ids["only_deal"]) is None
    assert HistoryCandidate.objects.get(qonto_invoice_id=ids["only_deal"]).reason == SEVERAL_COMPANIES


@pytest.mark.django_db
def test_the_import_is_bounded_and_the_command_prints_the_outcome(invoice_world: InvoiceWorld) -> None:
    world = invoice_world
    seed_history(world)
    world.qonto.bulk_seed_invoices(demo.QONTO_LOGIN, 150, purchase_order="autre logiciel {i}", status="paid")
    run = history_import(tenant_id=world.tenant.pk, max_pages=1)
    assert run is not None
    assert run.pages == 1
    assert run.truncated is True
    out = io.StringIO()
    call_command("import_qonto_history", "--tenant", str(world.tenant.portal_id), stdout=out)
    text = out.getvalue()
    assert f"portal {world.tenant.portal_id}: succeeded" in text
    assert "3 attached" in text


@pytest.mark.django_db
def test_support_runs_the_import_from_the_admin_and_decides_the_candidates_there(
    client, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    """The admin's side of the history: the tenant action *Importer l'historique Qonto* (queued,
    audited with the staff user), then *Choisir la transaction* on a candidate and *Écarter*."""
    from django.contrib.auth.models import Group, User

    from connector.audit import ADMIN_GROUP, support_groups_ensure

    world = invoice_world
    ids = seed_history(world)
    support_groups_ensure()
    agent = User.objects.create_user("agent", "agent@support.example", "pw-0123456789ab", is_staff=True)
    agent.groups.add(Group.objects.get(name=ADMIN_GROUP))
    client.force_login(agent)

    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(
            "/admin/connector/tenant/",
            {"action": "import_history", "_selected_action": [str(world.tenant.pk)]},
            follow=True,
        )
    assert page.status_code == 200
    assert "import de l&#x27;historique Qonto lancé" in page.content.decode()
    requested = AuditLog.objects.get(action=AuditLog.Action.HISTORY_IMPORT_REQUESTED)
    assert requested.tenant == world.tenant
    assert requested.user == agent
    run = HistoryImport.objects.get(tenant=world.tenant)
    assert run.status == HistoryImport.Status.SUCCEEDED, run.error
    assert run.requested_by == "agent"
    assert run.attached == 3
    assert run.candidates == 2

    # The candidates' list links each pending one to its decision page, in French, amounts as shown.
    listing = client.get("/admin/connector/historycandidate/").content.decode()
    assert "Choisir la transaction" in listing
    ambiguous = HistoryCandidate.objects.get(qonto_invoice_id=ids["ambiguous"])
    resolve_url = f"/admin/connector/historycandidate/{ambiguous.pk}/resolve/"
    form = client.get(resolve_url).content.decode()
    assert "Rattacher une facture Qonto à une transaction" in form
    assert "500,00\u00a0€" in form or "500,00 €" in form
    for option in ambiguous.options:
        assert f'value="{option["id"]}"' in form
    # A deal the candidate did not propose is refused: nothing attached.
    client.post(resolve_url, {"deal_id": "999"}, follow=True)
    assert imported(world, ids["ambiguous"]) is None
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(resolve_url, {"deal_id": demo.DEAL_COMPLETE_ID}, follow=True)
    assert "rattachée à la transaction" in done.content.decode()
    attached = imported(world, ids["ambiguous"])
    assert attached is not None
    assert attached.hubspot_deal_id == demo.DEAL_COMPLETE_ID
    assert attached.payload["history"]["matched_by"] == "person"
    ambiguous.refresh_from_db()
    assert ambiguous.state == HistoryCandidate.State.ATTACHED
    assert props(world, demo.DEAL_COMPLETE_ID)["qonto_invoiced_amount"] == "3500.00"  # 3 000 + 500
    attach_audit = AuditLog.objects.get(action=AuditLog.Action.HISTORY_INVOICE_ATTACHED)
    assert attach_audit.user == agent

    too_big = HistoryCandidate.objects.get(qonto_invoice_id=ids["too_big"])
    client.post(
        "/admin/connector/historycandidate/",
        {"action": "dismiss", "_selected_action": [str(too_big.pk)]},
        follow=True,
    )
    too_big.refresh_from_db()
    assert too_big.state == HistoryCandidate.State.DISMISSED
    assert AuditLog.objects.filter(action=AuditLog.Action.HISTORY_INVOICE_DISMISSED, user=agent).count() == 1
    assert imported(world, ids["too_big"]) is None
