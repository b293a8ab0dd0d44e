"""Send from the card, step 2 (worker): Qonto e-mails the finalized invoice.

[doc] ``POST /v2/client_invoices/{id}/send`` with ``send_to[]``, ``email_title``, optional
``email_body`` and ``copy_to_self`` answers 204; "sent" is not a Qonto status, so we record
``sent_at`` ourselves. Sending is not idempotent for the customer (a second call is a second
e-mail): we send Qonto an idempotency key derived from the click, but do not rely on it
[assumed: the send page does not list the header]. Only a refusal that proves nothing left
(429, our own rate limiter) is retried; a timeout or a 5xx may have sent the e-mail, so the
action fails as "unconfirmed" and the user checks Qonto before sending again.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from connector import jobs
from connector.exceptions import QontoPermanentError, QontoRetryableError
from connector.invoices.actions import action_begin, action_finish, action_requeue
from connector.invoices.finalize import qonto_for, qonto_key, refusal_detail
from connector.models import Invoice, InvoiceAction
from connector.qonto_client import QontoRateLimitedError

logger = logging.getLogger(__name__)


def invoice_send_run(*, action_id: int) -> None:
    """E-mail the action's invoice through Qonto, once."""
    action = action_begin(action_id)
    if action is None:
        return
    inv = action.invoice
    qonto = qonto_for(action)
    params = dict(action.params or {})
    send_to = list(params.get("send_to") or [])
    if not send_to:  # the card left it empty: the client's e-mail in Qonto
        try:
            email = str(qonto.get_client(inv.qonto_client_id).get("email") or "").strip()
        except QontoRetryableError:
            action_requeue(action.pk)  # a read: nothing was sent
            raise
        except QontoPermanentError as exc:
            action_finish(action, error_code="qonto_refused", error_message=refusal_detail(exc))
            return
        if not email:
            action_finish(action, error_code="no_recipients")
            return
        send_to = [email]
        InvoiceAction.objects.filter(pk=action.pk).update(params={**params, "send_to": send_to})
    try:
        qonto.send_invoice(
            str(inv.qonto_invoice_id),
            send_to=send_to,
            email_title=str(params.get("email_title") or ""),
            email_body=str(params.get("email_body") or "") or None,
            copy_to_self=bool(params.get("copy_to_self", True)),
            idempotency_key=qonto_key(action),
        )
    except QontoRateLimitedError:
        action_requeue(action.pk)  # refused before anything was sent: safe to try again
        raise
    except QontoRetryableError as exc:
        action_finish(action, error_code="send_unconfirmed", error_message=exc.detail or exc.code)
        return
    except QontoPermanentError as exc:
        action_finish(action, error_code="qonto_refused", error_message=refusal_detail(exc))
        return
    Invoice.objects.filter(pk=inv.pk).update(sent_at=timezone.now())
    action_finish(action)
    jobs.invoice_write_back(str(inv.pk))  # qonto_last_invoice_sent_at on the deal
    logger.info("invoice %s sent by Qonto to %d recipient(s)", inv.pk, len(send_to))
