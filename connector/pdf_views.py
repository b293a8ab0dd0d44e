"""``GET /invoices/pdf/<token>``: the stable link in the deal's note → a fresh Qonto PDF URL.

The token is the capability (signed, tenant-scoped: ``connector.invoices.pdf``); there is no
session. Qonto's signed URL lives 30 minutes [doc], so it is fetched at each click and never
stored. Answers carry ``no-store`` and ``no-referrer``: the token must not leak into caches or
into the next site's logs.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET

from connector.exceptions import ApplicationError, RetryableError
from connector.invoices.pdf import PdfLinkInvalid, PdfNotReady, pdf_url_resolve

logger = logging.getLogger(__name__)

_TEXTS = {
    404: "Ce lien de facture n'est pas valide (ou l'application a été désinstallée).\n"
    "This invoice link is not valid (or the app was uninstalled).",
    503: "Le PDF n'est pas disponible pour le moment (Qonto le prépare ou ne répond pas) : réessayez "
    "dans un instant.\nThe PDF is not available right now (Qonto is making it or not answering): "
    "try again in a moment.",
    502: "Qonto a refusé de fournir le PDF (la connexion Qonto doit peut-être être renouvelée).\n"
    "Qonto refused to give the PDF (the Qonto connection may need renewing).",
}


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
def invoice_pdf(request: HttpRequest, token: str) -> HttpResponse:
    try:
        url = pdf_url_resolve(token=token)
    except PdfLinkInvalid:
        status = 404
    except (PdfNotReady, RetryableError):
        status = 503
    except ApplicationError as exc:  # Qonto refused (revoked key, attachment gone)
        logger.warning("invoice PDF link: %s", exc.code)
        status = 502
    else:
        return _private(HttpResponseRedirect(url))
    return _private(HttpResponse(_TEXTS[status], status=status, content_type="text/plain; charset=utf-8"))
