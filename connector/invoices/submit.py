"""Step 2 (worker): create the draft in Qonto — never twice.

Under a lock held across processes, ``invoice_submit_to_qonto`` finds or creates the Qonto client,
commits CREATING, then POSTs the invoice with ``status: "draft"``. A row that was ever submitted
(``submitted_at`` set: a timeout, a 5xx, a worker killed after the POST, a retry hours later) is
never POSTed again before Qonto has been searched *successfully* for its key, from the row's
creation whatever its age (``find_in_qonto``); when found, the invoice is adopted. A search that
Qonto refuses for good (403, 400…) ends the row FAILED with the reason, still marked submitted,
so a later retry searches again. Retryable errors are retried by the task with backoff; when
retries run out, the row ends FAILED with the reason the card shows.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connector import jobs
from connector.exceptions import ApplicationError, PermanentError, QontoPermanentError
from connector.invoices.apply import apply_qonto_invoice
from connector.invoices.qonto_clients import ensure_qonto_client
from connector.invoices.selectors import SETTLED
from connector.invoices.state import tenant_state
from connector.invoicing.reference import key_of_reference, reference_matches
from connector.logging import bind_tenant
from connector.models import Deal, Invoice
from connector.qonto_client import QontoClient, QontoValidationError
from connector.ratelimit import distributed_lock, lock_is_held, qonto_limiter

logger = logging.getLogger(__name__)

# Our clock and Qonto's may disagree a little: search from a bit before the row was created.
RECONCILE_OVERLAP = timedelta(minutes=10)


class TenantNotOperational(PermanentError):
    """The tenant may no longer invoice (plan, suspension, uninstall) when the task runs."""

    code = "tenant_not_operational"
    default_user_message = _(
        "Le connecteur ne peut plus créer de factures pour ce compte (abonnement, suspension ou "
        "désinstallation) : rien n'a été envoyé à Qonto. Réglez-le dans les réglages, puis réessayez."
    )


class ReconcileFailed(QontoPermanentError):
    """Qonto refused the search that must come before any new POST of a submitted invoice."""

    code = "qonto_reconcile_failed"
    default_user_message = _(
        "Qonto a refusé la recherche qui vérifie si la facture existe déjà : rien n'a été renvoyé, "
        "pour ne jamais la créer deux fois. Vérifiez l'accès Qonto dans les réglages, puis réessayez."
    )


def invoice_lock_name(invoice_id: Any) -> str:
    return f"invoice:{invoice_id}"


def invoice_submit_to_qonto(*, invoice_id: str) -> None:
    """Create the draft in Qonto for a PENDING/CREATING invoice. Safe to call any number of times.

    Raises retryable errors for the task to retry; records permanent ones as FAILED.

    The lock is renewed while this runs (it lives as long as this process), and right before the
    POST — once Qonto's rate-limit slot is taken, so nothing waits after the check — it is given
    a full time to live again and checked to still be ours; a lost lock sends nothing
    (``LockLost``: the task retries). So two tasks never POST the same invoice at once, however
    long the rate-limit waits, timeouts and retries take.
    """
    lock_name = invoice_lock_name(invoice_id)
    with distributed_lock(
        lock_name, timeout=settings.INVOICE_LOCK_TIMEOUT_S, blocking_timeout=60, renew=True
    ) as held:
        inv = Invoice.objects.select_related("tenant", "tenant__qonto_connection").get(pk=invoice_id)
        if inv.status in SETTLED:
            return
        tenant = inv.tenant
        bind_tenant(tenant.portal_id)
        limiter = qonto_limiter()
        qonto = QontoClient.for_connection(tenant.qonto_connection, before_request=limiter.acquire)
        if ever_submitted(inv):
            try:
                found = find_in_qonto(qonto, inv)
            except QontoPermanentError as exc:
                # Not found is not known: never POST blind. FAILED (retryable: a retry searches
                # again first) with Qonto's reason, instead of CREATING forever.
                mark_failed(inv.pk, _reconcile_failed(exc), retryable=True)
                return
            if found is not None:
                logger.warning(
                    "invoice %s: adopting Qonto invoice %s found by reference", inv.id, found.get("id")
                )
                record_created(inv.pk, found)
                return
        # The click was accepted while the tenant could invoice; it may have lost its plan, been
        # suspended or uninstalled since (the task waited, or is a retry): nothing new is sent.
        state = tenant_state(tenant)
        if not state.operational:
            mark_failed(inv.pk, TenantNotOperational(f"tenant is {state.status}"), retryable=True)
            return
        try:
            client_id = ensure_qonto_client(tenant, qonto, inv)
        except QontoPermanentError as exc:
            mark_failed(inv.pk, exc, retryable=exc.code == "qonto_validation")
            return
        limiter.acquire()  # the POST's slot, taken before the lock check so the POST leaves at once
        held.ensure_held()  # LockLost: another task took over; send nothing
        Invoice.objects.filter(pk=inv.pk).update(
            status=Invoice.Status.CREATING,
            qonto_client_id=client_id,
            submitted_at=timezone.now(),
            attempts=inv.attempts + 1,
            updated_at=timezone.now(),
        )  # committed before the POST: a retry then knows to look in Qonto first
        body = {**inv.payload["invoice"], "client_id": client_id, "status": "draft"}
        poster = QontoClient.for_connection(tenant.qonto_connection, session=qonto.session)  # slot taken
        try:
            created = poster.create_invoice(body, idempotency_key=str(inv.id))
        except QontoValidationError as exc:
            # Refused: nothing was created, so a retry after fixing the data is safe.
            mark_failed(inv.pk, exc, retryable=True, submitted=False)
            return
        except QontoPermanentError as exc:
            mark_failed(inv.pk, exc, retryable=exc.code in ("qonto_auth", "qonto_forbidden"), submitted=False)
            return
        record_created(inv.pk, created)


def ever_submitted(inv: Invoice) -> bool:
    """May a create call for this row have reached Qonto? Then Qonto must be searched first."""
    return inv.submitted_at is not None or inv.status == Invoice.Status.CREATING


def invoice_key(inv: Invoice) -> str | None:
    """The row's unique key: its own column, or (rows made before it existed) inside its reference."""
    return inv.reconcile_key or key_of_reference(inv.reference)


def find_in_qonto(qonto: QontoClient, inv: Invoice) -> dict[str, Any] | None:
    """Our invoice in Qonto, found by the key at the end of its ``purchase_order``.

    Qonto has no filter on ``purchase_order`` (spec §4.4), so every invoice created since the row
    was (whatever its age: a retry may come days later) is listed, oldest first, page after page,
    whatever its status (a human may have finalized it since). Only the exact key matches; an
    invoice already recorded on another of our rows is never adopted twice. Raises Qonto's errors:
    a failed search is not a "not found".
    """
    key = invoice_key(inv)
    if not key:
        raise ReconcileFailed(f"invoice {inv.id}: no key to search Qonto with (reference {inv.reference!r})")
    since = inv.created_at - RECONCILE_OVERLAP
    for page in qonto.iter_invoice_pages(created_from=since, sort_by="created_at:asc"):
        for item in page.items:
            if not reference_matches(item.get("purchase_order"), key):
                continue
            qonto_id = str(item.get("id") or "")
            taken = (
                Invoice.objects.filter(tenant_id=inv.tenant_id, qonto_invoice_id=qonto_id)
                .exclude(pk=inv.pk)
                .exists()
            )
            if qonto_id and not taken:
                return item
    return None


def _reconcile_failed(exc: QontoPermanentError) -> ReconcileFailed:
    return ReconcileFailed(
        f"searching Qonto before a new POST failed: {exc.detail or exc.code}",
        status_code=exc.status_code,
        extra=exc.extra,
    )


def record_created(invoice_pk: Any, data: dict[str, Any]) -> None:
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().get(pk=invoice_pk)
        if inv.status in SETTLED and inv.status != Invoice.Status.FAILED:
            return
        apply_qonto_invoice(inv, data)
        if data.get("status") != "draft":
            # We always send "status": "draft". Anything else means Qonto finalized (numbered) it:
            # keep what Qonto says, never retry (that would make a second invoice), and say it
            # loudly: an error log, the reason in both languages, and an error in connector_doctor
            # ("invoice_not_draft", for 30 days).
            inv.error_code = NOT_DRAFT
            messages = _not_draft_messages(str(data.get("status") or "?"))
            inv.error_message = messages["fr"]
            inv.payload = {**inv.payload, "error_messages": messages}
            inv.error_retryable = False
            logger.error(
                "invoice %s was created in Qonto as %r, not as a draft: check it in Qonto",
                inv.id,
                data.get("status"),
            )
        else:
            inv.error_code = inv.error_message = ""
        inv.save()
        # Qonto just answered about this deal's invoice: the card's "Lu dans Qonto le…" says so.
        Deal.objects.filter(pk=inv.deal_id).update(qonto_read_at=timezone.now())
        jobs.invoice_write_back(str(inv.id))
        jobs.invoice_settled(str(inv.id))  # automation runs waiting on it (workflow action, stage rule)


NOT_DRAFT = "not_draft"


def _not_draft_messages(status: str) -> dict[str, str]:
    from django.utils import translation
    from django.utils.translation import gettext

    messages = {}
    for lang in ("fr", "en"):
        with translation.override(lang):
            messages[lang] = gettext(
                "Qonto a créé la facture avec le statut « %(status)s » au lieu d'un brouillon : "
                "vérifiez-la dans Qonto."
            ) % {"status": status[:40]}
    return messages


def mark_failed(invoice_pk: Any, exc: ApplicationError, *, retryable: bool, submitted: bool = True) -> None:
    from django.utils import translation

    problems = exc.extra.get("problems") if exc.extra else None
    details = "; ".join(_problem_text(p) for p in problems) if problems else ""
    # The card shows the reason in the user's language: keep it in both.
    messages = {}
    for lang in ("fr", "en"):
        with translation.override(lang):
            messages[lang] = f"{exc.user_message} {details}".strip()[:2000]
    with transaction.atomic():
        inv = Invoice.objects.select_for_update().get(pk=invoice_pk)
        if inv.status in SETTLED and inv.status != Invoice.Status.FAILED:
            return
        inv.status = Invoice.Status.FAILED
        inv.error_code = exc.code
        inv.error_message = messages["fr"]
        inv.payload = {**inv.payload, "error_messages": messages}
        inv.error_retryable = retryable and not inv.qonto_invoice_id
        if not submitted:
            inv.submitted_at = None  # the POST was refused: nothing to reconcile on retry
        inv.save()
        jobs.invoice_write_back(str(inv.id))
        jobs.invoice_settled(str(inv.id))
    logger.warning("invoice %s failed: %s", invoice_pk, exc.detail or exc.code)


def _problem_text(problem: dict[str, Any]) -> str:
    where = problem.get("pointer") or problem.get("parameter")
    text = str(problem.get("detail") or problem.get("code") or "")
    return f"{text} ({where})" if where else text


def invoice_reconcile_only(*, invoice_id: str) -> bool:
    """A FAILED row that may have reached Qonto: search for it and adopt it if it is there.

    Never POSTs. Used when a retry of such a row is refused (a retried deposit after a full
    invoice): the refusal must not leave an invoice Qonto holds off our books. Returns True when
    the invoice was found and recorded. Raises retryable errors for the task to retry.
    """
    with distributed_lock(
        invoice_lock_name(invoice_id), timeout=settings.INVOICE_LOCK_TIMEOUT_S, blocking_timeout=60
    ):
        inv = Invoice.objects.select_related("tenant__qonto_connection").get(pk=invoice_id)
        if inv.status != Invoice.Status.FAILED or inv.qonto_invoice_id or not ever_submitted(inv):
            return False
        bind_tenant(inv.tenant.portal_id)
        qonto = QontoClient.for_connection(
            inv.tenant.qonto_connection, before_request=qonto_limiter().acquire
        )
        try:
            found = find_in_qonto(qonto, inv)
        except QontoPermanentError as exc:  # still unknown: the row stays FAILED and submitted
            logger.warning("invoice %s: reconciliation refused by Qonto (%s)", inv.id, exc.code)
            return False
        if found is None:
            return False
        logger.warning("invoice %s: adopting Qonto invoice %s after a refused retry", inv.id, found.get("id"))
        record_created(inv.pk, found)
        return True


def invoice_fail_after_retries(*, invoice_id: str, exc: ApplicationError) -> None:
    """Retries ran out on a retryable error: look in Qonto one last time, else FAILED (retryable)."""
    inv = Invoice.objects.select_related("tenant__qonto_connection").get(pk=invoice_id)
    if inv.status in SETTLED:
        return
    if ever_submitted(inv):
        try:
            found = find_in_qonto(QontoClient.for_connection(inv.tenant.qonto_connection), inv)
        except ApplicationError:
            found = None  # still unknown: FAILED but submitted, so a retry searches again first
        if found is not None:
            record_created(inv.pk, found)
            return
    mark_failed(inv.pk, exc, retryable=True)


# --- nothing lost -------------------------------------------------------------------------------
STUCK_AFTER = timedelta(minutes=10)


def invoices_requeue_stuck(*, older_than: timedelta = STUCK_AFTER) -> list[str]:
    """Queue again the invoices still PENDING or CREATING long after their last change.

    Their task was lost (Redis restarted without persistence, a worker died and the broker never
    redelivered, a deploy dropped the queue). A row whose task is still queued (waiting its turn or
    its retry) or running is skipped: queuing a second task for it would only make two tasks
    compete for the same invoice. Running the task again is safe anyway: it locks, reconciles
    with Qonto when the POST may have been sent, and never creates a second invoice.
    """
    cutoff = timezone.now() - older_than
    candidates = [
        str(pk)
        for pk in Invoice.objects.filter(
            status__in=[Invoice.Status.PENDING, Invoice.Status.CREATING], updated_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    ]
    queued = jobs.invoice_create_queued(candidates)
    ids = [i for i in candidates if i not in queued and not lock_is_held(invoice_lock_name(i))]
    for invoice_id in ids:
        jobs.invoice_create(invoice_id)
    if ids:
        logger.warning("re-queued %d stuck invoice(s)", len(ids))
    return ids
