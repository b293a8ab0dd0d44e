"""PDF notes the sync still owes: finalized invoices whose PDF is not noted on their deal yet.

A *Finaliser* click queues the PDF note itself (``connector.invoices.pdf``). Two cases escape it:
an invoice finalized directly in Qonto (the sync is how we learn it), and a click whose polls ran
out before Qonto made the PDF. Each run of the sync queues the note for the invoices finalized in
the last ``PDF_NOTE_WINDOW`` whose PDF Qonto has made (``attachment_id`` known) and that have no
note yet. The note is claimed before it is posted, so a task queued here and one queued by the
click never post two notes. Older invoices (history imported, finalized long ago) are left alone:
the card still links their PDF.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from connector import jobs
from connector.invoices.links import PAYABLE_STATUSES
from connector.models import Invoice, Tenant

logger = logging.getLogger(__name__)

PDF_NOTE_WINDOW = timedelta(days=7)
PDF_NOTES_PER_RUN = 100  # the rest waits for the next run (HubSpot's per-portal budget)


def pdf_notes_due(tenant: Tenant, *, now: datetime) -> int:
    """Queue the PDF note of every recently finalized invoice that lacks one. Returns how many."""
    due = list(
        Invoice.objects.filter(
            tenant=tenant,
            status__in=PAYABLE_STATUSES,
            finalized_at__gte=now - PDF_NOTE_WINDOW,
            pdf_noted_at__isnull=True,
            qonto_invoice_id__isnull=False,
            deal__hubspot_deleted_at__isnull=True,
        )
        .exclude(attachment_id="")
        .order_by("finalized_at")
        .values_list("pk", flat=True)[:PDF_NOTES_PER_RUN]
    )
    for pk in due:
        jobs.invoice_pdf_attach(str(pk))
    if due:
        logger.info("sync of tenant %s: %d PDF notes queued", tenant.portal_id, len(due))
    return len(due)
