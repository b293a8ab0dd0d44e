"""Step 1 (web, synchronous): accept a click on the card, or a retry of a failed invoice.

``invoice_request_create`` answers a repeated click with the same row (idempotency key); the
tenant must be operational; the deal is read from HubSpot (≤ 3 calls) and validated; under a row
lock on the deal, the request is checked against the invoices already made (one live *full*
invoice, deposits ≤ the deal), the Qonto payload is built (pure function) and the ``Invoice`` row
is committed as PENDING; its creation is queued on commit (``connector.jobs``).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction

from connector import jobs
from connector.exceptions import ApplicationError
from connector.invoices.client_checks import shared_tax_id_conflict
from connector.invoices.selectors import decimal_or_none, invoice_get_by_key, prior_invoices
from connector.invoices.snapshots import deal_snapshot_forget, deal_snapshot_get
from connector.invoices.state import invoice_settings_for, tenant_state, today_in_paris
from connector.invoicing.builder import build_client_payload, build_invoice
from connector.invoicing.deal_checks import company_label, deal_label, validate_deal
from connector.invoicing.problems import InvoiceNotBuildable, Problem
from connector.invoicing.reference import invoice_reference, new_key
from connector.invoicing.request_checks import validate_request
from connector.invoicing.snapshot import DealSnapshot, PriorInvoice, TenantInvoiceSettings
from connector.invoicing.vat_regime import VatMode, parse_vat_mode, vat_mode_problems, vat_situation
from connector.models import Deal, Invoice, Tenant

logger = logging.getLogger(__name__)


class InvoiceRequestRefused(ApplicationError):
    """The request cannot be accepted as it is; ``problems`` say what to fix (card: 422)."""

    code = "invoice_refused"

    def __init__(self, problems: list[Problem], *, code: str | None = None) -> None:
        super().__init__(", ".join(p.code for p in problems), code=code or problems[0].code)
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class CreateResult:
    invoice: Invoice
    created: bool


def invoice_request_create(
    *,
    tenant: Tenant,
    deal_id: str,
    kind: str,
    percentage: Decimal | None,
    idempotency_key: str,
    snapshot: DealSnapshot | None = None,
    lang: str = "fr",
    vat_mode: str | None = None,
    confirm_shared_client: bool = False,
) -> CreateResult:
    """Accept a click: validate, build and commit a PENDING invoice, queue its creation.

    The same ``idempotency_key`` answers the same row (``created=False``), even under concurrency.
    ``vat_mode`` ("standard" | "reverse_charge") must be given for a client outside France (the card
    shows the choice); ``confirm_shared_client`` accepts billing a Qonto client already used by
    another HubSpot company with the same SIRET. Raises ``InvoiceRequestRefused`` with the problems
    to fix.
    """
    existing = invoice_get_by_key(tenant=tenant, idempotency_key=idempotency_key)
    if existing is not None:
        return CreateResult(existing, False)
    state = tenant_state(tenant, lang=lang)
    if not state.operational:
        raise InvoiceRequestRefused([Problem.tenant_not_operational(state.status, state.message or "")])
    if snapshot is None:
        snapshot = deal_snapshot_read(tenant=tenant, deal_id=deal_id)
    inv_settings = invoice_settings_for(tenant)
    problems = validate_deal(snapshot, inv_settings, kind=kind)
    if problems:
        raise InvoiceRequestRefused(problems, code="deal_not_ready")

    with transaction.atomic():
        deal, _ = Deal.objects.get_or_create(tenant=tenant, hubspot_deal_id=deal_id)
        deal = Deal.objects.select_for_update().get(pk=deal.pk)  # one request per deal at a time
        existing = invoice_get_by_key(tenant=tenant, idempotency_key=idempotency_key)
        if existing is not None:  # a concurrent twin won the lock first
            return CreateResult(existing, False)
        previous = list(Invoice.objects.filter(tenant=tenant, hubspot_deal_id=deal_id).order_by("created_at"))
        priors = prior_invoices(previous)
        situation = vat_situation(snapshot.company)
        problems = vat_mode_problems(
            situation,
            vat_mode,
            priors,
            company=company_label(snapshot.company) if snapshot.company else "",
            deal=deal_label(snapshot),
            required=True,
        )
        mode = parse_vat_mode(vat_mode) or VatMode.STANDARD
        problems += validate_request(kind, percentage, snapshot, priors, settings=inv_settings, vat_mode=mode)
        if not problems and not confirm_shared_client:
            conflict = shared_tax_id_conflict(tenant=tenant, company=snapshot.company)
            problems += [conflict] if conflict else []
        if problems:
            raise InvoiceRequestRefused(problems)
        invoice = Invoice(
            id=uuid.uuid4(),
            tenant=tenant,
            deal=deal,
            hubspot_deal_id=deal_id,
            kind=kind,
            percentage=percentage,
            idempotency_key=idempotency_key,
        )
        invoice.reconcile_key = unused_key()
        invoice.reference = invoice_reference(snapshot.name, invoice.reconcile_key)
        try:
            build_into(invoice, snapshot, inv_settings, priors, vat_mode=mode)
        except InvoiceNotBuildable as exc:  # validated just above: only a bug would get here
            raise InvoiceRequestRefused(list(exc.problems) or [Problem.invoice_exists()]) from exc
        _remember_deal(deal, snapshot)
        try:
            with transaction.atomic():
                invoice.save(force_insert=True)
        except IntegrityError:
            twin = invoice_get_by_key(tenant=tenant, idempotency_key=idempotency_key)
            if twin is not None:
                return CreateResult(twin, False)
            raise InvoiceRequestRefused([Problem.invoice_exists()]) from None
        jobs.invoice_create(str(invoice.id))
    deal_snapshot_forget(tenant_id=tenant.pk, deal_ids=[deal_id])
    logger.info("invoice %s queued (%s) for deal %s", invoice.id, kind, deal_id)
    return CreateResult(invoice, True)


def unused_key() -> str:
    """A reconciliation key no invoice has (50 random bits; the unique constraint is the last word)."""
    while True:
        key = new_key()
        if not Invoice.objects.filter(reconcile_key=key).exists():
            return key


def build_into(
    invoice: Invoice,
    snapshot: DealSnapshot,
    inv_settings: TenantInvoiceSettings,
    prior: list[PriorInvoice],
    *,
    vat_mode: str | None = None,
) -> None:
    """Build the Qonto payload now, so amounts and limits are fixed at the click (client id later).

    ``vat_mode`` defaults to the one the invoice was first built with (a retry keeps it).
    """
    mode = VatMode(vat_mode or (invoice.payload or {}).get("vat_mode") or VatMode.STANDARD)
    built = build_invoice(
        snapshot,
        inv_settings,
        kind=invoice.kind,
        percentage=invoice.percentage,
        prior_invoices=[p for p in prior if p.id != str(invoice.id)],
        client_id="",
        reference=invoice.reference,
        today=today_in_paris(),
        vat_mode=mode,
    )
    company = snapshot.company
    assert company is not None  # validate_deal guarantees it
    invoice.payload = {
        "invoice": {k: v for k, v in built.payload.items() if k != "client_id"},
        "client": build_client_payload(company),
        "company_id": company.id,
        "vat_breakdown": {k: str(v) for k, v in built.vat_breakdown.items()},
        "vat_mode": mode.value,
    }
    invoice.subtotal_amount = built.subtotal
    invoice.vat_amount = built.vat
    invoice.total_amount = built.total
    invoice.issue_date = date.fromisoformat(built.payload["issue_date"])
    invoice.due_date = date.fromisoformat(built.payload["due_date"])
    invoice.deducted = list(built.deducted)


def deal_snapshot_read(*, tenant: Tenant, deal_id: str) -> DealSnapshot:
    """The deal as HubSpot has it now (≤ 3 calls); the card's cache gets this fresh copy too."""
    return deal_snapshot_get(tenant=tenant, deal_id=deal_id, fresh=True).snapshot


# --- retry (card and admin) ---------------------------------------------------------------------
class NotRetryable(ApplicationError):
    code = "not_retryable"


def invoice_retry(*, invoice: Invoice, lang: str = "fr") -> Invoice:
    """Re-queue a FAILED invoice, checked and built again against today's deal and invoices.

    Whatever the failure, the deal is read again from HubSpot and, under the deal's row lock (the
    one a click takes), the request is validated against the deal's *other* invoices as they are
    now: a failed row counts as not invoiced, so another invoice may have been made since (a 60 %
    deposit retried after a full invoice would make 160 %). Accepted, it is rebuilt from today's
    data. Refused, ``InvoiceRequestRefused`` carries the problems (card: 422) and the row stays
    FAILED. Never produces a second Qonto invoice: a row that holds a Qonto id is not retryable,
    and a row that may have reached Qonto (``submitted_at`` set) is reconciled by the task first
    — or, when its retry is refused, by a search-only task, so an invoice Qonto holds is never
    left off our books (and off the deal's totals).
    """
    inv = Invoice.objects.select_related("tenant").get(pk=invoice.pk)
    _check_retryable(inv)
    try:
        return _retry_checked(inv, lang=lang)
    except InvoiceRequestRefused:
        if inv.submitted_at is not None:
            # Its create call may have reached Qonto (the answer was lost, then the search
            # failed): refused or not, what Qonto holds must be on our books. The search runs
            # in a worker and only ever adopts; it never POSTs.
            jobs.invoice_reconcile(str(inv.pk))
        raise


def _retry_checked(inv: Invoice, *, lang: str) -> Invoice:
    invoice = inv
    state = tenant_state(inv.tenant, lang=lang)
    if not state.operational:
        raise InvoiceRequestRefused([Problem.tenant_not_operational(state.status, state.message or "")])
    snapshot = deal_snapshot_read(tenant=inv.tenant, deal_id=inv.hubspot_deal_id)  # HubSpot: no lock held
    inv_settings = invoice_settings_for(inv.tenant)
    problems = validate_deal(snapshot, inv_settings, kind=inv.kind)
    if problems:
        raise InvoiceRequestRefused(problems, code="deal_not_ready")
    with transaction.atomic():
        # Deal first, then the invoice: the same order as a click, so the two never deadlock.
        deal = Deal.objects.select_for_update().get(pk=inv.deal_id)
        inv = Invoice.objects.select_for_update().select_related("tenant").get(pk=invoice.pk)
        _check_retryable(inv)  # a concurrent retry may have won the lock
        others = list(
            Invoice.objects.filter(tenant=inv.tenant, hubspot_deal_id=inv.hubspot_deal_id)
            .exclude(pk=inv.pk)
            .order_by("created_at")
        )
        priors = prior_invoices(others)
        # Same VAT mode as at the click (reverse charge groups every line at 0 %).
        mode = str((inv.payload or {}).get("vat_mode") or VatMode.STANDARD)
        problems = validate_request(
            inv.kind, inv.percentage, snapshot, priors, settings=inv_settings, vat_mode=mode, retrying=True
        )
        if problems:
            raise InvoiceRequestRefused(problems)
        try:
            build_into(inv, snapshot, inv_settings, priors)
        except InvoiceNotBuildable as exc:  # the builder's own checks: a 422 too, never a 500
            raise InvoiceRequestRefused(list(exc.problems) or [Problem.invoice_exists()]) from exc
        _remember_deal(deal, snapshot)
        inv.status = Invoice.Status.CREATING if inv.submitted_at else Invoice.Status.PENDING
        inv.error_code = ""
        inv.error_message = ""
        inv.error_retryable = False
        try:
            with transaction.atomic():
                inv.save()
        except IntegrityError:  # another live full invoice appeared meanwhile
            raise InvoiceRequestRefused([Problem.invoice_exists()]) from None
        jobs.invoice_create(str(inv.id))
    return inv


def _check_retryable(inv: Invoice) -> None:
    if inv.status != Invoice.Status.FAILED or inv.qonto_invoice_id:
        raise NotRetryable(f"invoice {inv.id} is {inv.status}")
    if not inv.error_retryable:
        raise NotRetryable(f"invoice {inv.id} failed permanently ({inv.error_code})")


def _remember_deal(deal: Deal, snapshot: DealSnapshot) -> None:
    deal.name = (snapshot.name or "")[:500]
    deal.amount = decimal_or_none(snapshot.amount)
    deal.currency = (snapshot.currency or "EUR").upper()[:3]
    deal.save(update_fields=["name", "amount", "currency", "updated_at"])
