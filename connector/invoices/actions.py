"""Finalize and send from the card, step 1 (web, synchronous): accept a click, record it, queue it.

A click is one ``InvoiceAction`` row (finalize or send), found again by the card's per-click
``idempotency_key``. At most one action of a kind is in flight per invoice (a partial unique
constraint, checked under the invoice's row lock), so a double click, even with two keys, reaches
Qonto once. The work runs in a worker (``invoice_action_run``): ``finalize.py`` and ``send.py``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from connector import jobs
from connector.audit import audit
from connector.exceptions import ApplicationError
from connector.invoices.state import tenant_state
from connector.logging import bind_tenant
from connector.models import AuditLog, Invoice, InvoiceAction, Tenant

logger = logging.getLogger(__name__)

MAX_RECIPIENTS = 10
MAX_TITLE = 200
MAX_BODY = 5000
IN_FLIGHT = (InvoiceAction.Status.PENDING, InvoiceAction.Status.RUNNING)
SENDABLE = (Invoice.Status.UNPAID, Invoice.Status.PAID)

# Every sentence of this flow, in French and English (code → {fr, en}).
MESSAGES: dict[str, dict[str, str]] = {
    "not_finalizable": {
        "fr": "Seul un brouillon présent dans Qonto peut être finalisé : cette facture est « {status} ».",
        "en": "Only a draft that Qonto holds can be finalized: this invoice is “{status}”.",
    },
    "not_sendable": {
        "fr": "Finalisez la facture avant de l'envoyer : Qonto n'envoie que les factures finalisées "
        "(à payer ou payées). Cette facture est « {status} ».",
        "en": "Finalize the invoice before sending it: Qonto only sends finalized invoices (unpaid "
        "or paid). This invoice is “{status}”.",
    },
    "idempotency_key_reused": {
        "fr": "Cette clé d'idempotence a déjà servi pour une autre action.",
        "en": "This idempotency key was already used for another action.",
    },
    "invalid_send_to": {
        "fr": "Destinataires invalides : de 1 à 10 adresses e-mail valides (« {value} » ne l'est pas).",
        "en": "Invalid recipients: 1 to 10 valid e-mail addresses (“{value}” is not one).",
    },
    "too_many_recipients": {
        "fr": "10 destinataires au plus.",
        "en": "At most 10 recipients.",
    },
    "no_recipients": {
        "fr": "Aucun destinataire : saisissez l'e-mail du client (Qonto n'en connaît pas pour ce client).",
        "en": "No recipient: enter the client's e-mail (Qonto has none for this client).",
    },
    "invalid_email_title": {
        "fr": "L'objet de l'e-mail est obligatoire (200 caractères au plus).",
        "en": "The e-mail subject is required (200 characters at most).",
    },
    "invalid_email_body": {
        "fr": "Le message fait 5 000 caractères au plus.",
        "en": "The message is 5,000 characters at most.",
    },
    # Worker outcomes (shown on the card for the invoice's last action).
    "finalize_unexpected": {
        "fr": "Qonto n'a pas finalisé la facture (statut « {status} », sans numéro) : "
        "vérifiez-la dans Qonto.",
        "en": "Qonto did not finalize the invoice (status “{status}”, no number): check it in Qonto.",
    },
    "send_unconfirmed": {
        "fr": "Qonto n'a pas confirmé l'envoi (pas de réponse) : vérifiez dans Qonto si l'e-mail est "
        "parti avant de renvoyer.",
        "en": "Qonto did not confirm the sending (no answer): check in Qonto whether the e-mail left "
        "before sending again.",
    },
    "qonto_refused": {
        "fr": "Qonto a refusé : {detail}",
        "en": "Qonto refused: {detail}",
    },
    "qonto_unavailable": {
        "fr": "Qonto ne répond pas : réessayez dans un instant.",
        "en": "Qonto is not answering: try again in a moment.",
    },
    "tenant_not_operational": {
        "fr": "Le connecteur ne peut pas agir pour ce compte en ce moment : {detail}",
        "en": "The connector cannot act for this account right now: {detail}",
    },
}

STATUS_LABELS: dict[str, dict[str, Any]] = {
    "fr": dict(Invoice.Status.choices),
    "en": {
        "pending": "pending",
        "creating": "being created",
        "draft": "draft",
        "unpaid": "unpaid",
        "paid": "paid",
        "canceled": "canceled",
        "deleted": "deleted draft",
        "failed": "failed",
    },
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?" if key == "status" else ""


def message(code: str, lang: str, **params: Any) -> str:
    """The sentence for ``code`` in ``lang`` (French unless "en"); missing parameters read empty."""
    lang = "en" if lang == "en" else "fr"
    template = MESSAGES.get(code, MESSAGES["qonto_unavailable"])[lang]
    return template.format_map(_Blank(params)).strip().rstrip(":").strip()


def status_label(status: str, lang: str) -> str:
    return str(STATUS_LABELS["en" if lang == "en" else "fr"].get(status, status))


class ActionInvalid(ApplicationError):
    """The body cannot be accepted (card: 422); ``problems`` are ``{code, field, message}``."""

    code = "action_invalid"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(", ".join(p["code"] for p in problems), code=problems[0]["code"])
        self.problems = problems


class ActionNotAllowed(ApplicationError):
    """The invoice's status does not allow it (card: 409)."""

    code = "action_not_allowed"

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text, code=code)
        self.text = text


@dataclasses.dataclass(frozen=True)
class ActionResult:
    action: InvoiceAction
    created: bool


def send_params_clean(
    *, send_to: list[str] | None, email_title: str, email_body: str, copy_to_self: bool, lang: str
) -> dict[str, Any]:
    """The body of a send, validated: ``send_to`` may be empty (the Qonto client's e-mail is used)."""
    problems: list[dict[str, str]] = []
    recipients = [str(r).strip() for r in (send_to or []) if str(r).strip()]
    if len(recipients) > MAX_RECIPIENTS:
        problems.append(
            {
                "code": "too_many_recipients",
                "field": "send_to",
                "message": message("too_many_recipients", lang),
            }
        )
    for address in recipients:
        try:
            validate_email(address)
        except ValidationError:
            text = message("invalid_send_to", lang, value=address[:80])
            problems.append({"code": "invalid_send_to", "field": "send_to", "message": text})
            break
    title = (email_title or "").strip()
    if not title or len(title) > MAX_TITLE:
        problems.append(
            {
                "code": "invalid_email_title",
                "field": "email_title",
                "message": message("invalid_email_title", lang),
            }
        )
    body = (email_body or "").strip()
    if len(body) > MAX_BODY:
        problems.append(
            {
                "code": "invalid_email_body",
                "field": "email_body",
                "message": message("invalid_email_body", lang),
            }
        )
    if problems:
        raise ActionInvalid(problems)
    return {
        "send_to": recipients,
        "email_title": title,
        "email_body": body,
        "copy_to_self": bool(copy_to_self),
    }


def _check_allowed(inv: Invoice, kind: str, lang: str) -> None:
    label = status_label(str(inv.status), lang)
    if kind == InvoiceAction.Kind.FINALIZE:
        if inv.status != Invoice.Status.DRAFT or not inv.qonto_invoice_id:
            raise ActionNotAllowed("not_finalizable", message("not_finalizable", lang, status=label))
    elif inv.status not in SENDABLE or not inv.qonto_invoice_id:
        raise ActionNotAllowed("not_sendable", message("not_sendable", lang, status=label))


def invoice_action_request(
    *,
    tenant: Tenant,
    invoice: Invoice,
    kind: str,
    idempotency_key: str,
    user_id: str = "",
    user_email: str = "",
    params: dict[str, Any] | None = None,
    lang: str = "fr",
) -> ActionResult:
    """Accept a click on *Finaliser* / *Envoyer*: record it, audit it, queue it (on commit).

    The same key answers the same row (``created=False``); an action of the same kind already in
    flight for this invoice is answered too, so Qonto is asked once. Raises ``ActionNotAllowed``
    (status: 409), ``ActionInvalid`` (422).
    """
    twin = InvoiceAction.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()
    if twin is not None:
        return _same_or_refuse(twin, invoice, kind, lang)
    state = tenant_state(tenant, lang=lang)
    if not state.operational:
        text = message("tenant_not_operational", lang, detail=state.message or state.status)
        raise ActionInvalid([{"code": "tenant_not_operational", "field": "tenant", "message": text}])
    params = params or {}
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().get(tenant=tenant, pk=invoice.pk)
        twin = InvoiceAction.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()
        if twin is not None:  # a concurrent twin won the lock first
            return _same_or_refuse(twin, inv, kind, lang)
        in_flight = InvoiceAction.objects.filter(invoice=inv, kind=kind, status__in=IN_FLIGHT).first()
        if in_flight is not None:
            return ActionResult(in_flight, False)
        _check_allowed(inv, kind, lang)
        if kind == InvoiceAction.Kind.SEND and not params.get("send_to") and not inv.qonto_client_id:
            text = message("no_recipients", lang)
            raise ActionInvalid([{"code": "no_recipients", "field": "send_to", "message": text}])
        action = InvoiceAction(
            tenant=tenant,
            invoice=inv,
            kind=kind,
            idempotency_key=idempotency_key,
            requested_by_id=str(user_id)[:40],
            requested_by_email=str(user_email)[:254],
            params=params,
        )
        try:
            with transaction.atomic():
                action.save(force_insert=True)
        except IntegrityError:
            twin = InvoiceAction.objects.filter(tenant=tenant, idempotency_key=idempotency_key).first()
            if twin is None:
                twin = InvoiceAction.objects.filter(invoice=inv, kind=kind, status__in=IN_FLIGHT).first()
            if twin is None:
                raise
            return ActionResult(twin, False)
        audit(
            action=AuditLog.Action.INVOICE_FINALIZE_REQUESTED
            if kind == InvoiceAction.Kind.FINALIZE
            else AuditLog.Action.INVOICE_SEND_REQUESTED,
            user_email=user_email or f"hubspot-user:{user_id}",
            tenant=tenant,
            detail={
                "invoice": str(inv.pk),
                "action": action.pk,
                "hubspot_user_id": str(user_id),
                **({"send_to": params.get("send_to") or ["(Qonto client e-mail)"]} if params else {}),
            },
        )
        jobs.invoice_action(action.pk)
    logger.info("invoice %s: %s queued (action %s)", inv.pk, kind, action.pk)
    return ActionResult(action, True)


def _same_or_refuse(twin: InvoiceAction, invoice: Invoice, kind: str, lang: str) -> ActionResult:
    if twin.invoice_id != invoice.pk or twin.kind != kind:
        raise ActionInvalid(
            [
                {
                    "code": "idempotency_key_reused",
                    "field": "idempotency_key",
                    "message": message("idempotency_key_reused", lang),
                }
            ]
        )
    return ActionResult(twin, False)


# --- worker side, shared by finalize.py and send.py --------------------------------------------------
def action_start(action_id: int) -> InvoiceAction | None:
    """Lock the action and mark it RUNNING (one more attempt); None when it already ended."""
    with transaction.atomic():
        action = (
            InvoiceAction.objects.select_for_update()
            .select_related("invoice", "tenant")
            .filter(pk=action_id)
            .first()
        )
        if action is None or action.status not in IN_FLIGHT:
            return None
        action.status = InvoiceAction.Status.RUNNING
        action.attempts += 1
        action.save(update_fields=["status", "attempts", "updated_at"])
    return action


def action_begin(action_id: int) -> InvoiceAction | None:
    """The worker's first step for a finalize or a send: the action RUNNING, the log bound to its
    tenant, and the tenant still allowed to act (else FAILED ``tenant_not_operational``, nothing
    asked of Qonto). None when there is nothing to do."""
    action = action_start(action_id)
    if action is None:
        return None
    bind_tenant(action.tenant.portal_id)
    state = tenant_state(action.tenant)
    if not state.operational:
        action_finish(
            action, error_code="tenant_not_operational", error_message=state.message or state.status
        )
        return None
    return action


def action_finish(action: InvoiceAction, *, error_code: str = "", error_message: str = "") -> None:
    """SUCCEEDED without ``error_code``, else FAILED with it (``error_message``: what Qonto said)."""
    action.status = InvoiceAction.Status.FAILED if error_code else InvoiceAction.Status.SUCCEEDED
    action.error_code = error_code
    action.error_message = error_message[:2000]
    action.finished_at = timezone.now()
    action.save(update_fields=["status", "error_code", "error_message", "finished_at", "updated_at"])
    log = logger.warning if error_code else logger.info
    log("invoice action %s (%s): %s", action.pk, action.kind, error_code or "succeeded")


def action_requeue(action_id: int) -> None:
    """The try failed in a way worth another: back to PENDING so the retry may run it."""
    InvoiceAction.objects.filter(pk=action_id, status=InvoiceAction.Status.RUNNING).update(
        status=InvoiceAction.Status.PENDING
    )


def action_give_up(*, action_id: int, exc: ApplicationError) -> None:
    """Retries ran out (Qonto kept failing): FAILED, with the reason."""
    action = InvoiceAction.objects.filter(pk=action_id, status__in=IN_FLIGHT).first()
    if action is not None:
        action_finish(action, error_code="qonto_unavailable", error_message=exc.detail or exc.code)
