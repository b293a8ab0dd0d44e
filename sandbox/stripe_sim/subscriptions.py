"""Subscriptions: creation from a completed Checkout, update (price switch, cancel at period end),
cancel now, and the ``customer.subscription.updated`` events that go with them.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.invoices import Invoices
from sandbox.stripe_sim.model import add_interval, render
from sandbox.stripe_sim.params import (
    SUBSCRIPTION_CANCEL_PARAMS,
    SUBSCRIPTION_UPDATE_PARAMS,
    apply_metadata,
    as_bool,
    as_dict,
    as_int,
    check_unknown,
)


class Subscriptions(Invoices):
    """Subscription endpoints."""

    def _create_subscription(
        self, session: dict[str, Any], customer: dict[str, Any], tax_rate: float, reverse: bool, now: int
    ) -> dict[str, Any]:
        sub_id = self._new_id("sub_")
        trial_end = session["_trial_end"] or (
            now + session["_trial_days"] * 86400 if session["_trial_days"] else None
        )
        items = []
        for li in session["_line_items"]:
            price = self.objects[li["price"]]
            if price["type"] != "recurring":
                continue
            end = trial_end or add_interval(
                now, price["recurring"]["interval"], price["recurring"]["interval_count"]
            )
            items.append(
                {
                    "id": self._new_id("si_"),
                    "object": "subscription_item",
                    "billing_thresholds": None,
                    "created": now,
                    "current_period_end": end,
                    "current_period_start": now,
                    "discounts": [],
                    "metadata": {},
                    "price": render(price),
                    "quantity": li["quantity"],
                    "subscription": sub_id,
                    "tax_rates": [],
                }
            )
        payment_method = self._new_id("pm_", 24)
        customer["invoice_settings"]["default_payment_method"] = payment_method
        subscription: dict[str, Any] = {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": session["automatic_tax"]["enabled"],
                "liability": {"type": "self"} if session["automatic_tax"]["enabled"] else None,
            },
            "billing_cycle_anchor": items[0]["current_period_end"] if trial_end else now,
            "billing_cycle_anchor_config": None,
            "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
            "billing_thresholds": None,
            "cancel_at": None,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "cancellation_details": {"comment": None, "feedback": None, "reason": None},
            "collection_method": "charge_automatically",
            "created": now,
            "currency": session["currency"],
            "customer": customer["id"],
            "days_until_due": None,
            "default_payment_method": payment_method,
            "default_source": None,
            "default_tax_rates": [],
            "description": session["_subscription_description"],
            "discounts": [],
            "ended_at": None,
            "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
            "items": {
                "object": "list",
                "data": items,
                "has_more": False,
                "total_count": len(items),
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": None,
            "livemode": False,
            "metadata": dict(session["_subscription_metadata"]),
            "next_pending_invoice_item_invoice": None,
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "schedule": None,
            "start_date": now,
            "status": "trialing" if trial_end else "active",
            "test_clock": None,
            "transfer_data": None,
            "trial_end": trial_end,
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": now if trial_end else None,
            "_tax_rate": tax_rate,
            "_reverse_charge": reverse,
            "_anchor_day": datetime.fromtimestamp(trial_end or now, UTC).day,  # day of billing_cycle_anchor
            "_pending_price": None,
        }
        self._store(subscription)
        lines = [
            self._line(
                subscription,
                item,
                0 if trial_end else None,
                item["current_period_start"],
                item["current_period_end"],
            )
            for item in items
        ]
        invoice = self._create_invoice(subscription, lines, "subscription_create", paid=True)
        subscription["latest_invoice"] = invoice["id"]
        return subscription

    def api_get_subscription(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._get(object_id, "subscription"))

    def api_list_subscriptions(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            items = self._of_kind("subscription")
            status = params.get("status")
            if status is None:
                items = [s for s in items if s["status"] not in ("canceled", "incomplete_expired")]
            elif status == "ended":
                items = [s for s in items if s["status"] in ("canceled", "incomplete_expired")]
            elif status != "all":
                items = [s for s in items if s["status"] == status]
            if "customer" in params:
                items = [s for s in items if s["customer"] == params["customer"]]
            if "price" in params:
                items = [
                    s for s in items if any(i["price"]["id"] == params["price"] for i in s["items"]["data"])
                ]
            return self._list(items, params, "/v1/subscriptions")

        return self._call(request, run)

    def api_update_subscription(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._update_subscription(object_id, params))

    def _update_subscription(self, sub_id: str, params: dict[str, Any]) -> dict[str, Any]:
        sub = self._get(sub_id, "subscription")
        check_unknown(params, SUBSCRIPTION_UPDATE_PARAMS)
        if sub["status"] in ("canceled", "incomplete_expired") and set(params) - {
            "cancellation_details",
            "metadata",
            "expand",
        }:
            raise StripeSimError(
                "A canceled subscription can only update its cancellation_details and metadata.",
                param="items" if "items" in params else None,
            )
        before = copy.deepcopy(sub)
        extra: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        proration = params.get("proration_behavior", "create_prorations")
        if proration not in ("always_invoice", "create_prorations", "none"):
            raise StripeSimError(
                "Invalid proration_behavior: must be one of always_invoice, create_prorations, or none",
                param="proration_behavior",
            )
        if "items" in params:
            raw_items = params["items"]
            if not isinstance(raw_items, list) or not raw_items:
                raise StripeSimError("Invalid array", param="items", code="parameter_invalid_array")
            if len(raw_items) > 1:
                raise StripeSimError("The Stripe sandbox supports one subscription item", param="items")
            item_params = as_dict(raw_items[0], "items[0]")
            check_unknown(
                item_params, ("id", "price", "quantity", "metadata", "deleted", "tax_rates"), "items[0]"
            )
            item_id = item_params.get("id")
            if not item_id:
                raise StripeSimError(
                    "The Stripe sandbox needs `items[0][id]` to change the subscription's item.",
                    param="items[0][id]",
                )
            item = next((i for i in sub["items"]["data"] if i["id"] == item_id), None)
            if item is None:
                raise StripeSimError(
                    f"No such subscription item: '{item_id}'", code="resource_missing", param="items[0][id]"
                )
            if "quantity" in item_params:
                quantity = as_int(item_params["quantity"], "items[0][quantity]")
                if quantity < 1:
                    raise StripeSimError("Quantity must be at least 1", param="items[0][quantity]")
                item["quantity"] = quantity
            if "metadata" in item_params:
                item["metadata"] = apply_metadata(
                    item["metadata"], item_params["metadata"], "items[0][metadata]"
                )
            if item_params.get("price") and item_params["price"] != item["price"]["id"]:
                price = self._get(item_params["price"], "price", param="items[0][price]")
                if price["type"] != "recurring":
                    raise StripeSimError("The price must be recurring", param="items[0][price]")
                invoice = self._change_price(sub, item, price, proration)
                if invoice is not None:
                    extra.append(("invoice.paid", invoice, None))
        if "metadata" in params:
            sub["metadata"] = apply_metadata(sub["metadata"], params["metadata"])
        if "description" in params:
            sub["description"] = params["description"] or None
        if "cancellation_details" in params:
            details = as_dict(params["cancellation_details"], "cancellation_details")
            for key in ("comment", "feedback"):
                if key in details:
                    sub["cancellation_details"][key] = details[key] or None
        if "cancel_at_period_end" in params:
            self._set_cancel_at_period_end(
                sub, as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
            )
        if "cancel_at" in params:
            value = params["cancel_at"]
            if value == "":
                self._set_cancel_at_period_end(sub, False)
            else:
                end = sub["items"]["data"][0]["current_period_end"]
                at = end if value in ("min_period_end", "max_period_end") else as_int(value, "cancel_at")
                sub["cancel_at"] = at
                sub["cancel_at_period_end"] = at == end
                sub["canceled_at"] = self.clock.epoch()
                sub["cancellation_details"]["reason"] = "cancellation_requested"
        self._emit_updated(sub, before, extra)
        return sub

    def _change_price(
        self, sub: dict[str, Any], item: dict[str, Any], price: dict[str, Any], proration: str
    ) -> dict[str, Any] | None:
        """Switch the item's price. An interval change resets the period and invoices now; a same-
        interval change with ``always_invoice`` invoices the prorated difference now. Returns the
        new invoice, if any (paid)."""
        now = self.clock.epoch()
        old_price = item["price"]
        start, end = item["current_period_start"], item["current_period_end"]
        remaining = max(0, end - now) / max(1, end - start)
        old_amount = old_price["unit_amount"] * item["quantity"]
        new_amount = price["unit_amount"] * item["quantity"]
        item["price"] = render(price)
        sub["_pending_price"] = None
        sub["schedule"] = None
        interval_changed = old_price["recurring"]["interval"] != price["recurring"]["interval"]
        in_trial = sub["status"] == "trialing"
        lines: list[dict[str, Any]] = []

        def unused_time() -> dict[str, Any]:  # the credit for the old price's rest of the period
            return self._line(
                sub,
                {**item, "price": old_price},
                -round(old_amount * remaining),
                now,
                end,
                proration=True,
                description=f"Temps non utilisé sur {old_price['id']}",
            )

        if interval_changed and not in_trial:
            new_end = add_interval(now, price["recurring"]["interval"], price["recurring"]["interval_count"])
            item["current_period_start"], item["current_period_end"] = now, new_end
            sub["billing_cycle_anchor"] = now
            sub["_anchor_day"] = datetime.fromtimestamp(now, UTC).day
            if proration != "none":
                lines.append(unused_time())
            lines.append(self._line(sub, item, new_amount, now, new_end))
            billing_reason = "subscription_update"
        elif proration == "always_invoice" and not in_trial:
            lines.append(unused_time())
            lines.append(
                self._line(
                    sub,
                    item,
                    round(new_amount * remaining),
                    now,
                    end,
                    proration=True,
                    description=f"Temps restant sur {price['id']}",
                )
            )
            billing_reason = "subscription_update"
        else:
            return None  # create_prorations / none: nothing invoiced now (pending items not modelled)
        invoice = self._create_invoice(sub, lines, billing_reason, paid=True)
        invoice["parent"]["subscription_details"]["subscription_proration_date"] = now
        sub["latest_invoice"] = invoice["id"]
        if sub["status"] in ("past_due", "unpaid", "incomplete"):
            sub["status"] = "active"
        return invoice

    def _set_cancel_at_period_end(self, sub: dict[str, Any], value: bool) -> None:
        sub["cancel_at_period_end"] = value
        if value:
            sub["cancel_at"] = sub["items"]["data"][0]["current_period_end"]
            sub["canceled_at"] = self.clock.epoch()
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        else:
            sub["cancel_at"] = None
            sub["canceled_at"] = None
            sub["cancellation_details"] = {"comment": None, "feedback": None, "reason": None}

    def api_cancel_subscription(self, request: Request, object_id: str) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            check_unknown(params, SUBSCRIPTION_CANCEL_PARAMS)
            sub = self._get(object_id, "subscription")
            if sub["status"] == "canceled":
                raise StripeSimError(
                    f"No such subscription: '{object_id}'", 404, code="resource_missing", param="id"
                )  # an ended subscription cannot be canceled again
            details = as_dict(params.get("cancellation_details"), "cancellation_details")
            self._cancel_now(
                sub, reason="cancellation_requested", **{k: details.get(k) for k in ("comment", "feedback")}
            )
            return sub

        return self._call(request, run)

    def _cancel_now(
        self,
        sub: dict[str, Any],
        *,
        reason: str,
        at: int | None = None,
        comment: str | None = None,
        feedback: str | None = None,
    ) -> None:
        now = self.clock.epoch()
        sub["status"] = "canceled"
        sub["ended_at"] = at or now
        sub["canceled_at"] = sub["canceled_at"] or now
        sub["cancel_at"] = sub["cancel_at"] if at else None
        sub["cancellation_details"].update(
            {"reason": reason, **{k: v for k, v in (("comment", comment), ("feedback", feedback)) if v}}
        )
        sub["_pending_price"] = None
        sub["schedule"] = None
        self._emit([("customer.subscription.deleted", sub, None)])

    def _emit_updated(
        self,
        sub: dict[str, Any],
        before: dict[str, Any],
        extra: list[tuple[str, dict[str, Any], dict[str, Any] | None]] | None = None,
    ) -> None:
        """``customer.subscription.updated`` with ``previous_attributes`` (top-level fields that
        changed), plus ``extra`` events, if anything changed."""
        previous = {
            k: render(before.get(k)) for k in sub if not k.startswith("_") and before.get(k) != sub.get(k)
        }
        events = list(extra or [])
        if previous:
            events.insert(0, ("customer.subscription.updated", sub, previous))
        self._emit(events)
