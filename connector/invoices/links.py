"""Where the card sends people: the seller's invoice in the Qonto app, the customer's payment page.

The seller's URL is **[assumed]**: Qonto documents no web-app URL for an invoice. We build it from
the organization slug (``GET /v2/organization`` → ``slug``, the login the tenant typed) and the
invoice id, in the web app's ``/organizations/{slug}/receivable-invoices/{id}`` layout; the sandbox
serves that path (``QONTO_APP_BASE``). Qonto's own ``invoice_url`` [doc] is the *customer's* payment
page ("pay.qonto.com/invoices/…"): it is shown only once the invoice is finalized, as a payment link.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings

from connector.models import Invoice

# Finalized statuses: the invoice has a number and the customer can pay it.
PAYABLE_STATUSES = frozenset({Invoice.Status.UNPAID, Invoice.Status.PAID})


def qonto_app_url(*, organization_slug: str, qonto_invoice_id: str | None) -> str | None:
    """The invoice in the seller's Qonto web app, or None before Qonto has it."""
    if not qonto_invoice_id or not organization_slug:
        return None
    slug, invoice_id = quote(organization_slug, safe=""), quote(qonto_invoice_id, safe="")
    return f"{settings.QONTO_APP_BASE}/organizations/{slug}/receivable-invoices/{invoice_id}"


def payment_url(invoice: Invoice) -> str | None:
    """The customer's payment page, once the invoice is finalized (never for a draft)."""
    if invoice.status not in PAYABLE_STATUSES:
        return None
    url = invoice.qonto_url or ""
    return url if url.startswith(("https://", "http://")) else None
