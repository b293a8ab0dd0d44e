"""History from day one: attach the tenant's existing Qonto invoices to their HubSpot deals.

``history_import`` (a task: onboarding step after *Connect Qonto*, the tenant's admin action, the
``import_qonto_history`` command) runs under a lock per tenant and is idempotent: an invoice
already tracked (created by us, attached before, or a candidate someone resolved) is skipped — so is
one whose reference ends with the key of one of our rows that has no Qonto id yet (its
reconciliation adopts it) — and
``Invoice``'s unique (tenant, Qonto id) makes a concurrent attach fail instead of doubling.

1. **Qonto**, bounded: at most ``max_pages`` pages of 100 invoices, newest first (the run says
   when it stopped early; running it again goes no deeper, the sync keeps new ones attached).
   Candidates are the invoices we do not track: finalized ones (``unpaid``/``paid``), and any
   status when they carry our own ``purchase_order`` marker.
2. **HubSpot**, in batches: the deals the markers name (``batch/read``), the companies whose SIRET
   property (``Tenant.siret_property``) equals a client's tax id (``search``, ``IN``), their deals
   (associations ``batch/read``) and those deals' amounts.
3. **Decide** with ``connector.invoicing.history.choose_deal`` (pure, conservative): attach, list
   for a person (``HistoryCandidate``, resolved in the admin), or count as unmatched.
4. Attached invoices get their Qonto credit notes, and their deals are written back (one
   ``batch/update`` per 100 deals), so totals are right before the first click.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from connector.audit import Action, audit
from connector.exceptions import ApplicationError, HubSpotRetryableError
from connector.invoices.apply import apply_qonto_invoice, subtotal_by_vat_of
from connector.invoicing.amounts import ZERO
from connector.invoicing.history import (
    AMBIGUOUS,
    MARKED_DEAL_MISSING,
    MARKER,
    NO_TAX_ID,
    DealOption,
    Decision,
    choose_deal,
    deal_id_from_marker,
    tax_id_digits,
)
from connector.invoicing.reference import key_of_reference
from connector.invoicing.snapshot import is_live
from connector.logging import bind_tenant
from connector.models import Deal, HistoryCandidate, HistoryImport, Invoice, Tenant
from connector.qonto_client import QontoClient, QontoNotFoundError, money
from connector.ratelimit import LockNotAcquired, distributed_lock, hubspot_limiter, qonto_limiter
from connector.run_outcome import failure_recorded
from connector.sync.budget import patiently
from connector.sync.credit_notes import credit_notes_fetch
from connector.sync.deals import write_back
from connector.sync.stats import SyncStats
from hubspot_app.client import HubSpotClient
from hubspot_app.crm import companies_with_property_values, company_deal_ids, read_deals

logger = logging.getLogger(__name__)

MAX_PAGES = 50  # 5,000 invoices per run
LOCK_TIMEOUT = 3600
HUBSPOT_RETRIES = 5
T = TypeVar("T")


class HistoryCandidateRefused(ApplicationError):
    code = "history_candidate_refused"


def _hubspot(call: Callable[[], T]) -> T:
    """A HubSpot read, retried after a 429/5xx (search has its own 5 / s limit [seen])."""
    for attempt in range(HUBSPOT_RETRIES):
        try:
            return call()
        except HubSpotRetryableError as exc:
            if attempt == HUBSPOT_RETRIES - 1:
                raise
            time.sleep(min(10.0, exc.retry_after or 0.5 * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def history_import(
    *, tenant_id: int, max_pages: int = MAX_PAGES, requested_by: str = ""
) -> HistoryImport | None:
    """One import run. Returns None when another run of the tenant holds the lock."""
    try:
        with distributed_lock(f"history:{tenant_id}", timeout=LOCK_TIMEOUT, blocking_timeout=0):
            return _import(tenant_id=tenant_id, max_pages=max_pages, requested_by=requested_by)
    except LockNotAcquired:
        logger.info("history import of tenant %s skipped: another run is in progress", tenant_id)
        return None


def _slim(item: dict[str, Any]) -> dict[str, Any]:
    """What the import keeps of a listed invoice (up to 5,000 of them are held at once)."""
    keep = (
        "id",
        "status",
        "number",
        "purchase_order",
        "issue_date",
        "due_date",
        "currency",
        "total_amount",
        "vat_amount",
        "paid_at",
        "finalized_at",
        "invoice_url",
        "updated_at",
        "credit_notes_ids",
        "items",
    )
    out = {k: item.get(k) for k in keep if k in item}
    client = item.get("client") or {}
    out["client"] = {k: client.get(k) for k in ("id", "name", "tax_identification_number") if k in client}
    return out


def _subtotal(item: dict[str, Any]) -> Decimal:
    return money(item.get("total_amount")) - money(item.get("vat_amount"))


def _import(*, tenant_id: int, max_pages: int, requested_by: str) -> HistoryImport:
    tenant = Tenant.objects.select_related("qonto_connection").get(pk=tenant_id)
    bind_tenant(tenant.portal_id)
    run = HistoryImport.objects.create(
        tenant=tenant, started_at=timezone.now(), requested_by=requested_by[:254]
    )
    qonto = QontoClient.for_connection(tenant.qonto_connection, before_request=qonto_limiter().acquire)
    hubspot = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
    counts: Counter[str] = Counter()
    stats = SyncStats()
    try:
        with failure_recorded(run, what="history import", portal_id=tenant.portal_id):
            found = _qonto_candidates(tenant, qonto, max_pages, run, counts)
            _fill_tax_ids(qonto, found)
            touched = _decide_and_attach(tenant, hubspot, found, run, counts, stats)
            credit_notes_fetch(tenant, qonto, stats.unknown_credit_notes, stats)
            stats.dirty_deals |= touched
            write_back(tenant, stats, force=False)
            run.status = HistoryImport.Status.SUCCEEDED
    finally:
        run.finished_at = timezone.now()
        run.attached = counts["attached"]
        run.candidates = counts["candidates"]
        run.already_known = counts["already_known"]
        run.unmatched = sum(v for k, v in counts.items() if k.startswith("unmatched:"))
        run.reasons = {k.split(":", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("unmatched:")}
        run.credit_notes = stats.credit_notes_new
        run.qonto_calls = qonto.calls
        run.hubspot_calls = int(hubspot.calls)
        run.save()
    logger.info(
        "history import of tenant %s: %s attached, %s to decide, %s unmatched",
        tenant.portal_id,
        run.attached,
        run.candidates,
        run.unmatched,
    )
    return run


def _qonto_candidates(
    tenant: Tenant, qonto: QontoClient, max_pages: int, run: HistoryImport, counts: Counter[str]
) -> list[dict[str, Any]]:
    """The invoices of Qonto we do not track yet, slimmed (at most ``max_pages`` pages)."""
    found: dict[str, dict[str, Any]] = {}
    page_number = 1
    while True:
        page = patiently(
            partial(qonto.list_invoices_page, page=page_number, per_page=100, sort_by="created_at:desc"),
            "listing invoices for the history import",
        )
        run.pages += 1
        run.invoices_seen += len(page.items)
        ids = [str(item.get("id")) for item in page.items]
        tracked = set(
            Invoice.objects.filter(tenant=tenant, qonto_invoice_id__in=ids).values_list(
                "qonto_invoice_id", flat=True
            )
        )
        settled = set(
            HistoryCandidate.objects.filter(tenant=tenant, qonto_invoice_id__in=ids)
            .exclude(state=HistoryCandidate.State.PENDING)
            .values_list("qonto_invoice_id", flat=True)
        )
        # Invoices whose reference ends with the key of one of our rows are ours even when that row
        # does not know its Qonto id yet (an answer lost, a search refused): the row's reconciliation
        # adopts them. Attaching them here would count them twice on the deal.
        keys = {key_of_reference(item.get("purchase_order")) for item in page.items} - {None}
        ours = set(
            Invoice.objects.filter(tenant=tenant, reconcile_key__in=keys).values_list(
                "reconcile_key", flat=True
            )
        )
        for item in page.items:
            qonto_id = str(item.get("id"))
            if (
                qonto_id in tracked
                or qonto_id in settled
                or key_of_reference(item.get("purchase_order")) in ours
            ):
                counts["already_known"] += 1
                continue
            if qonto_id in found:
                continue  # listed twice (pages shift when invoices are created meanwhile)
            marked = deal_id_from_marker(item.get("purchase_order")) is not None
            if str(item.get("currency") or "EUR").upper() != "EUR":
                counts["unmatched:not_eur"] += 1
            elif not marked and item.get("status") not in ("unpaid", "paid"):
                counts["unmatched:not_finalized"] += 1  # a stray draft or a canceled invoice
            else:
                found[qonto_id] = _slim(item)
        if not page.next_page or not page.items:
            break
        if run.pages >= max_pages:
            run.truncated = True
            break
        page_number = page.next_page
    # Oldest first: a deposit is attached before the balance that follows it.
    return sorted(found.values(), key=lambda i: (str(i.get("issue_date") or ""), str(i["id"])))


def _fill_tax_ids(qonto: QontoClient, found: list[dict[str, Any]]) -> None:
    """The client's tax id, from the invoice's client snapshot or else the client (one GET each)."""
    clients: dict[str, str | None] = {}
    for item in found:
        if deal_id_from_marker(item.get("purchase_order")):
            continue
        client = item.get("client") or {}
        raw = client.get("tax_identification_number")
        client_id = str(client.get("id") or "")
        if raw is None and client_id:
            if client_id not in clients:
                try:
                    data = patiently(partial(qonto.get_client, client_id), "reading a client")
                except QontoNotFoundError:
                    data = {}
                clients[client_id] = data.get("tax_identification_number")
            raw = clients[client_id]
        item["tax_id"] = tax_id_digits(raw)


def _invoiced_by_deal(tenant: Tenant, deal_ids: Iterable[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for inv in Invoice.objects.filter(tenant=tenant, hubspot_deal_id__in=list(deal_ids)).only(
        "hubspot_deal_id", "status", "subtotal_amount", "credited_subtotal"
    ):
        if is_live(str(inv.status)) and inv.status != Invoice.Status.DELETED:
            net = max(ZERO, inv.subtotal_amount - inv.credited_subtotal)
            out[inv.hubspot_deal_id] = out.get(inv.hubspot_deal_id, ZERO) + net
    return out


def _option(deal: dict[str, Any], invoiced: Decimal) -> DealOption:
    props = deal.get("properties") or {}
    try:
        amount = Decimal(str(props.get("amount"))).quantize(Decimal("0.01")) if props.get("amount") else None
    except ArithmeticError:
        amount = None
    return DealOption(
        id=str(deal.get("id")),
        name=str(props.get("dealname") or "")[:500],
        amount=amount,
        currency=props.get("deal_currency_code") or "EUR",
        invoiced=invoiced,
    )


def _decide_and_attach(
    tenant: Tenant,
    hubspot: HubSpotClient,
    found: list[dict[str, Any]],
    run: HistoryImport,
    counts: Counter[str],
    stats: SyncStats,
) -> set[str]:
    marked = {deal_id_from_marker(i.get("purchase_order")) for i in found} - {None}
    tax_ids = {str(i["tax_id"]) for i in found if i.get("tax_id")}
    companies_by_tax: dict[str, list[str]] = {}
    if tax_ids:
        for company in _hubspot(
            partial(companies_with_property_values, hubspot, tenant.siret_property, sorted(tax_ids))
        ):
            digits = tax_id_digits(str((company.get("properties") or {}).get(tenant.siret_property) or ""))
            if digits:
                companies_by_tax.setdefault(digits, []).append(str(company.get("id")))
    all_companies = sorted({c for ids in companies_by_tax.values() for c in ids})
    deals_of_company = _hubspot(partial(company_deal_ids, hubspot, all_companies)) if all_companies else {}
    deal_ids = {str(d) for d in marked} | {d for ids in deals_of_company.values() for d in ids}
    deals = (
        {str(d.get("id")): d for d in _hubspot(partial(read_deals, hubspot, sorted(deal_ids)))}
        if deal_ids
        else {}
    )
    invoiced = _invoiced_by_deal(tenant, deals)
    touched: set[str] = set()
    for item in found:
        subtotal = _subtotal(item)
        marker = deal_id_from_marker(item.get("purchase_order"))
        options: list[DealOption] = []
        if marker is not None:
            deal = deals.get(marker)
            decision = Decision(marker, MARKER) if deal is not None else Decision(None, MARKED_DEAL_MISSING)
            if deal is not None:
                options = [_option(deal, invoiced.get(marker, ZERO))]
        elif not item.get("tax_id"):
            decision = Decision(None, NO_TAX_ID)
        else:
            companies = companies_by_tax.get(str(item["tax_id"]), [])
            ids = sorted({d for c in companies for d in deals_of_company.get(c, []) if d in deals})
            options = [_option(deals[d], invoiced.get(d, ZERO)) for d in ids]
            decision = choose_deal(subtotal, len(companies), options)
        if decision.attach:
            assert decision.deal_id is not None
            option = next(o for o in options if o.id == decision.deal_id)
            inv = _attach(tenant, item, option, matched_by=decision.reason, run=run)
            if inv is not None:
                counts["attached"] += 1
                touched.add(option.id)
                invoiced[option.id] = invoiced.get(option.id, ZERO) + max(ZERO, subtotal)
                stats.unknown_credit_notes.update(str(i) for i in item.get("credit_notes_ids") or [] if i)
                HistoryCandidate.objects.filter(tenant=tenant, qonto_invoice_id=str(item["id"])).update(
                    state=HistoryCandidate.State.ATTACHED,
                    deal_id=option.id,
                    resolved_by="history import",
                    resolved_at=timezone.now(),
                )
            else:
                counts["already_known"] += 1
        elif decision.reason in AMBIGUOUS:
            _candidate_upsert(tenant, item, decision, options, run)
            counts["candidates"] += 1
        else:
            counts[f"unmatched:{decision.reason}"] += 1
    return touched


def _attach(
    tenant: Tenant, item: dict[str, Any], deal: DealOption, *, matched_by: str, run: HistoryImport | None
) -> Invoice | None:
    """Record the Qonto invoice ``item`` as an IMPORTED invoice of ``deal``; None if already tracked."""
    qonto_id = str(item["id"])
    client = item.get("client") or {}
    with transaction.atomic():
        deal_row, _ = Deal.objects.get_or_create(
            tenant=tenant,
            hubspot_deal_id=deal.id,
            defaults={
                "name": deal.name,
                "amount": deal.amount,
                "currency": (deal.currency or "EUR").upper()[:3],
            },
        )
        inv = Invoice(
            id=uuid.uuid4(),
            tenant=tenant,
            deal=deal_row,
            hubspot_deal_id=deal.id,
            kind=Invoice.Kind.IMPORTED,
            idempotency_key=f"history:{qonto_id}"[:80],
            reference=str(item.get("purchase_order") or f"history:{qonto_id}")[:120],
            qonto_client_id=str(client.get("id") or "")[:64],
            payload={
                "history": {
                    "matched_by": matched_by,
                    "import_id": run.pk if run is not None else None,
                    "client_name": str(client.get("name") or "")[:250],
                    "tax_id": item.get("tax_id"),
                },
                # What it invoiced per VAT rate, so a later deposit or balance deducts it exactly.
                "vat_breakdown": subtotal_by_vat_of(item) or {},
            },
            # No note on the deal for an invoice people made themselves in Qonto.
            hubspot_written_at=timezone.now(),
        )
        apply_qonto_invoice(inv, item)
        try:
            with transaction.atomic():
                inv.save(force_insert=True)
        except IntegrityError:
            return None  # attached meanwhile (another run, or the sync adopted it)
    return inv


def _candidate_upsert(
    tenant: Tenant, item: dict[str, Any], decision: Decision, options: list[DealOption], run: HistoryImport
) -> None:
    client = item.get("client") or {}
    issue = item.get("issue_date")
    values = {
        "number": str(item.get("number") or "")[:64],
        "client_name": str(client.get("name") or "")[:250],
        "tax_id": str(item.get("tax_id") or "")[:30],
        "issue_date": date.fromisoformat(issue) if issue else None,
        "subtotal_amount": _subtotal(item),
        "total_amount": money(item.get("total_amount")),
        "qonto_status": str(item.get("status") or "")[:10],
        "reason": decision.reason,
        "options": [
            {
                "id": o.id,
                "name": o.name,
                "amount": None if o.amount is None else f"{o.amount:.2f}",
                "left": None if o.left is None else f"{o.left:.2f}",
            }
            for o in options
        ],
        "last_import": run,
    }
    candidate, created = HistoryCandidate.objects.get_or_create(
        tenant=tenant, qonto_invoice_id=str(item["id"]), defaults=values
    )
    if not created and candidate.state == HistoryCandidate.State.PENDING:
        for key, value in values.items():
            setattr(candidate, key, value)
        candidate.save()


# --- a person decides (admin) ----------------------------------------------------------------------
def history_candidate_attach(*, candidate: HistoryCandidate, deal_id: str, user: Any) -> Invoice:
    """Attach a listed invoice to the deal a person chose among the candidate's deals."""
    cand = HistoryCandidate.objects.select_related("tenant").get(pk=candidate.pk)
    if cand.state != HistoryCandidate.State.PENDING:
        raise HistoryCandidateRefused(f"candidate {cand.pk} is {cand.state}")
    if deal_id not in {str(o.get("id")) for o in cand.options or []}:
        raise HistoryCandidateRefused(f"deal {deal_id} is not one of the candidate's deals")
    tenant = Tenant.objects.select_related("qonto_connection").get(pk=cand.tenant_id)
    qonto = QontoClient.for_connection(tenant.qonto_connection, before_request=qonto_limiter().acquire)
    hubspot = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
    # Fresh facts from both sides, read before any lock is taken.
    data = patiently(partial(qonto.get_invoice, cand.qonto_invoice_id), "reading an invoice")
    deals = _hubspot(partial(read_deals, hubspot, [deal_id]))
    if not deals:
        raise HistoryCandidateRefused(f"deal {deal_id} no longer exists in HubSpot")
    item = _slim(data)
    item["tax_id"] = cand.tax_id or None
    option = _option(deals[0], _invoiced_by_deal(tenant, [deal_id]).get(deal_id, ZERO))
    with transaction.atomic():
        cand = HistoryCandidate.objects.select_for_update().get(pk=cand.pk)
        if cand.state != HistoryCandidate.State.PENDING:  # decided meanwhile by someone else
            raise HistoryCandidateRefused(f"candidate {cand.pk} is {cand.state}")
        inv = _attach(tenant, item, option, matched_by="person", run=None)
        if inv is None:
            raise HistoryCandidateRefused(f"invoice {cand.qonto_invoice_id} is already attached")
        cand.state = HistoryCandidate.State.ATTACHED
        cand.deal_id = deal_id
        cand.resolved_by = _who(user)
        cand.resolved_at = timezone.now()
        cand.save()
    stats = SyncStats(dirty_deals={deal_id})
    credit_notes_fetch(tenant, qonto, [str(i) for i in data.get("credit_notes_ids") or [] if i], stats)
    write_back(tenant, stats, force=False)
    audit(
        action=Action.HISTORY_INVOICE_ATTACHED,
        user=user,
        tenant=tenant,
        detail={"qonto_invoice_id": cand.qonto_invoice_id, "deal_id": deal_id, "invoice_id": str(inv.pk)},
    )
    return inv


def _who(user: Any) -> str:
    return str(getattr(user, "email", "") or getattr(user, "username", "") or "")[:254]


def history_candidate_dismiss(*, candidate: HistoryCandidate, user: Any) -> None:
    """The invoice belongs to no deal: never proposed again."""
    updated = HistoryCandidate.objects.filter(pk=candidate.pk, state=HistoryCandidate.State.PENDING).update(
        state=HistoryCandidate.State.DISMISSED,
        resolved_by=_who(user),
        resolved_at=timezone.now(),
    )
    if not updated:
        raise HistoryCandidateRefused(f"candidate {candidate.pk} is not pending")
    audit(
        action=Action.HISTORY_INVOICE_DISMISSED,
        user=user,
        tenant=candidate.tenant,
        detail={"qonto_invoice_id": candidate.qonto_invoice_id},
    )
