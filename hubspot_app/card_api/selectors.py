"""What the card renders: the tenant's state, the deal's readiness, its invoices and totals.

The deal's HubSpot data comes from the per-deal snapshot cache (``connector.invoices.snapshots``):
a card GET reads HubSpot at most once per ``CARD_SNAPSHOT_TTL_S`` per deal, never Qonto.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from connector import jobs
from connector.invoices.actions import SENDABLE
from connector.invoices.actions import message as action_message
from connector.invoices.deal_view import deal_view
from connector.invoices.links import payment_url, qonto_app_url
from connector.invoices.pdf import pdf_link
from connector.invoices.selectors import card_status, decimal_or_none, invoice_view
from connector.invoices.snapshots import deal_snapshot_get
from connector.invoices.state import invoice_settings_for, tenant_state
from connector.invoicing.client_payload import differences_warning
from connector.invoicing.deal_checks import validate_deal
from connector.invoicing.einvoicing import einvoicing_checklist, einvoicing_label
from connector.invoicing.problems import Problem
from connector.invoicing.snapshot import CompanySnapshot, TenantInvoiceSettings
from connector.invoicing.summary import deal_totals
from connector.models import (
    NOT_LOADED,
    Deal,
    Invoice,
    InvoiceAction,
    QontoConnection,
    SyncRun,
    Tenant,
    loaded_relation,
)

logger = logging.getLogger(__name__)

ERROR_MESSAGES = {
    "en": "Invoice creation failed.",
    "fr": "La création de la facture a échoué.",
}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(Decimal('0.01'))}"


def _utc(value: datetime | None) -> str | None:
    """Timestamps go out in UTC (card-api.md); the cards show them in Europe/Paris."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def with_last_action(invoices: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Each invoice with its latest card action (finalize / send) annotated: still one query."""
    latest = InvoiceAction.objects.filter(invoice=OuterRef("pk")).order_by("-created_at", "-pk")
    return invoices.annotate(
        last_action_id=Subquery(latest.values("pk")[:1]),
        last_action_kind=Subquery(latest.values("kind")[:1]),
        last_action_status=Subquery(latest.values("status")[:1]),
        last_action_error_code=Subquery(latest.values("error_code")[:1]),
        last_action_error_message=Subquery(latest.values("error_message")[:1]),
    )


def last_action_json(invoice: Invoice, lang: str) -> dict[str, Any] | None:
    """The invoice's latest finalize / send, as the card shows it (its outcome, in words)."""
    if not hasattr(invoice, "last_action_id"):
        row = InvoiceAction.objects.filter(invoice=invoice).order_by("-created_at", "-pk").first()
        values = (row.pk, row.kind, row.status, row.error_code, row.error_message) if row else (None,) * 5
    else:
        values = tuple(
            getattr(invoice, f"last_action_{name}")
            for name in ("id", "kind", "status", "error_code", "error_message")
        )
    action_id, kind, status, error_code, error_message = values
    if action_id is None:
        return None
    error = None
    if status == InvoiceAction.Status.FAILED:
        detail = error_message or ""
        error = {
            "code": error_code or "failed",
            "message": action_message(error_code or "qonto_unavailable", lang, detail=detail, status=detail),
        }
    return {"id": str(action_id), "kind": kind, "status": status, "error": error}


def invoice_json(invoice: Invoice, lang: str, *, organization_slug: str = "") -> dict[str, Any]:
    status = card_status(invoice)
    error = None
    if status == "failed":
        error = {
            "code": invoice.error_code or "failed",
            "message": (invoice.payload or {}).get("error_messages", {}).get(lang)
            or invoice.error_message
            or ERROR_MESSAGES[lang],
            "retryable": bool(invoice.error_retryable and not invoice.qonto_invoice_id),
        }
    payload = invoice.payload or {}
    notices = []
    company = (payload.get("client") or {}).get("name") or ""
    differs = differences_warning(company, payload.get("client_differences") or [])
    if differs is not None:
        notices.append(differs.as_json(lang))
    return {
        "id": str(invoice.id),
        "kind": invoice.kind,
        "percentage": None if invoice.percentage is None else f"{invoice.percentage.normalize():f}",
        "status": status,
        "number": invoice.number,
        "issue_date": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "due_date": invoice.due_date.isoformat() if invoice.due_date else None,
        "total_amount": _money(invoice.total_amount),
        "vat_amount": _money(invoice.vat_amount),
        "subtotal_amount": _money(invoice.subtotal_amount),
        # Qonto credit notes (avoirs) on this invoice, incl. VAT like total_amount; null if none.
        "credited_amount": _money(invoice.credited_total) if invoice.credited_total else None,
        "currency": invoice.currency,
        # The seller's invoice in the Qonto app (a draft too); the customer's page once finalized.
        "qonto_url": qonto_app_url(
            organization_slug=organization_slug, qonto_invoice_id=invoice.qonto_invoice_id
        ),
        "payment_url": payment_url(invoice),
        "vat_mode": str(payload.get("vat_mode") or "standard"),
        "deducted": invoice.deducted or [],
        "notices": notices,
        # Finalize and send from the card; the PDF on the deal; Qonto's e-invoicing status.
        "can_finalize": invoice.status == Invoice.Status.DRAFT and bool(invoice.qonto_invoice_id),
        "can_send": invoice.status in SENDABLE and bool(invoice.qonto_invoice_id),
        "sent_at": _utc(invoice.sent_at),
        "pdf_url": pdf_link(invoice) if invoice.attachment_id and invoice.status in SENDABLE else None,
        "einvoicing_status": invoice.einvoicing_status or None,
        "einvoicing_label": einvoicing_label(invoice.einvoicing_status, lang),
        "last_action": last_action_json(invoice, lang),
        "error": error,
        "created_at": _utc(invoice.created_at),
    }


def organization_slug_of(tenant: Tenant) -> str:
    connection = QontoConnection.objects.filter(tenant=tenant).only("organization_slug").first()
    return connection.organization_slug if connection else ""


def _settings_url(tenant: Tenant, user_id: str, user_email: str) -> str | None:
    from hubspot_app.settings_access import settings_link_for

    return settings_link_for(tenant, user_id=user_id, user_email=user_email)


def company_url(tenant: Tenant, company_id: str) -> str:
    """The company's record in HubSpot [seen: app.hubspot.com/contacts/{portal}/record/0-2/{id}]."""
    return f"{settings.HUBSPOT_AUTH_BASE}/contacts/{tenant.portal_id}/record/0-2/{company_id}"


def _problem_json(problem: Problem, lang: str, links: dict[str, str | None]) -> dict[str, Any]:
    """A problem in the contract's shape, with ``url`` where it is fixed (company record, settings)."""
    out: dict[str, Any] = problem.as_json(lang)
    area = problem.field.split(".", 1)[0].split("[", 1)[0]
    url = links.get(area)
    if url:
        out["url"] = url
    return out


def _last_read_at(tenant: Tenant, deal: Deal | None) -> datetime | None:
    """When Qonto was last read for this deal: the card's Refresh or the last successful sync."""
    if hasattr(tenant, "last_qonto_read_at"):  # annotated by the card's tenant read
        synced = tenant.last_qonto_read_at
    else:
        synced = (
            SyncRun.objects.filter(tenant=tenant, status=SyncRun.Status.SUCCEEDED)
            .order_by("-started_at")
            .values_list("started_at", flat=True)
            .first()
        )
    candidates = [t for t in (synced, deal.qonto_read_at if deal else None) if t is not None]
    return max(candidates) if candidates else None


def _queue_stale_refresh(tenant: Tenant, deal_id: str, invoices: list[Invoice]) -> None:
    """Stale statuses: refresh this deal from Qonto in the background (≤ once per 5 min per deal)."""
    stale = tenant.last_synced_at is None or timezone.now() - tenant.last_synced_at > timedelta(minutes=5)
    if stale and any(i.qonto_invoice_id for i in invoices):
        from django.core.cache import cache

        deal_key = hashlib.sha256(deal_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        if cache.add(f"card:deal-sync:{tenant.pk}:{deal_key}", 1, 300):
            try:
                jobs.deal_sync(tenant.pk, deal_id)
            except Exception:  # a broker outage must not break the card
                logger.warning("could not queue the refresh of deal %s", deal_id)


def card_state(
    *, tenant: Tenant, deal_id: str, lang: str, user_id: str = "", user_email: str = ""
) -> dict[str, Any]:
    """``user_id`` / ``user_email``: the HubSpot user of the signed call (the settings link is theirs)."""
    state = tenant_state(tenant, lang=lang)
    read = deal_snapshot_get(tenant=tenant, deal_id=deal_id)  # cached; ≤ 3 HubSpot calls on a miss
    snapshot = read.snapshot
    connection = loaded_relation(tenant, "qonto_connection")  # loaded with the tenant (card auth)
    if connection is NOT_LOADED:
        connection = QontoConnection.objects.filter(tenant=tenant).first()
        if connection is not None:
            tenant.qonto_connection = connection  # invoice_settings_for reads it: no second query
    inv_settings = (
        invoice_settings_for(tenant)
        if connection is not None
        else TenantInvoiceSettings(
            vat_rate_percent=Decimal("20"),
            payment_terms_days=tenant.payment_terms_days,
            iban="",
            allow_siren=tenant.allow_siren,
            siret_property=tenant.siret_property,
        )
    )
    problems = validate_deal(snapshot, inv_settings, kind="full")
    invoices = list(
        with_last_action(Invoice.objects.filter(tenant=tenant, hubspot_deal_id=deal_id))
        .select_related("deal")
        .order_by("created_at")
    )
    # A deal row exists only with invoices; its read time matters only then (one query fewer).
    deal = invoices[0].deal if invoices else None
    amount = decimal_or_none(snapshot.amount)
    totals = deal_totals(amount, [invoice_view(i) for i in invoices])
    _queue_stale_refresh(tenant, deal_id, invoices)
    tenant_problem = (
        None if state.operational else Problem.tenant_not_operational(state.status, state.message or "")
    )
    view = deal_view(
        tenant=tenant,
        snapshot=snapshot,
        settings=inv_settings,
        invoices=invoices,
        deal_problems=problems,
        tenant_problem=tenant_problem,
    )
    settings_url = _settings_url(tenant, user_id, user_email)
    company: CompanySnapshot | None = snapshot.company
    links = {
        "company": company_url(tenant, company.id) if company else None,
        "settings": settings_url,
        "tenant": settings_url,
    }
    slug = connection.organization_slug if connection else ""
    return {
        "tenant": {
            "status": state.status,
            "plan": state.plan,
            "settings_url": settings_url,
            "message": state.message,
        },
        "deal": {
            "id": snapshot.id,
            "name": snapshot.name or "",
            "amount": _money(amount),
            "currency": (snapshot.currency or "EUR").upper(),
        },
        "company": {"id": company.id, "name": company.name or "", "url": links["company"]}
        if company
        else None,
        "status": {
            "code": view.status,
            "message": view.status_problem.message_for(lang) if view.status_problem else None,
        },
        "readiness": {
            "ready": not problems,
            "problems": [_problem_json(p, lang, links) for p in problems],
            "warnings": [_problem_json(p, lang, links) for p in view.warnings],
            # French clients: SIREN/SIRET, full address, VAT number (what e-invoicing routes on).
            "einvoicing": einvoicing_checklist(
                snapshot.company, {p.code for p in [*problems, *view.warnings]}, lang
            ),
        },
        "actions": {
            str(kind): {
                "enabled": action.enabled,
                "reason": action.reason.message_for(lang) if action.reason else None,
                "reason_code": action.reason.code if action.reason else None,
            }
            for kind, action in view.actions.items()
        },
        "vat": view.vat,
        "invoices": [invoice_json(i, lang, organization_slug=slug) for i in invoices],
        "totals": {
            "deal_amount": _money(totals.deal_amount),
            "invoiced": _money(totals.invoiced),
            "paid": _money(totals.paid),
            "left_to_invoice": _money(totals.left_to_invoice),
        },
        "last_synced_at": _utc(tenant.last_synced_at),
        "last_read_at": _utc(_last_read_at(tenant, deal)),
        "hubspot_read_at": _utc(datetime.fromtimestamp(read.read_at, tz=UTC)),
    }
