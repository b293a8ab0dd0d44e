"""Automatic invoice requests, from a trigger to the outcome on the deal — through the card's pipeline.

One ``AutomationRun`` per trigger (a workflow action's ``callbackId``, a stage webhook's
``eventId``; unique per tenant, so a redelivery never makes a second invoice):

1. ``automation_action_accept`` (web, synchronous): a workflow action execution. Hopeless requests
   (unknown portal, bad inputs, tenant not operational) are answered at once with
   ``FAIL_CONTINUE``; the others are recorded and answered ``BLOCK`` (the workflow waits).
   Stage-rule runs are created by ``connector.automation.stage_rule``.
2. ``automation_run_start`` (worker): reads the deal, refuses a deal that already has a live
   invoice of that kind, then calls ``invoice_request_create`` — the same validation, row lock and
   idempotency as a click (the key is derived from the trigger id).
3. ``automation_invoice_settled`` (worker, queued when the invoice reaches Qonto or fails): the
   run succeeds or fails with the invoice.
4. ``automation_run_report`` (worker): writes ``qonto_automation_status`` /
   ``qonto_automation_message`` on the deal, then completes the workflow's callback with the same
   outcome as output fields (``SUCCESS`` or ``FAIL_CONTINUE``).

``automation_runs_requeue_stuck`` (beat) gives a lost step another run.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from connector import jobs
from connector.automation import messages
from connector.exceptions import ApplicationError, HubSpotPermanentError
from connector.invoices.request import InvoiceRequestRefused, deal_snapshot_read, invoice_request_create
from connector.invoices.selectors import invoice_get_by_key
from connector.invoices.state import tenant_state
from connector.invoicing.request_checks import parse_percentage
from connector.logging import bind_tenant
from connector.models import AutomationRun, Deal, Invoice, Tenant
from connector.ratelimit import hubspot_limiter
from hubspot_app.automation_client import complete_action_callback
from hubspot_app.client import HubSpotClient
from hubspot_app.crm import update_deal
from hubspot_app.properties import AUTOMATION_MESSAGE_PROPERTY, AUTOMATION_STATUS_PROPERTY

logger = logging.getLogger(__name__)

Run = AutomationRun
# How long HubSpot keeps the workflow waiting for our callback (ISO 8601; HubSpot's default is
# one week [seen]). Three days cover Qonto retries and a weekend's outage of ours.
BLOCK_DURATION = "P3D"
KINDS = ("full", "deposit", "balance")
LIVE_EXCLUDED = (Invoice.Status.CANCELED, Invoice.Status.DELETED, Invoice.Status.FAILED)
IN_PROGRESS = (Invoice.Status.PENDING, Invoice.Status.CREATING)


class InvalidInput(ApplicationError):
    code = "invalid_input"

    def __init__(self, field: str) -> None:
        super().__init__(f"invalid workflow action input: {field}")
        self.field = field


def idempotency_key_for(run: AutomationRun) -> str:
    """The invoice's idempotency key: the trigger id itself, hashed when too long for the column."""
    raw = f"auto:{run.trigger}:{run.trigger_id}"
    if len(raw) <= 80:
        return raw
    return f"auto:{run.trigger}:{hashlib.sha256(run.trigger_id.encode()).hexdigest()[:48]}"


def parse_action_inputs(input_fields: Any) -> tuple[str, Decimal | None]:
    """(kind, percentage) from the action's ``inputFields``; ``InvalidInput`` names what is wrong.

    The percentage only counts for a deposit (the workflow editor may keep a value after the
    kind was changed). Values arrive as strings or numbers [assumed: both are accepted].
    """
    fields = input_fields if isinstance(input_fields, dict) else {}
    kind = str(fields.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise InvalidInput("kind")
    if kind != "deposit":
        return kind, None
    raw = fields.get("percentage")
    if isinstance(raw, float):
        raw = repr(raw)
    percentage = parse_percentage(raw if isinstance(raw, (str, int, Decimal)) else None)
    if percentage is None:
        raise InvalidInput("percentage")
    return kind, percentage


# --- 1. a workflow action execution ----------------------------------------------------------------
def output_fields(run: AutomationRun) -> dict[str, str]:
    """What the workflow sees: the execution state and our outputs (``qonto_*``, for branches)."""
    if run.status not in (Run.Status.SUCCEEDED, Run.Status.FAILED):
        return {"hs_execution_state": "BLOCK", "hs_expiration_duration": BLOCK_DURATION}
    invoice = run.invoice
    ok = run.status == Run.Status.SUCCEEDED
    return {
        "hs_execution_state": "SUCCESS" if ok else "FAIL_CONTINUE",
        "qonto_result": "success" if ok else "failed",
        "qonto_message": run.message("fr"),
        "qonto_invoice_id": (invoice.qonto_invoice_id or "") if invoice and ok else "",
        "qonto_invoice_url": (invoice.qonto_url or "") if invoice and ok else "",
    }


def _failure_outputs(texts: dict[str, str]) -> dict[str, str]:
    return {
        "hs_execution_state": "FAIL_CONTINUE",
        "qonto_result": "failed",
        "qonto_message": texts["fr"],
        "qonto_invoice_id": "",
        "qonto_invoice_url": "",
    }


def automation_action_accept(
    *,
    portal_id: int,
    callback_id: str,
    object_type: str,
    object_id: str,
    input_fields: Any,
    workflow_id: str = "",
) -> dict[str, str]:
    """Record a workflow action execution and say how the workflow goes on (its output fields).

    A repeated ``callbackId`` (HubSpot retries an action whose answer it did not get) answers from
    the run already recorded: ``BLOCK`` while the invoice is on its way, else the final outcome.
    """
    tenant = Tenant.objects.filter(portal_id=portal_id).exclude(status=Tenant.Status.UNINSTALLED).first()
    if tenant is None:
        logger.warning("workflow action %s from portal %s: not installed", callback_id, portal_id)
        return _failure_outputs(messages.not_installed())
    bind_tenant(tenant.portal_id)
    existing = Run.objects.filter(tenant=tenant, trigger=Run.Trigger.WORKFLOW_ACTION, trigger_id=callback_id)
    run = existing.select_related("invoice").first()
    if run is not None:
        return _answer_again(run)

    failure: tuple[str, dict[str, str]] | None = None
    kind, percentage = "", None
    if str(object_type).upper() not in ("DEAL", "0-3") or not str(object_id).isdecimal():
        failure = ("invalid_object", messages.invalid_input("object"))
    else:
        try:
            kind, percentage = parse_action_inputs(input_fields)
        except InvalidInput as exc:
            failure = (f"invalid_{exc.field}", messages.invalid_input(exc.field))
    if failure is None:
        state_fr, state_en = tenant_state(tenant, lang="fr"), tenant_state(tenant, lang="en")
        if not state_fr.operational:
            failure = (
                "tenant_not_operational",
                messages.tenant_not_operational(state_fr.message or "", state_en.message or ""),
            )
    now = timezone.now()
    run = Run(
        tenant=tenant,
        trigger=Run.Trigger.WORKFLOW_ACTION,
        trigger_id=callback_id,
        hubspot_deal_id=str(object_id)[:32] if str(object_id).isdecimal() else "",
        kind=kind,
        percentage=percentage,
        workflow_id=str(workflow_id or "")[:40],
    )
    if failure is not None:
        # Answered now with the outcome: there will be no callback to complete.
        run.status, run.error_code, run.messages = Run.Status.FAILED, failure[0], failure[1]
        run.callback_completed_at = now
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            if failure is None:
                jobs.automation_run_start(run.pk)
            elif run.hubspot_deal_id:
                jobs.automation_run_report(run.pk)
    except IntegrityError:  # the same callbackId, delivered twice at once: the first one won
        twin = existing.select_related("invoice").first()
        if twin is None:
            raise
        return _answer_again(twin)
    logger.info("workflow action %s on deal %s: %s", callback_id, run.hubspot_deal_id, run.status)
    return output_fields(run)


def _answer_again(run: AutomationRun) -> dict[str, str]:
    answer = output_fields(run)
    if answer["hs_execution_state"] != "BLOCK" and run.callback_completed_at is None:
        # HubSpot asked again instead of waiting: this answer completes the execution.
        Run.objects.filter(pk=run.pk, callback_completed_at__isnull=True).update(
            callback_completed_at=timezone.now(), callback_error="answered_on_retry"
        )
    return answer


# --- 2. start: the card's pipeline ----------------------------------------------------------------
class _AlreadyInvoiced(Exception):
    def __init__(self, invoice: Invoice) -> None:
        super().__init__(str(invoice.pk))
        self.invoice = invoice


def _invoice_label(invoice: Invoice, lang: str) -> str:
    """The invoice's number, or what it is while it has none (``gettext`` under ``lang``)."""
    if invoice.number:
        return invoice.number
    if invoice.status in IN_PROGRESS:
        return gettext("en cours de création")
    return gettext("brouillon")


def live_invoice_of_kind(*, tenant: Tenant, deal_id: str, kind: str) -> Invoice | None:
    return (
        Invoice.objects.filter(tenant=tenant, hubspot_deal_id=deal_id, kind=kind)
        .exclude(status__in=LIVE_EXCLUDED)
        .order_by("created_at")
        .first()
    )


def automation_run_start(*, run_id: int) -> None:
    """Turn a RECEIVED run into an invoice request (or a refusal). Safe to call again.

    Raises ``HubSpotRetryableError`` when the deal cannot be read now (the task retries).
    """
    run = Run.objects.select_related("tenant").get(pk=run_id)
    if run.status != Run.Status.RECEIVED:
        return
    tenant = run.tenant
    bind_tenant(tenant.portal_id)
    state = tenant_state(tenant, lang="fr")
    if not state.operational:
        texts = messages.tenant_not_operational(
            state.message or "", tenant_state(tenant, lang="en").message or ""
        )
        _finish(run.pk, Run.Status.FAILED, "tenant_not_operational", texts)
        return
    try:
        snapshot = deal_snapshot_read(tenant=tenant, deal_id=run.hubspot_deal_id)
    except HubSpotPermanentError as exc:
        gone = exc.code == "hubspot_not_found"
        texts = messages.deal_not_found() if gone else messages.hubspot_unavailable()
        _finish(run.pk, Run.Status.FAILED, exc.code, texts)
        return
    key = idempotency_key_for(run)
    percentage = run.percentage.normalize() if run.percentage is not None else None
    try:
        with transaction.atomic():
            run = Run.objects.select_for_update().get(pk=run_id)
            if run.status != Run.Status.RECEIVED:
                return
            deal, _ = Deal.objects.get_or_create(tenant=tenant, hubspot_deal_id=run.hubspot_deal_id)
            Deal.objects.select_for_update().get(pk=deal.pk)  # the same lock a click takes
            if invoice_get_by_key(tenant=tenant, idempotency_key=key) is None:
                twin = live_invoice_of_kind(tenant=tenant, deal_id=run.hubspot_deal_id, kind=run.kind)
                if twin is not None:
                    raise _AlreadyInvoiced(twin)
            result = invoice_request_create(
                tenant=tenant,
                deal_id=run.hubspot_deal_id,
                kind=run.kind,
                percentage=percentage,
                idempotency_key=key,
                snapshot=snapshot,
            )
            run.invoice = result.invoice
            run.status = Run.Status.PENDING
            run.save(update_fields=["invoice", "status", "updated_at"])
            if result.invoice.status not in IN_PROGRESS:  # found already settled (a start run twice)
                jobs.invoice_settled(str(result.invoice.pk))
    except InvoiceRequestRefused as refused:
        _finish(run_id, Run.Status.FAILED, refused.code, messages.from_problem(refused.problems[0]))
    except _AlreadyInvoiced as dup:
        twin = dup.invoice
        texts = messages.already_invoiced(
            Invoice.Kind(run.kind).label, lambda lang: _invoice_label(twin, lang)
        )
        _finish(run_id, Run.Status.FAILED, "already_invoiced", texts)
    else:
        logger.info("automation run %s: invoice %s requested", run_id, result.invoice.pk)


def _finish(run_id: int, status: str, code: str, texts: dict[str, str]) -> None:
    with transaction.atomic():
        run = Run.objects.select_for_update().get(pk=run_id)
        if run.status in (Run.Status.SUCCEEDED, Run.Status.FAILED):
            return
        run.status, run.error_code, run.messages = status, code[:64], texts
        run.save(update_fields=["status", "error_code", "messages", "updated_at"])
        jobs.automation_run_report(run.pk)
    logger.info("automation run %s: %s (%s)", run_id, status, code)


def automation_run_give_up(*, run_id: int) -> None:
    """The deal could not be read after every retry: the run fails, and says so on the deal."""
    _finish(run_id, Run.Status.FAILED, "hubspot_unavailable", messages.hubspot_unavailable())


# --- 3. the invoice settled -------------------------------------------------------------------------
def automation_invoice_settled(*, invoice_id: str) -> int:
    """The runs waiting on this invoice succeed (it is in Qonto) or fail (its reason). Returns how many."""
    done = 0
    waiting = Run.objects.filter(invoice_id=invoice_id, status=Run.Status.PENDING)
    for run_id in waiting.values_list("pk", flat=True):
        with transaction.atomic():
            run = Run.objects.select_for_update(of=("self",)).select_related("invoice").get(pk=run_id)
            inv = run.invoice
            if run.status != Run.Status.PENDING or inv is None or inv.status in IN_PROGRESS:
                continue
            if inv.status == Invoice.Status.FAILED:
                run.status, run.error_code = Run.Status.FAILED, inv.error_code[:64]
                run.messages = messages.invoice_failed(
                    dict(inv.payload.get("error_messages") or {}), inv.error_message
                )
            else:
                run.status, run.error_code = Run.Status.SUCCEEDED, ""
                run.messages = messages.created(inv.kind, inv.percentage, inv.total_amount, inv.number)
            run.save(update_fields=["status", "error_code", "messages", "updated_at"])
            jobs.automation_run_report(run.pk)
            done += 1
    return done


# --- 4. the outcome on the deal and in the workflow -------------------------------------------------
def automation_run_report(*, run_id: int) -> None:
    """Write the outcome on the deal, then complete the workflow's callback. Each step happens once.

    The deal is written first, so a workflow branching on ``qonto_automation_status`` right after
    the action sees the new value. Raises retryable HubSpot errors for the task to retry.
    """
    run = Run.objects.select_related("tenant", "invoice").get(pk=run_id)
    if run.status not in (Run.Status.SUCCEEDED, Run.Status.FAILED):
        return
    tenant = run.tenant
    bind_tenant(tenant.portal_id)
    if tenant.status == Tenant.Status.UNINSTALLED:
        return
    client = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
    if run.deal_written_at is None and run.hubspot_deal_id:
        _write_outcome(client, run)
        Run.objects.filter(pk=run.pk).update(deal_written_at=timezone.now())
    if run.trigger == Run.Trigger.WORKFLOW_ACTION and run.callback_completed_at is None:
        error = ""
        try:
            complete_action_callback(client, run.trigger_id, output_fields(run))
        except HubSpotPermanentError as exc:
            # Expired, already completed, or the scope is missing: the workflow has moved on or
            # will time out; keep why for support, and do not try again.
            error = f"{exc.code}: {exc.detail}"[:200]
            logger.warning("automation run %s: callback not completed (%s)", run.pk, exc.code)
        Run.objects.filter(pk=run.pk).update(callback_completed_at=timezone.now(), callback_error=error)


def _write_outcome(client: HubSpotClient, run: AutomationRun) -> None:
    props = {
        AUTOMATION_STATUS_PROPERTY: "success" if run.status == Run.Status.SUCCEEDED else "failed",
        AUTOMATION_MESSAGE_PROPERTY: run.message("fr"),
    }
    try:
        update_deal(client, run.hubspot_deal_id, props)
    except HubSpotPermanentError as exc:
        if "PROPERTY_DOESNT_EXIST" in (exc.detail or ""):
            from hubspot_app.services import hubspot_setup

            hubspot_setup(tenant_id=run.tenant_id)  # our properties are missing: create them, once
            update_deal(client, run.hubspot_deal_id, props)
            return
        logger.warning("automation run %s: outcome not written on deal (%s)", run.pk, exc.code)


# --- nothing lost -------------------------------------------------------------------------------
STUCK_AFTER = timedelta(minutes=10)
GIVE_UP_AFTER = timedelta(days=3)


def automation_runs_requeue_stuck(*, older_than: timedelta = STUCK_AFTER) -> int:
    """Queue again the step of each run whose task was lost (the steps are safe to run twice)."""
    now = timezone.now()
    recent = Run.objects.filter(updated_at__lt=now - older_than, created_at__gt=now - GIVE_UP_AFTER)
    count = 0
    for run_id in recent.filter(status=Run.Status.RECEIVED).values_list("pk", flat=True)[:500]:
        jobs.automation_run_start(run_id)
        count += 1
    pending = recent.filter(status=Run.Status.PENDING).exclude(invoice__status__in=IN_PROGRESS)
    for invoice_id in pending.values_list("invoice_id", flat=True).distinct()[:500]:
        if invoice_id:
            jobs.invoice_settled(str(invoice_id))
            count += 1
    unreported = recent.filter(status__in=[Run.Status.SUCCEEDED, Run.Status.FAILED]).filter(_unreported())
    for run_id in unreported.values_list("pk", flat=True)[:500]:
        jobs.automation_run_report(run_id)
        count += 1
    if count:
        logger.warning("re-queued %d automation step(s)", count)
    return count


def _unreported() -> Any:
    from django.db.models import Q

    return (Q(deal_written_at__isnull=True) & ~Q(hubspot_deal_id="")) | Q(
        trigger=Run.Trigger.WORKFLOW_ACTION, callback_completed_at__isnull=True
    )
