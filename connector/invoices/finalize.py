"""Finalize from the card, step 2 (worker): ``draft → unpaid`` in Qonto, then the deal and the PDF.

[doc] ``POST /v2/client_invoices/{id}/finalize`` moves a draft to ``unpaid``, numbers it and
answers the invoice. A retry after a lost answer meets an invoice that is no longer a draft: Qonto
refuses the transition (422), so we read the invoice and accept it when it is finalized. Then the
deal gets the number, dates and payment link (``invoice_write_back``) and the PDF note is polled
for (``pdf.py``: the attachment appears ~10 s after finalize [doc]).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction

from connector import jobs
from connector.exceptions import QontoPermanentError, RetryableError
from connector.invoices.actions import action_begin, action_finish, action_requeue
from connector.invoices.apply import apply_qonto_invoice
from connector.models import Invoice, InvoiceAction
from connector.qonto_client import QontoClient, QontoValidationError
from connector.ratelimit import qonto_limiter

logger = logging.getLogger(__name__)

FINALIZED = ("unpaid", "paid")
_KEY_NAMESPACE = uuid.UUID("6f1d3c1e-6a53-4d3b-9b7e-0d3f4c2a9e10")


def qonto_for(action: InvoiceAction) -> QontoClient:
    return QontoClient.for_connection(action.tenant.qonto_connection, before_request=qonto_limiter().acquire)


def qonto_key(action: InvoiceAction) -> str:
    """A UUID (Qonto's idempotency header wants one [doc]) derived from the click's key."""
    return str(uuid.uuid5(_KEY_NAMESPACE, f"{action.tenant_id}:{action.kind}:{action.idempotency_key}"))


def refusal_detail(exc: QontoPermanentError) -> str:
    problems = exc.extra.get("problems") or []
    if problems and problems[0].get("detail"):
        return str(problems[0]["detail"])
    return str(exc.user_message or exc.code)


def invoice_finalize_run(*, action_id: int) -> None:
    """Finalize the action's invoice in Qonto and record what Qonto answers (idempotent)."""
    action = action_begin(action_id)
    if action is None:
        return
    inv = action.invoice
    qonto = qonto_for(action)
    qonto_id = str(inv.qonto_invoice_id)
    try:
        try:
            data: dict[str, Any] = qonto.finalize_invoice(qonto_id, idempotency_key=qonto_key(action))
        except QontoValidationError:
            # Not a draft any more (a retry whose first answer was lost, or finalized in Qonto):
            # what matters is whether Qonto holds it finalized now.
            data = qonto.get_invoice(qonto_id)
            if str(data.get("status") or "").lower() not in FINALIZED:
                raise
        if str(data.get("status") or "").lower() not in FINALIZED or not data.get("number"):
            data = {**data, **qonto.get_invoice(qonto_id)}  # a partial answer: read it whole
    except RetryableError:
        action_requeue(action.pk)
        raise
    except QontoPermanentError as exc:
        action_finish(action, error_code="qonto_refused", error_message=refusal_detail(exc))
        return
    status = str(data.get("status") or "").lower()
    with transaction.atomic():
        row = Invoice.objects.select_for_update().get(pk=inv.pk)
        apply_qonto_invoice(row, data)
        row.save()
        if status not in FINALIZED or not data.get("number"):
            action_finish(action, error_code="finalize_unexpected", error_message=status or "?")
            return
        action_finish(action)
        jobs.invoice_write_back(str(row.pk))  # number, dates, payment link on the deal
        jobs.invoice_pdf_attach(str(row.pk))  # the PDF note, once Qonto has made the PDF
    logger.info("invoice %s finalized in Qonto as %s", inv.pk, data.get("number"))
