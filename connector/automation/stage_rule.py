"""The stage rule: "when a deal enters stage X, create invoice Y" — settings and webhook intake.

HubSpot facts (README "Automation"):

- [doc] On the 2026.03 platform the app's ``webhooks`` component subscribes to
  ``object.propertyChange`` for ``objectType: "deal"`` and ``propertyName: "dealstage"``; HubSpot
  POSTs a JSON array of events to ``targetUrl``, signed with the v3 signature (older v1 too).
- [doc] Each event has ``eventId``, ``subscriptionId``, ``portalId``, ``appId``, ``occurredAt``
  (epoch ms), ``subscriptionType``, ``attemptNumber``, ``objectId``, ``changeSource``; a property
  change adds ``propertyName`` / ``propertyValue`` (the new stage id) [doc], and ``objectTypeId``
  ("0-3") for ``object.*`` events [seen]. Legacy ``deal.propertyChange`` events are accepted too.
- [seen] Up to 100 events per POST, possibly of several portals; a delivery without a 2xx within
  ~5 s is retried (up to 10 times over ~24 h) with the same ``eventId``; order is not guaranteed.

Every event is recorded first (``WebhookEvent``, unique per portal and ``eventId``: a retried
event does nothing), then matched against its tenant's rule; a match makes one ``AutomationRun``
whose trigger id is the ``eventId``, started by a worker. Nothing here calls HubSpot, so the
batch is answered within HubSpot's few seconds.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connector import jobs
from connector.models import AutomationRun, StageRule, Tenant
from hubspot_app.models import WebhookEvent

logger = logging.getLogger(__name__)

STAGE_PROPERTY = "dealstage"
DEAL_TYPE_ID = "0-3"
# HubSpot's clock and ours may differ a little: an event this close to the rule's start counts.
CLOCK_SKEW = timedelta(seconds=5)


@dataclasses.dataclass
class BatchSummary:
    received: int = 0
    duplicates: int = 0
    invalid: int = 0
    runs: list[int] = dataclasses.field(default_factory=list)


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def _occurred_at(raw: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(raw) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _attempt(raw: Any) -> int:
    try:
        return max(0, min(int(raw or 0), 1000))
    except (TypeError, ValueError):
        return 0


def is_deal_stage_change(event: dict[str, Any]) -> bool:
    kind = str(event.get("subscriptionType") or "")
    if str(event.get("propertyName") or "") != STAGE_PROPERTY:
        return False
    if kind == "deal.propertyChange":
        return True
    return kind == "object.propertyChange" and str(event.get("objectTypeId") or DEAL_TYPE_ID) == DEAL_TYPE_ID


def webhook_batch_receive(*, events: list[Any]) -> BatchSummary:
    """Record each event once and start a run for each that enters a tenant's rule stage."""
    summary = BatchSummary()
    for raw in events:
        portal = str(raw.get("portalId")) if isinstance(raw, dict) else ""
        event_id = raw.get("eventId") if isinstance(raw, dict) else None
        valid_portal = portal.isascii() and portal.isdecimal() and len(portal) <= 19
        if not isinstance(raw, dict) or not valid_portal or event_id in (None, ""):
            summary.invalid += 1
            continue
        summary.received += 1
        try:
            with transaction.atomic():
                event = WebhookEvent.objects.create(
                    portal_id=int(portal),
                    event_id=_text(event_id, 40),
                    subscription_id=_text(raw.get("subscriptionId"), 40),
                    subscription_type=_text(raw.get("subscriptionType"), 80),
                    object_id=_text(raw.get("objectId"), 32),
                    property_name=_text(raw.get("propertyName"), 100),
                    property_value=_text(raw.get("propertyValue"), 255),
                    change_source=_text(raw.get("changeSource"), 60),
                    occurred_at=_occurred_at(raw.get("occurredAt")),
                    attempt_number=_attempt(raw.get("attemptNumber")),
                    outcome="received",
                )
                event.outcome, run_id = _apply(event, raw)
                event.save(update_fields=["outcome", "tenant"])
        except IntegrityError:
            summary.duplicates += 1  # HubSpot redelivered it: already handled
            continue
        if run_id is not None:
            summary.runs.append(run_id)
    logger.info(
        "webhook batch: %d event(s), %d duplicate(s), %d run(s)",
        summary.received,
        summary.duplicates,
        len(summary.runs),
    )
    return summary


def _apply(event: WebhookEvent, raw: dict[str, Any]) -> tuple[str, int | None]:
    """What the event means for its tenant: an outcome, and the run it started (if any)."""
    tenant = (
        Tenant.objects.filter(portal_id=event.portal_id).exclude(status=Tenant.Status.UNINSTALLED).first()
    )
    if tenant is None:
        return "unknown_portal", None
    event.tenant = tenant
    if not is_deal_stage_change(raw) or not event.object_id.isdecimal():
        return "ignored_type", None
    rule = StageRule.objects.filter(tenant=tenant, enabled=True).first()
    if rule is None:
        return "no_rule", None
    if event.property_value != rule.stage_id:
        return "other_stage", None
    if rule.active_since and event.occurred_at and event.occurred_at < rule.active_since - CLOCK_SKEW:
        return "before_rule", None  # a late redelivery of a change made before the rule existed
    run = AutomationRun.objects.create(
        tenant=tenant,
        trigger=AutomationRun.Trigger.STAGE_RULE,
        trigger_id=event.event_id,
        hubspot_deal_id=event.object_id,
        kind=rule.kind,
        percentage=rule.percentage if rule.kind == "deposit" else None,
    )
    jobs.automation_run_start(run.pk)
    return "run_queued", run.pk


# --- the rule, from the settings page ---------------------------------------------------------------
def stage_rule_for(tenant: Tenant) -> StageRule:
    """The tenant's rule (an unsaved, disabled one when it never set it)."""
    return StageRule.objects.filter(tenant=tenant).first() or StageRule(tenant=tenant)


@transaction.atomic
def stage_rule_save(
    *,
    tenant: Tenant,
    enabled: bool,
    pipeline_id: str = "",
    pipeline_label: str = "",
    stage_id: str = "",
    stage_label: str = "",
    kind: str = "full",
    percentage: Decimal | None = None,
    by_email: str = "",
) -> StageRule:
    """Save the rule (values already validated by the form). Switching it on, or changing what it
    does, restarts ``active_since``: stage changes made before are never acted on."""
    rule = StageRule.objects.select_for_update().filter(tenant=tenant).first() or StageRule(tenant=tenant)
    before = (rule.enabled, rule.stage_id, rule.kind, rule.percentage)
    rule.enabled = enabled
    if stage_id:
        rule.pipeline_id, rule.pipeline_label = pipeline_id[:100], pipeline_label[:255]
        rule.stage_id, rule.stage_label = stage_id[:100], stage_label[:255]
    rule.kind = kind
    rule.percentage = percentage if kind == "deposit" else None
    if enabled and before != (rule.enabled, rule.stage_id, rule.kind, rule.percentage):
        rule.active_since = timezone.now()
    rule.full_clean(exclude=["tenant"])
    rule.save()
    after = (rule.enabled, rule.stage_id, rule.kind, rule.percentage)
    if before != after:  # it makes invoices on its own: who changed it, and to what, is kept
        from connector.audit import audit
        from connector.models import AuditLog

        audit(
            action=AuditLog.Action.STAGE_RULE_CHANGED,
            user_email=by_email,
            tenant=tenant,
            detail={
                "enabled": rule.enabled,
                "stage": f"{rule.pipeline_label} › {rule.stage_label}" if rule.stage_id else "",
                "kind": rule.kind,
                "percentage": str(rule.percentage) if rule.percentage is not None else None,
            },
        )
    logger.info(
        "stage rule of portal %s: %s, stage %s → %s",
        tenant.portal_id,
        "on" if enabled else "off",
        rule.stage_id,
        kind,
    )
    return rule
