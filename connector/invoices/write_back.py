"""Step 3 (worker): the deal's Qonto properties (one PATCH) and one note per invoice in HubSpot."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from connector.exceptions import HubSpotPermanentError
from connector.invoices.links import payment_url, qonto_app_url
from connector.invoices.selectors import card_status, invoice_view
from connector.invoices.snapshots import deal_snapshot_forget
from connector.invoicing.summary import deal_totals, invoice_summary_lines, is_overdue, note_html
from connector.logging import bind_tenant
from connector.models import Deal, Invoice, QontoConnection, Tenant
from connector.ratelimit import hubspot_limiter
from hubspot_app.client import HubSpotClient
from hubspot_app.crm import create_deal_note, update_deal
from hubspot_app.scopes import NOTES_SCOPE, optional_scope_denied, optional_scope_granted
from hubspot_app.services import hubspot_setup

logger = logging.getLogger(__name__)


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
        # Europe/Paris (TIME_ZONE), with its offset: HubSpot shows it in the user's time zone anyway.
        "qonto_last_sync_at": timezone.localtime(now).isoformat(timespec="seconds"),
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
                "qonto_last_invoice_url": payment_url(latest) or "",
                "qonto_last_invoice_sent_at": timezone.localtime(latest.sent_at).isoformat(timespec="seconds")
                if latest.sent_at
                else "",
            }
        )
    return props


def _organization_slug(tenant: Tenant) -> str:
    connection = QontoConnection.objects.filter(tenant=tenant).only("organization_slug").first()
    return connection.organization_slug if connection else ""


def invoice_write_back(*, invoice_id: str) -> None:
    """Write the deal's Qonto properties (one PATCH) and, once per invoice, a note on the deal."""
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
        hubspot_setup(tenant_id=tenant.pk)
        update_deal(client, inv.hubspot_deal_id, props)
    Deal.objects.filter(pk=inv.deal_id).update(pushed_at=now)
    deal_snapshot_forget(tenant_id=tenant.pk, deal_ids=[inv.hubspot_deal_id])
    if inv.hubspot_written_at is None and inv.qonto_invoice_id:
        # The notes scope is optional: without it the properties are written, the note is not. A
        # 403 is recorded once on the installation, and no later invoice asks again.
        if optional_scope_granted(tenant, NOTES_SCOPE):
            # The note links the seller to the invoice in the Qonto app, not to the customer's
            # payment page.
            app_url = qonto_app_url(
                organization_slug=_organization_slug(tenant), qonto_invoice_id=inv.qonto_invoice_id
            )
            view = dataclasses.replace(invoice_view(inv), url=app_url)
            try:
                html = note_html(view, "fr")
                create_deal_note(client, inv.hubspot_deal_id, html, now.isoformat())
            except HubSpotPermanentError as exc:
                if exc.code != "hubspot_missing_scopes":
                    raise
                optional_scope_denied(tenant, NOTES_SCOPE, detail=exc.detail or "")
        else:
            logger.info("invoice %s: no note on the deal (scope %s not granted)", inv.id, NOTES_SCOPE)
        Invoice.objects.filter(pk=inv.pk).update(hubspot_written_at=now)
