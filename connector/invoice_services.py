"""Invoice creation, from a click on the card to a draft in Qonto — never twice.

The flow (journey step 5 of ARCHITECTURE.md):

1. ``invoice_request_create`` (web, synchronous, < 1 s): the idempotency key answers a repeated
   click with the same row; the tenant must be operational; the deal is read from HubSpot (≤ 3
   calls) and validated; under a row lock on the deal, the request is checked against the
   invoices already made (one live *full* invoice, deposits ≤ the deal), the Qonto payload is
   built (pure function) and the ``Invoice`` row is committed as PENDING; the task is queued on
   commit.
2. ``invoice_submit_to_qonto`` (worker): under a lock held across processes, finds or creates the
   Qonto client, commits CREATING, then POSTs the invoice with ``status: "draft"``. If an earlier
   attempt may have created it (status CREATING: a timeout, a 5xx, a worker killed after the
   POST), Qonto is searched for our ``purchase_order`` reference first and the invoice adopted.
3. ``invoice_write_back`` (worker): one PATCH of the deal's properties and one note per invoice.

Retryable errors are retried by the tasks with backoff; when retries run out, the row ends FAILED
with the reason the card shows.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connector.exceptions import ApplicationError, HubSpotPermanentError, QontoPermanentError
from connector.invoicing.builder import build_client_payload, build_invoice, client_fingerprint
from connector.invoicing.client_payload import names_match
from connector.invoicing.snapshot import DealSnapshot, PriorInvoice, TenantInvoiceSettings
from connector.invoicing.summary import InvoiceView, deal_totals, invoice_summary_lines, is_overdue, note_html
from connector.invoicing.validation import Problem, validate_deal, validate_request
from connector.logging import bind_tenant
from connector.models import Deal, Invoice, QontoClientLink, QontoConnection, Tenant
from connector.qonto_client import QontoClient, QontoValidationError, money, parse_datetime
from connector.ratelimit import distributed_lock, hubspot_limiter, qonto_limiter

logger = logging.getLogger(__name__)

# Statuses in which the row is finished with Qonto creation.
SETTLED = frozenset(
    {
        Invoice.Status.DRAFT,
        Invoice.Status.UNPAID,
        Invoice.Status.PAID,
        Invoice.Status.CANCELED,
        Invoice.Status.DELETED,
        Invoice.Status.FAILED,
    }
)
RECONCILE_WINDOW = timedelta(hours=1)


# --- errors -------------------------------------------------------------------------------------
class InvoiceRequestRefused(ApplicationError):
    """The request cannot be accepted as it is; ``problems`` say what to fix (card: 422)."""

    code = "invoice_refused"

    def __init__(self, problems: list[Problem], *, code: str | None = None) -> None:
        super().__init__(", ".join(p.code for p in problems), code=code or problems[0].code)
        self.problems = problems


# --- tenant readiness ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class TenantState:
    """What the card shows about the tenant (card-api.md ``tenant``)."""

    status: str  # active | grace | needs_qonto | needs_plan | suspended | uninstalled
    plan: str | None
    message: str | None

    @property
    def operational(self) -> bool:
        return self.status in ("active", "grace")


_TENANT_MESSAGES = {
    "needs_qonto": {
        "fr": "Connectez votre compte Qonto dans les réglages pour créer des factures.",
        "en": "Connect your Qonto account in the settings to create invoices.",
    },
    "needs_plan": {
        "fr": "Choisissez un abonnement dans les réglages pour créer des factures.",
        "en": "Choose a plan in the settings to create invoices.",
    },
    "suspended": {
        "fr": "Le connecteur est suspendu : contactez le support ou vérifiez votre abonnement.",
        "en": "The connector is suspended: contact support or check your subscription.",
    },
    "uninstalled": {
        "fr": "L'application a été désinstallée : réinstallez-la depuis HubSpot.",
        "en": "The app was uninstalled: reinstall it from HubSpot.",
    },
}


def tenant_state(tenant: Tenant, *, lang: str = "fr") -> TenantState:
    from django.utils import translation

    from billing.selectors import tenant_can_invoice

    if tenant.status == Tenant.Status.UNINSTALLED:
        return TenantState("uninstalled", None, _TENANT_MESSAGES["uninstalled"][lang])
    if tenant.status == Tenant.Status.SUSPENDED:
        return TenantState("suspended", None, _TENANT_MESSAGES["suspended"][lang])
    connection = QontoConnection.objects.filter(tenant=tenant, verified_at__isnull=False).first()
    with translation.override(lang):
        decision = tenant_can_invoice(tenant)
    if connection is None:
        return TenantState("needs_qonto", decision.plan, _TENANT_MESSAGES["needs_qonto"][lang])
    if decision.allowed:
        status = "grace" if decision.status == "grace" else "active"
        return TenantState(status, decision.plan, decision.message if status == "grace" else None)
    if decision.status == "suspended":
        return TenantState(
            "suspended", decision.plan, decision.message or _TENANT_MESSAGES["suspended"][lang]
        )
    return TenantState("needs_plan", decision.plan, decision.message or _TENANT_MESSAGES["needs_plan"][lang])


def invoice_settings_for(tenant: Tenant) -> TenantInvoiceSettings:
    connection = tenant.qonto_connection
    return TenantInvoiceSettings(
        vat_rate_percent=connection.vat_rate,
        payment_terms_days=tenant.payment_terms_days,
        iban=connection.iban,
        allow_siren=tenant.allow_siren,
        siret_property=tenant.siret_property,
    )


def today_in_paris() -> date:
    return timezone.localdate()  # TIME_ZONE is Europe/Paris


# --- selectors used by the services and the card ------------------------------------------------
def card_status(invoice: Invoice) -> str:
    """Our status as the card and HubSpot show it."""
    if invoice.status in (Invoice.Status.PENDING, Invoice.Status.CREATING):
        return "pending"
    if invoice.status == Invoice.Status.DELETED:
        return "canceled"
    return str(invoice.status)


def prior_invoices(invoices: list[Invoice]) -> list[PriorInvoice]:
    return [
        PriorInvoice(
            id=str(inv.id),
            kind=inv.kind,
            number=inv.number,
            status=card_status(inv) if inv.status != Invoice.Status.DELETED else "deleted",
            subtotal_by_vat={k: Decimal(v) for k, v in (inv.payload.get("vat_breakdown") or {}).items()},
            subtotal=inv.subtotal_amount,
            total=inv.total_amount,
        )
        for inv in invoices
    ]


def invoice_view(invoice: Invoice) -> InvoiceView:
    return InvoiceView(
        id=str(invoice.id),
        kind=invoice.kind,
        percentage=invoice.percentage,
        status=card_status(invoice),
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        subtotal=invoice.subtotal_amount,
        vat=invoice.vat_amount,
        total=invoice.total_amount,
        paid_at=invoice.paid_at,
        url=invoice.qonto_url,
    )


# --- 1. the request (web) -----------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class CreateResult:
    invoice: Invoice
    created: bool


def invoice_get_by_key(*, tenant: Tenant, idempotency_key: str) -> Invoice | None:
    return Invoice.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()


def invoice_request_create(
    *,
    tenant: Tenant,
    deal_id: str,
    kind: str,
    percentage: Decimal | None,
    idempotency_key: str,
    snapshot: DealSnapshot | None = None,
    lang: str = "fr",
) -> CreateResult:
    """Accept a click: validate, build and commit a PENDING invoice, queue its creation.

    The same ``idempotency_key`` answers the same row (``created=False``), even under concurrency.
    Raises ``InvoiceRequestRefused`` with the problems to fix.
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
        problems = validate_request(
            kind, percentage, snapshot, prior_invoices(previous), settings=inv_settings
        )
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
        invoice.reference = f"HubSpot deal {deal_id} / QC-{invoice.id.hex[:12]}"
        _build_into(invoice, snapshot, inv_settings, prior_invoices(previous))
        deal.name = (snapshot.name or "")[:500]
        deal.amount = decimal_or_none(snapshot.amount)
        deal.currency = (snapshot.currency or "EUR").upper()[:3]
        deal.save(update_fields=["name", "amount", "currency", "updated_at"])
        try:
            with transaction.atomic():
                invoice.save(force_insert=True)
        except IntegrityError:
            twin = invoice_get_by_key(tenant=tenant, idempotency_key=idempotency_key)
            if twin is not None:
                return CreateResult(twin, False)
            raise InvoiceRequestRefused([Problem.invoice_exists()]) from None
        transaction.on_commit(lambda: _enqueue_create(invoice.id))
    logger.info("invoice %s queued (%s) for deal %s", invoice.id, kind, deal_id)
    return CreateResult(invoice, True)


def decimal_or_none(raw: str | None) -> Decimal | None:
    try:
        return Decimal(str(raw)).quantize(Decimal("0.01")) if raw not in (None, "") else None
    except ArithmeticError:
        return None


def _build_into(
    invoice: Invoice, snapshot: DealSnapshot, inv_settings: TenantInvoiceSettings, prior: list[PriorInvoice]
) -> None:
    """Build the Qonto payload now, so amounts and limits are fixed at the click (client id later)."""
    built = build_invoice(
        snapshot,
        inv_settings,
        kind=invoice.kind,
        percentage=invoice.percentage,
        prior_invoices=[p for p in prior if p.id != str(invoice.id)],
        client_id="",
        reference=invoice.reference,
        today=today_in_paris(),
    )
    company = snapshot.company
    assert company is not None  # validate_deal guarantees it
    invoice.payload = {
        "invoice": {k: v for k, v in built.payload.items() if k != "client_id"},
        "client": build_client_payload(company),
        "company_id": company.id,
        "vat_breakdown": {k: str(v) for k, v in built.vat_breakdown.items()},
    }
    invoice.subtotal_amount = built.subtotal
    invoice.vat_amount = built.vat
    invoice.total_amount = built.total
    invoice.issue_date = date.fromisoformat(built.payload["issue_date"])
    invoice.due_date = date.fromisoformat(built.payload["due_date"])
    invoice.deducted = list(built.deducted)


def _enqueue_create(invoice_id: uuid.UUID) -> None:
    from connector.tasks import invoice_create_task

    invoice_create_task.delay(str(invoice_id))


def deal_snapshot_read(*, tenant: Tenant, deal_id: str) -> DealSnapshot:
    from hubspot_app.client import HubSpotClient
    from hubspot_app.crm import read_deal_snapshot

    client = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
    return read_deal_snapshot(client, deal_id, siret_property=tenant.siret_property)


# --- retry (card) -------------------------------------------------------------------------------
class NotRetryable(ApplicationError):
    code = "not_retryable"


def invoice_retry(*, invoice: Invoice, lang: str = "fr") -> Invoice:
    """Re-queue a FAILED invoice that never reached Qonto; data problems are re-read and re-checked.

    Never produces a second Qonto invoice: a row that holds a Qonto id is not retryable, and a
    row that may have reached Qonto (``submitted_at`` set) is reconciled by the task first.
    """
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().select_related("tenant").get(pk=invoice.pk)
        if inv.status != Invoice.Status.FAILED or inv.qonto_invoice_id:
            raise NotRetryable(f"invoice {inv.id} is {inv.status}")
        if not inv.error_retryable:
            raise NotRetryable(f"invoice {inv.id} failed permanently ({inv.error_code})")
        state = tenant_state(inv.tenant, lang=lang)
        if not state.operational:
            raise InvoiceRequestRefused([Problem.tenant_not_operational(state.status, state.message or "")])
        if inv.error_code in DATA_ERRORS:
            # The user says they fixed the deal in HubSpot: read it again and rebuild.
            snapshot = deal_snapshot_read(tenant=inv.tenant, deal_id=inv.hubspot_deal_id)
            inv_settings = invoice_settings_for(inv.tenant)
            problems = validate_deal(snapshot, inv_settings, kind=inv.kind)
            if problems:
                raise InvoiceRequestRefused(problems, code="deal_not_ready")
            others = Invoice.objects.filter(tenant=inv.tenant, hubspot_deal_id=inv.hubspot_deal_id).exclude(
                pk=inv.pk
            )
            _build_into(inv, snapshot, inv_settings, prior_invoices(list(others)))
        inv.status = Invoice.Status.CREATING if inv.submitted_at else Invoice.Status.PENDING
        inv.error_code = ""
        inv.error_message = ""
        inv.error_retryable = False
        try:
            inv.save()
        except IntegrityError:  # another live full invoice appeared meanwhile
            raise InvoiceRequestRefused([Problem.invoice_exists()]) from None
        transaction.on_commit(lambda: _enqueue_create(inv.id))
    return inv


# Failures caused by data the user can fix (then *Retry* re-reads HubSpot and rebuilds).
DATA_ERRORS = frozenset({"qonto_validation", "deal_not_ready", "hubspot_not_found"})


# --- 2. creation in Qonto (worker) --------------------------------------------------------------
def invoice_submit_to_qonto(*, invoice_id: str) -> None:
    """Create the draft in Qonto for a PENDING/CREATING invoice. Safe to call any number of times.

    Raises retryable errors for the task to retry; records permanent ones as FAILED.
    """
    with distributed_lock(f"invoice:{invoice_id}", timeout=180, blocking_timeout=60):
        inv = Invoice.objects.select_related("tenant", "tenant__qonto_connection").get(pk=invoice_id)
        if inv.status in SETTLED:
            return
        tenant = inv.tenant
        bind_tenant(tenant.portal_id)
        qonto = QontoClient.for_connection(tenant.qonto_connection, before_request=qonto_limiter().acquire)
        if inv.status == Invoice.Status.CREATING:
            found = _find_in_qonto(qonto, inv)
            if found is not None:
                logger.warning(
                    "invoice %s: adopting Qonto invoice %s found by reference", inv.id, found.get("id")
                )
                _record_created(inv.pk, found)
                return
        try:
            client_id = _ensure_qonto_client(tenant, qonto, inv)
        except QontoPermanentError as exc:
            _mark_failed(inv.pk, exc, retryable=exc.code == "qonto_validation")
            return
        Invoice.objects.filter(pk=inv.pk).update(
            status=Invoice.Status.CREATING,
            qonto_client_id=client_id,
            submitted_at=timezone.now(),
            attempts=inv.attempts + 1,
            updated_at=timezone.now(),
        )  # committed before the POST: a retry then knows to look in Qonto first
        body = {**inv.payload["invoice"], "client_id": client_id, "status": "draft"}
        try:
            created = qonto.create_invoice(body, idempotency_key=str(inv.id))
        except QontoValidationError as exc:
            # Refused: nothing was created, so a retry after fixing the data is safe.
            _mark_failed(inv.pk, exc, retryable=True, submitted=False)
            return
        except QontoPermanentError as exc:
            _mark_failed(
                inv.pk, exc, retryable=exc.code in ("qonto_auth", "qonto_forbidden"), submitted=False
            )
            return
        _record_created(inv.pk, created)


def _find_in_qonto(qonto: QontoClient, inv: Invoice) -> dict[str, Any] | None:
    """Our invoice in Qonto, found by its ``purchase_order`` reference among recent creations."""
    since = (inv.submitted_at or inv.created_at) - timedelta(minutes=10)
    since = max(since, timezone.now() - RECONCILE_WINDOW)
    for page in qonto.iter_invoice_pages(created_from=since, sort_by="created_at:desc"):
        for item in page.items:
            if item.get("purchase_order") == inv.reference:
                return item
    return None


def _record_created(invoice_pk: Any, data: dict[str, Any]) -> None:
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().get(pk=invoice_pk)
        if inv.status in SETTLED and inv.status != Invoice.Status.FAILED:
            return
        apply_qonto_invoice(inv, data)
        if data.get("status") != "draft":
            # We always send "status": "draft". Anything else means Qonto finalized (numbered) it:
            # keep what Qonto says, never retry (that would make a second invoice), and say it
            # loudly: an error log, the reason in both languages, and an error in connector_doctor
            # ("invoice_not_draft", for 30 days).
            inv.error_code = NOT_DRAFT
            messages = _not_draft_messages(str(data.get("status") or "?"))
            inv.error_message = messages["fr"]
            inv.payload = {**inv.payload, "error_messages": messages}
            inv.error_retryable = False
            logger.error(
                "invoice %s was created in Qonto as %r, not as a draft: check it in Qonto",
                inv.id,
                data.get("status"),
            )
        else:
            inv.error_code = inv.error_message = ""
        inv.save()
        transaction.on_commit(lambda: _enqueue_write_back(inv.id))


NOT_DRAFT = "not_draft"


def _not_draft_messages(status: str) -> dict[str, str]:
    from django.utils import translation
    from django.utils.translation import gettext

    messages = {}
    for lang in ("fr", "en"):
        with translation.override(lang):
            messages[lang] = gettext(
                "Qonto a créé la facture avec le statut « %(status)s » au lieu d'un brouillon : "
                "vérifiez-la dans Qonto."
            ) % {"status": status[:40]}
    return messages


def apply_qonto_invoice(inv: Invoice, data: dict[str, Any]) -> bool:
    """Copy what Qonto says about an invoice onto our row. Returns True if anything changed."""
    before = (inv.status, inv.number, inv.total_amount, inv.paid_at, inv.due_date, inv.qonto_url)
    status = str(data.get("status") or "").lower()
    inv.qonto_invoice_id = str(data.get("id")) if data.get("id") else inv.qonto_invoice_id
    if status in ("draft", "unpaid", "paid", "canceled"):
        inv.status = status
    inv.number = data.get("number") or inv.number
    if data.get("issue_date"):
        inv.issue_date = date.fromisoformat(data["issue_date"])
    if data.get("due_date"):
        inv.due_date = date.fromisoformat(data["due_date"])
    if "total_amount" in data:
        inv.total_amount = money(data["total_amount"])
    if "vat_amount" in data:
        inv.vat_amount = money(data["vat_amount"])
    if "total_amount" in data and "vat_amount" in data:
        inv.subtotal_amount = inv.total_amount - inv.vat_amount
    inv.paid_at = parse_datetime(data.get("paid_at")) if status == "paid" else None
    inv.finalized_at = parse_datetime(data.get("finalized_at")) or inv.finalized_at
    inv.qonto_url = str(data.get("invoice_url") or inv.qonto_url or "")[:500]
    inv.qonto_updated_at = parse_datetime(data.get("updated_at")) or inv.qonto_updated_at
    return before != (inv.status, inv.number, inv.total_amount, inv.paid_at, inv.due_date, inv.qonto_url)


def _mark_failed(invoice_pk: Any, exc: ApplicationError, *, retryable: bool, submitted: bool = True) -> None:
    from django.utils import translation

    problems = exc.extra.get("problems") if exc.extra else None
    details = (
        "; ".join(f"{p.get('detail')} ({p.get('pointer') or p.get('parameter')})" for p in problems)
        if problems
        else ""
    )
    # The card shows the reason in the user's language: keep it in both.
    messages = {}
    for lang in ("fr", "en"):
        with translation.override(lang):
            messages[lang] = f"{exc.user_message} {details}".strip()[:2000]
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().get(pk=invoice_pk)
        if inv.status in SETTLED and inv.status != Invoice.Status.FAILED:
            return
        inv.status = Invoice.Status.FAILED
        inv.error_code = exc.code
        inv.error_message = messages["fr"]
        inv.payload = {**inv.payload, "error_messages": messages}
        inv.error_retryable = retryable and not inv.qonto_invoice_id
        if not submitted:
            inv.submitted_at = None  # the POST was refused: nothing to reconcile on retry
        inv.save()
        transaction.on_commit(lambda: _enqueue_write_back(inv.id))
    logger.warning("invoice %s failed: %s", invoice_pk, exc.detail or exc.code)


def invoice_fail_after_retries(*, invoice_id: str, exc: ApplicationError) -> None:
    """Retries ran out on a retryable error: look in Qonto one last time, else FAILED (retryable)."""
    inv = Invoice.objects.select_related("tenant__qonto_connection").get(pk=invoice_id)
    if inv.status == Invoice.Status.CREATING:
        try:
            found = _find_in_qonto(QontoClient.for_connection(inv.tenant.qonto_connection), inv)
        except ApplicationError:
            found = None
        if found is not None:
            _record_created(inv.pk, found)
            return
    _mark_failed(inv.pk, exc, retryable=True)


def _ensure_qonto_client(tenant: Tenant, qonto: QontoClient, inv: Invoice) -> str:
    """The deal company's Qonto client: cached link, else search (tax id, VAT, exact name), else create.

    The client's billing data is updated in Qonto when HubSpot's changed since we last sent it.
    """
    payload: dict[str, Any] = inv.payload["client"]
    company_id = str(inv.payload.get("company_id", ""))
    fingerprint = client_fingerprint(payload)
    link = QontoClientLink.objects.filter(tenant=tenant, hubspot_company_id=company_id).first()
    if link is not None:
        if link.fingerprint != fingerprint:
            qonto.update_client(link.qonto_client_id, payload)
            link.fingerprint = fingerprint
            link.save(update_fields=["fingerprint", "updated_at"])
        return link.qonto_client_id
    found: dict[str, Any] | None = None
    if payload.get("tax_identification_number"):
        found = next(
            iter(qonto.search_clients(tax_identification_number=payload["tax_identification_number"])), None
        )
    if found is None and payload.get("vat_number"):
        found = next(iter(qonto.search_clients(vat_number=payload["vat_number"])), None)
    if found is None and len(payload.get("name", "")) >= 2:
        found = next(
            (
                c
                for c in qonto.search_clients(name=payload["name"])
                if names_match(c.get("name", ""), payload["name"])
            ),
            None,
        )
    if found is not None:
        client_id = str(found["id"])
        qonto.update_client(client_id, payload)  # make sure currency, locale and address are complete
    else:
        created = qonto.create_client(
            payload, idempotency_key=f"client-{tenant.pk}-{company_id}-{fingerprint[:16]}"
        )
        client_id = str(created["id"])
    QontoClientLink.objects.update_or_create(
        tenant=tenant,
        hubspot_company_id=company_id,
        defaults={
            "qonto_client_id": client_id,
            "tax_id": str(payload.get("tax_identification_number", ""))[:30],
            "fingerprint": fingerprint,
        },
    )
    return client_id


# --- 3. write-back to HubSpot (worker) ----------------------------------------------------------
def _enqueue_write_back(invoice_id: uuid.UUID) -> None:
    from connector.tasks import invoice_write_back_task

    invoice_write_back_task.delay(str(invoice_id))


def _cents(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def deal_properties(*, invoices: list[Invoice], deal_amount: Decimal | None, now: datetime) -> dict[str, str]:
    """The values of our deal properties, from every invoice of the deal (one PATCH or batch input)."""
    views = [invoice_view(i) for i in invoices]
    totals = deal_totals(deal_amount, views)
    latest = max(invoices, key=lambda i: i.created_at, default=None)
    today = timezone.localdate(now)
    props = {
        "qonto_invoiced_amount": _cents(totals.invoiced),
        "qonto_paid_amount": _cents(totals.paid),
        "qonto_left_to_invoice": _cents(totals.left_to_invoice),
        "qonto_overdue": "true" if any(is_overdue(v.status, v.due_date, today) for v in views) else "false",
        "qonto_invoices_summary": invoice_summary_lines(views),
        "qonto_last_sync_at": now.astimezone().isoformat(timespec="seconds"),
    }
    if latest is not None:
        props.update(
            {
                "qonto_last_invoice_id": latest.qonto_invoice_id or str(latest.id),
                "qonto_last_invoice_number": latest.number or "",
                "qonto_last_invoice_status": card_status(latest),
                "qonto_last_invoice_issue_date": latest.issue_date.isoformat() if latest.issue_date else "",
                "qonto_last_invoice_due_date": latest.due_date.isoformat() if latest.due_date else "",
                "qonto_last_invoice_amount": _cents(latest.total_amount),
            }
        )
    return props


def invoice_write_back(*, invoice_id: str) -> None:
    """Write the deal's Qonto properties (one PATCH) and, once per invoice, a note on the deal."""
    from hubspot_app.client import HubSpotClient
    from hubspot_app.crm import create_deal_note, update_deal

    inv = Invoice.objects.select_related("tenant", "deal").get(pk=invoice_id)
    tenant = inv.tenant
    bind_tenant(tenant.portal_id)
    if tenant.status == Tenant.Status.UNINSTALLED or inv.deal.hubspot_deleted_at:
        return
    client = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
    invoices = list(Invoice.objects.filter(tenant=tenant, hubspot_deal_id=inv.hubspot_deal_id))
    now = timezone.now()
    props = deal_properties(invoices=invoices, deal_amount=inv.deal.amount, now=now)
    try:
        update_deal(client, inv.hubspot_deal_id, props)
    except HubSpotPermanentError as exc:
        if exc.code == "hubspot_not_found":
            Deal.objects.filter(pk=inv.deal_id).update(hubspot_deleted_at=now)
            return
        if "PROPERTY_DOESNT_EXIST" not in (exc.detail or ""):
            raise
        # Our properties are missing (setup not run yet, or deleted by an admin): create them, once.
        from hubspot_app.services import hubspot_setup

        hubspot_setup(tenant_id=tenant.pk)
        update_deal(client, inv.hubspot_deal_id, props)
    Deal.objects.filter(pk=inv.deal_id).update(pushed_at=now)
    if inv.hubspot_written_at is None and inv.qonto_invoice_id:
        try:
            create_deal_note(client, inv.hubspot_deal_id, note_html(invoice_view(inv), "fr"), now.isoformat())
        except HubSpotPermanentError as exc:
            # The notes scope is optional: without it the properties are written, the note is not.
            if exc.code != "hubspot_missing_scopes":
                raise
            logger.info("invoice %s: no note on the deal (scope not granted)", inv.id)
        Invoice.objects.filter(pk=inv.pk).update(hubspot_written_at=now)


# --- nothing lost -------------------------------------------------------------------------------
STUCK_AFTER = timedelta(minutes=10)


def invoices_requeue_stuck(*, older_than: timedelta = STUCK_AFTER) -> list[str]:
    """Queue again the invoices still PENDING or CREATING long after their last change.

    Their task was lost (Redis restarted without persistence, a worker died and the broker never
    redelivered, a deploy dropped the queue). Running the task again is safe: it locks, reconciles
    with Qonto when the POST may have been sent, and never creates a second invoice.
    """
    cutoff = timezone.now() - older_than
    ids = [
        str(pk)
        for pk in Invoice.objects.filter(
            status__in=[Invoice.Status.PENDING, Invoice.Status.CREATING], updated_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    ]
    for invoice_id in ids:
        _enqueue_create(uuid.UUID(invoice_id))
    if ids:
        logger.warning("re-queued %d stuck invoice(s)", len(ids))
    return ids
