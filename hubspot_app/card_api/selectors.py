"""What the card renders: the tenant's state, the deal's readiness, its invoices and totals."""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from connector import jobs
from connector.invoices.request import deal_snapshot_read
from connector.invoices.selectors import card_status, decimal_or_none, invoice_view
from connector.invoices.state import invoice_settings_for, tenant_state
from connector.invoicing.deal_checks import validate_deal
from connector.invoicing.snapshot import TenantInvoiceSettings
from connector.invoicing.summary import deal_totals
from connector.models import Invoice, QontoConnection, Tenant

ERROR_MESSAGES = {
    "en": "Invoice creation failed.",
    "fr": "La création de la facture a échoué.",
}


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value.quantize(Decimal('0.01'))}"


def invoice_json(invoice: Invoice, lang: str) -> dict[str, Any]:
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
        "currency": invoice.currency,
        "qonto_url": invoice.qonto_url or None,
        "deducted": invoice.deducted or [],
        "error": error,
        "created_at": invoice.created_at.isoformat().replace("+00:00", "Z"),
    }


def _settings_url(tenant: Tenant, user_id: str, user_email: str) -> str | None:
    from hubspot_app.settings_access import settings_link_for

    return settings_link_for(tenant, user_id=user_id, user_email=user_email)


def card_state(
    *, tenant: Tenant, deal_id: str, lang: str, user_id: str = "", user_email: str = ""
) -> dict[str, Any]:
    """``user_id`` / ``user_email``: the HubSpot user of the signed call (the settings link is theirs)."""
    state = tenant_state(tenant, lang=lang)
    snapshot = deal_snapshot_read(tenant=tenant, deal_id=deal_id)  # ≤ 3 HubSpot calls, never Qonto
    connection = QontoConnection.objects.filter(tenant=tenant).first()
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
    invoices = list(Invoice.objects.filter(tenant=tenant, hubspot_deal_id=deal_id).order_by("created_at"))
    amount = decimal_or_none(snapshot.amount)
    totals = deal_totals(amount, [invoice_view(i) for i in invoices])
    # Stale statuses: queue a refresh of this deal from Qonto (at most once per 5 minutes per deal)
    # without waiting for it; the card shows what we have and the next load shows the result.
    stale = tenant.last_synced_at is None or timezone.now() - tenant.last_synced_at > timedelta(minutes=5)
    if stale and any(i.qonto_invoice_id for i in invoices):
        from django.core.cache import cache

        if cache.add(f"card:deal-sync:{tenant.pk}:{deal_id}", 1, 300):
            try:
                jobs.deal_sync(tenant.pk, deal_id)
            except Exception:  # a broker outage must not break the card
                logging.getLogger(__name__).warning("could not queue the refresh of deal %s", deal_id)
    return {
        "tenant": {
            "status": state.status,
            "plan": state.plan,
            "settings_url": _settings_url(tenant, user_id, user_email),
            "message": state.message,
        },
        "deal": {
            "id": snapshot.id,
            "name": snapshot.name or "",
            "amount": _money(amount),
            "currency": (snapshot.currency or "EUR").upper(),
        },
        "readiness": {"ready": not problems, "problems": [p.as_json(lang) for p in problems]},
        "invoices": [invoice_json(i, lang) for i in invoices],
        "totals": {
            "deal_amount": _money(totals.deal_amount),
            "invoiced": _money(totals.invoiced),
            "paid": _money(totals.paid),
            "left_to_invoice": _money(totals.left_to_invoice),
        },
        "last_synced_at": tenant.last_synced_at.isoformat().replace("+00:00", "Z")
        if tenant.last_synced_at
        else None,
    }
