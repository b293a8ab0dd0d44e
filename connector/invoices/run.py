"""The worker's entry point for a card action: finalize or send, by the row's kind."""

from __future__ import annotations

from connector.invoices.finalize import invoice_finalize_run
from connector.invoices.send import invoice_send_run
from connector.models import InvoiceAction


def invoice_action_run(*, action_id: int) -> None:
    kind = InvoiceAction.objects.filter(pk=action_id).values_list("kind", flat=True).first()
    if kind == InvoiceAction.Kind.FINALIZE:
        invoice_finalize_run(action_id=action_id)
    elif kind == InvoiceAction.Kind.SEND:
        invoice_send_run(action_id=action_id)
