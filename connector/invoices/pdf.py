"""The finalized invoice's PDF on the deal: a HubSpot note with a stable link that always works.

[doc] Qonto makes the PDF asynchronously (~10 s after finalize): ``attachment_id`` appears on the
invoice, and ``GET /v2/attachments/{id}`` answers a signed ``url`` valid for **30 minutes** only.
A note must outlive that, so it links to *our* URL (``/invoices/pdf/<token>``): a capability
token signed with ``SECRET_KEY`` naming the tenant and the invoice. Opening it asks Qonto for a
fresh signed URL and redirects there (``pdf_url_resolve``). The note is written once per invoice
(``pdf_noted_at`` is claimed before the note is posted).
"""

from __future__ import annotations

import html
import logging

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from connector.exceptions import HubSpotPermanentError, PermanentError, RetryableError
from connector.invoices.apply import apply_qonto_invoice
from connector.invoices.links import PAYABLE_STATUSES
from connector.logging import bind_tenant
from connector.models import Invoice, QontoConnection, Tenant
from connector.qonto_client import QontoClient
from connector.ratelimit import hubspot_limiter, qonto_limiter
from hubspot_app.client import HubSpotClient
from hubspot_app.crm import create_deal_note
from hubspot_app.scopes import NOTES_SCOPE, optional_scope_denied, optional_scope_granted

logger = logging.getLogger(__name__)

PDF_SALT = "connector.invoices.pdf"


class PdfNotReady(RetryableError):
    """Qonto has not made the PDF yet (no ``attachment_id``): ask again in a few seconds."""

    code = "pdf_not_ready"


class PdfLinkInvalid(PermanentError):
    code = "pdf_link_invalid"


def _signer() -> signing.Signer:
    return signing.Signer(salt=PDF_SALT)  # no timestamp: one invoice, one link, forever


def pdf_token(invoice: Invoice) -> str:
    return _signer().sign_object([invoice.tenant_id, str(invoice.pk)])


def pdf_link(invoice: Invoice) -> str:
    """The stable, tenant-scoped link to the invoice's PDF (it works as long as Qonto has the PDF)."""
    return settings.PUBLIC_BASE_URL + reverse("invoice-pdf", args=[pdf_token(invoice)])


def _qonto(connection: QontoConnection) -> QontoClient:
    return QontoClient.for_connection(connection, before_request=qonto_limiter().acquire)


def _learn_attachment(inv: Invoice, qonto: QontoClient) -> None:
    """Read the invoice from Qonto; record its attachment (and anything else Qonto changed)."""
    data = qonto.get_invoice(str(inv.qonto_invoice_id))
    if apply_qonto_invoice(inv, data) or inv.attachment_id:
        inv.save()


def note_body(inv: Invoice, link: str) -> str:
    e = html.escape
    number = inv.number or str(inv.pk)
    return (
        f"<p><strong>Facture {e(number)} (PDF)</strong></p>"
        f'<p><a href="{e(link)}">{e(number)}.pdf</a> — lien permanent vers le PDF de Qonto '
        "(Factur-X) / permanent link to Qonto's PDF.</p>"
    )


def invoice_pdf_attach(*, invoice_id: str) -> bool:
    """Once Qonto has the PDF, add the note linking to it to the deal (once). True when done.

    Raises ``PdfNotReady`` while the attachment is not there yet (the task retries, bounded).
    """
    inv = Invoice.objects.select_related("tenant", "deal", "tenant__qonto_connection").get(pk=invoice_id)
    tenant = inv.tenant
    bind_tenant(tenant.portal_id)
    if (
        inv.pdf_noted_at is not None
        or inv.status not in PAYABLE_STATUSES
        or not inv.qonto_invoice_id
        or tenant.status == Tenant.Status.UNINSTALLED
        or inv.deal.hubspot_deleted_at
    ):
        return False
    if not inv.attachment_id:
        _learn_attachment(inv, _qonto(tenant.qonto_connection))
        if not inv.attachment_id:
            raise PdfNotReady(f"invoice {inv.pk}: no attachment yet")
    now = timezone.now()
    # Claim the note first: two tasks (a retry, a redelivery) never both post it.
    if not Invoice.objects.filter(pk=inv.pk, pdf_noted_at__isnull=True).update(pdf_noted_at=now):
        return False
    if not optional_scope_granted(tenant, NOTES_SCOPE):
        logger.info("invoice %s: no PDF note (scope %s not granted)", inv.pk, NOTES_SCOPE)
        return True
    client = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
    try:
        create_deal_note(client, inv.hubspot_deal_id, note_body(inv, pdf_link(inv)), now.isoformat())
    except HubSpotPermanentError as exc:
        if exc.code != "hubspot_missing_scopes":
            Invoice.objects.filter(pk=inv.pk).update(pdf_noted_at=None)
            raise
        optional_scope_denied(tenant, NOTES_SCOPE, detail=exc.detail or "")
    except Exception:
        Invoice.objects.filter(pk=inv.pk).update(pdf_noted_at=None)  # not posted: the retry posts it
        raise
    logger.info("invoice %s: PDF note added to deal %s", inv.pk, inv.hubspot_deal_id)
    return True


def pdf_url_resolve(*, token: str) -> str:
    """A fresh signed URL of the invoice's PDF in Qonto, for a token made by ``pdf_token``.

    Raises ``PdfLinkInvalid`` (unknown, forged, other tenant, uninstalled) and ``PdfNotReady``.
    """
    try:
        tenant_id, invoice_id = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise PdfLinkInvalid("bad token") from exc
    inv = (
        Invoice.objects.select_related("tenant")
        .filter(tenant_id=tenant_id, pk=invoice_id)
        .exclude(tenant__status=Tenant.Status.UNINSTALLED)
        .first()
    )
    connection = QontoConnection.objects.filter(tenant_id=tenant_id).first()
    if inv is None or connection is None or not inv.qonto_invoice_id:
        raise PdfLinkInvalid("no such invoice")
    bind_tenant(inv.tenant.portal_id)
    qonto = _qonto(connection)
    if not inv.attachment_id:
        _learn_attachment(inv, qonto)
        if not inv.attachment_id:
            raise PdfNotReady(f"invoice {inv.pk}: no attachment yet")
    url = str(qonto.get_attachment(inv.attachment_id).get("url") or "")
    if not url.startswith(("https://", "http://")):
        raise PdfNotReady(f"invoice {inv.pk}: attachment without a URL")
    return url
