"""One deal refreshed from Qonto by id (the card asks when its data looks stale)."""

from __future__ import annotations

from functools import partial

from connector.invoices.apply import apply_qonto_invoice
from connector.models import Invoice, Tenant
from connector.qonto_client import QontoClient, QontoNotFoundError
from connector.ratelimit import qonto_limiter
from connector.sync.budget import patiently
from connector.sync.credit_notes import credit_notes_fetch
from connector.sync.deals import write_back
from connector.sync.stats import SyncStats


def deal_sync(*, tenant_id: int, deal_id: str) -> int:
    """Re-read each of the deal's invoices (a draft answering 404 was deleted), fetch the credit
    notes they list that we do not know, and write the deal back if anything changed. Returns the
    number of rows changed."""
    tenant = Tenant.objects.select_related("qonto_connection").get(pk=tenant_id)
    qonto = QontoClient.for_connection(tenant.qonto_connection, before_request=qonto_limiter().acquire)
    stats = SyncStats()
    changed = 0
    for inv in Invoice.objects.filter(
        tenant=tenant, hubspot_deal_id=deal_id, qonto_invoice_id__isnull=False
    ).exclude(status=Invoice.Status.DELETED):
        try:
            data = patiently(partial(qonto.get_invoice, str(inv.qonto_invoice_id)), "refreshing a deal")
        except QontoNotFoundError:
            if inv.status == Invoice.Status.DRAFT:
                inv.status = Invoice.Status.DELETED
                inv.save()
                changed += 1
            continue
        stats.unknown_credit_notes.update(str(i) for i in data.get("credit_notes_ids") or [] if i)
        if apply_qonto_invoice(inv, data):
            inv.save()
            changed += 1
    credit_notes_fetch(tenant, qonto, stats.unknown_credit_notes, stats)
    changed += stats.credit_notes_new
    if changed or stats.dirty_deals:
        write_back(tenant, SyncStats(dirty_deals={deal_id}), force=False)
    return changed
