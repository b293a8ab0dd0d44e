"""Read-only admin for support: what Stripe told us, and a replay for what failed.

Rows are never edited by hand: billing state is only written by the sync (which re-reads Stripe),
so the actions below call services instead. Each is audited with the staff user who ran it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing import services
from billing.models import StripeEvent, Subscription
from connector.audit import Action, audit
from connector.exceptions import BillingError


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "tenant",
        "status",
        "plan",
        "current_period_end",
        "cancel_at_period_end",
        "grace_until",
        "last_synced_at",
    )
    list_filter = ("status", "plan", "cancel_at_period_end")
    search_fields = ("stripe_customer_id", "stripe_subscription_id", "tenant__portal_id", "tenant__name")
    list_select_related = ("tenant",)
    raw_id_fields = ("tenant",)
    actions = ["resync_from_stripe"]

    def has_resync_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.change_subscription")

    @admin.action(description=_("Re-synchroniser depuis Stripe"), permissions=["resync"])
    def resync_from_stripe(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        done = 0
        for row in queryset.select_related("tenant"):
            if not row.stripe_subscription_id:
                continue
            try:
                services.subscription_sync_from_stripe(
                    subscription_id=row.stripe_subscription_id, tenant=row.tenant
                )
            except BillingError as exc:
                outcome = {"ok": False, "code": exc.code}
                self.message_user(request, f"{row.tenant}: {exc.user_message}", messages.ERROR)
            else:
                outcome = {"ok": True}
                done += 1
            audit(
                action=Action.SUBSCRIPTION_RESYNCED,
                user=request.user,
                tenant=row.tenant,
                detail={"subscription_id": row.stripe_subscription_id, **outcome},
            )
        self.message_user(
            request,
            ngettext("%(n)d abonnement re-synchronisé.", "%(n)d abonnements re-synchronisés.", done)
            % {"n": done},
        )


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("id", "type", "status", "tenant", "created", "attempts", "processed_at")
    list_filter = ("status", "type", "livemode")
    search_fields = ("id", "type", "tenant__portal_id")
    list_select_related = ("tenant",)
    raw_id_fields = ("tenant",)
    date_hierarchy = "created"
    readonly_fields = (
        "id",
        "type",
        "status",
        "tenant",
        "api_version",
        "created",
        "livemode",
        "attempts",
        "processed_at",
        "error",
        "payload",
        "created_at",
        "updated_at",
    )
    actions = ["replay_events"]

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("billing.change_stripeevent")

    @admin.action(description=_("Rejouer les événements sélectionnés"), permissions=["replay"])
    def replay_events(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        results = services.stripe_events_replay(event_ids=list(queryset.values_list("id", flat=True)))
        failed = [e for e in results if e.status == StripeEvent.Status.FAILED]
        for event in results:
            audit(
                action=Action.STRIPE_EVENT_REPLAYED,
                user=request.user,
                tenant=event.tenant,
                detail={"event_id": event.id, "type": event.type, "status": event.status},
            )
        ok = len(results) - len(failed)
        self.message_user(
            request, ngettext("%(n)d événement rejoué.", "%(n)d événements rejoués.", ok) % {"n": ok}
        )
        for event in failed:
            self.message_user(request, f"{event.id}: {event.error}", messages.ERROR)
