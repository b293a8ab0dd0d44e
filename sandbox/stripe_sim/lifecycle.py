"""What happens to a subscription over time, driven by tests: failed payments and retries,
renewals, paid invoices, cancellation, plan switches, the end of a period, forced statuses.
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.model import RETRY_DELAY_S, SUBSCRIPTION_STATUSES, add_interval, render
from sandbox.stripe_sim.subscriptions import Subscriptions


class Lifecycle(Subscriptions):
    """The subscription lifecycle as a Python API."""

    def _sub(self, subscription_id: str) -> dict[str, Any]:
        return self._get(subscription_id, "subscription")

    def _billable_sub(self, subscription_id: str) -> dict[str, Any]:
        """A subscription that can still be billed (not canceled or expired; 409 otherwise)."""
        sub = self._sub(subscription_id)
        if sub["status"] in ("canceled", "incomplete_expired"):
            raise StripeSimError(f"Subscription {subscription_id} is {sub['status']}", 409)
        return sub

    def _open_invoice(self, sub: dict[str, Any]) -> dict[str, Any] | None:
        latest = self.objects.get(sub.get("latest_invoice") or "")
        return latest if latest is not None and latest["status"] == "open" else None

    def _advance_period(self, sub: dict[str, Any]) -> list[dict[str, Any]]:
        """Start the next period (applying a scheduled price); the lines to invoice for it."""
        lines = []
        if sub["_pending_price"]:
            sub["items"]["data"][0]["price"] = render(self.objects[sub["_pending_price"]])
            sub["_pending_price"] = None
            sub["schedule"] = None
        for item in sub["items"]["data"]:
            recurring = item["price"]["recurring"]
            start = item["current_period_end"]
            end = add_interval(start, recurring["interval"], recurring["interval_count"], sub["_anchor_day"])
            item["current_period_start"], item["current_period_end"] = start, end
            lines.append(self._line(sub, item, None, start, end))
        if sub["status"] == "trialing":
            sub["status"] = "active"
        return lines

    def fail_payment(self, subscription_id: str) -> dict[str, Any]:
        """A renewal payment fails: a new open invoice for the next period (or the open one gets one
        more attempt), status ``past_due``; sends ``invoice.payment_failed`` (+ ``…updated``)."""
        with self.lock:
            sub = self._billable_sub(subscription_id)
            before = copy.deepcopy(sub)
            invoice = self._open_invoice(sub)
            if invoice is None:
                lines = self._advance_period(sub)
                invoice = self._create_invoice(sub, lines, "subscription_cycle", paid=False)
                sub["latest_invoice"] = invoice["id"]
            else:
                invoice["attempt_count"] += 1
                invoice["attempted"] = True
                invoice["next_payment_attempt"] = self.clock.epoch() + RETRY_DELAY_S
            if sub["status"] in ("active", "trialing"):
                sub["status"] = "past_due"
            self._emit_updated(sub, before, [("invoice.payment_failed", invoice, None)])
            return render(invoice)

    def _pay_open_invoice(self, sub: dict[str, Any], invoice: dict[str, Any]) -> None:
        now = self.clock.epoch()
        invoice.update(
            {
                "status": "paid",
                "amount_paid": invoice["amount_due"],
                "amount_remaining": 0,
                "attempt_count": invoice["attempt_count"] + 1,
                "attempted": True,
                "next_payment_attempt": None,
                "auto_advance": False,
            }
        )
        invoice["status_transitions"]["paid_at"] = now
        if sub["status"] in ("past_due", "unpaid", "incomplete"):
            sub["status"] = "active"

    def renew(self, subscription_id: str) -> dict[str, Any]:
        """A successful renewal: pays the open invoice if there is one (``past_due``/``unpaid`` →
        ``active``), else starts the next period with a paid invoice. Sends ``invoice.paid`` and
        ``customer.subscription.updated``."""
        with self.lock:
            sub = self._billable_sub(subscription_id)
            before = copy.deepcopy(sub)
            invoice = self._open_invoice(sub)
            if invoice is not None:
                self._pay_open_invoice(sub, invoice)
            else:
                lines = self._advance_period(sub)
                invoice = self._create_invoice(sub, lines, "subscription_cycle", paid=True)
                sub["latest_invoice"] = invoice["id"]
                if sub["status"] in ("past_due", "unpaid"):
                    sub["status"] = "active"
            self._emit_updated(sub, before, [("invoice.paid", invoice, None)])
            return render(sub)

    def pay_invoice(self, invoice_id: str) -> dict[str, Any]:
        """Pay an open invoice (hosted invoice page); its subscription becomes active."""
        with self.lock:
            invoice = self._get(invoice_id, "invoice")
            if invoice["status"] != "open":
                raise StripeSimError(f"Invoice is already {invoice['status']}.", 400, code="invoice_not_open")
            sub = self._sub(invoice["parent"]["subscription_details"]["subscription"])
            before = copy.deepcopy(sub)
            self._pay_open_invoice(sub, invoice)
            self._emit_updated(sub, before, [("invoice.paid", invoice, None)])
            return render(invoice)

    def cancel(
        self, subscription_id: str, at_period_end: bool = True, *, comment: str | None = None
    ) -> dict[str, Any]:
        """At period end: ``cancel_at_period_end`` (``…updated``); else now: ``canceled`` (``…deleted``)."""
        with self.lock:
            sub = self._sub(subscription_id)
            if sub["status"] == "canceled":
                raise StripeSimError(f"Subscription {subscription_id} is already canceled", 409)
            if at_period_end:
                before = copy.deepcopy(sub)
                self._set_cancel_at_period_end(sub, True)
                if comment:
                    sub["cancellation_details"]["comment"] = comment
                self._emit_updated(sub, before)
            else:
                self._cancel_now(sub, reason="cancellation_requested", comment=comment)
            return render(sub)

    def uncancel(self, subscription_id: str) -> dict[str, Any]:
        """Undo a cancellation at period end (``…updated``)."""
        with self.lock:
            sub = self._sub(subscription_id)
            if sub["status"] == "canceled":
                raise StripeSimError(f"Subscription {subscription_id} is already canceled", 409)
            before = copy.deepcopy(sub)
            self._set_cancel_at_period_end(sub, False)
            self._emit_updated(sub, before)
            return render(sub)

    def switch_plan(
        self,
        subscription_id: str,
        price_id: str,
        proration_behavior: str = "always_invoice",
        *,
        at_period_end: bool = False,
    ) -> dict[str, Any]:
        """Change the price now (like ``POST /v1/subscriptions/{id}`` with ``items[0][price]``), or at
        the period end (like the portal's schedule for a shorter interval)."""
        with self.lock:
            sub = self._sub(subscription_id)
            if sub["status"] == "canceled":
                raise StripeSimError(f"Subscription {subscription_id} is canceled", 409)
            price = self._get(price_id, "price")
            if at_period_end:
                before = copy.deepcopy(sub)
                sub["_pending_price"] = price["id"]
                sub["schedule"] = sub["schedule"] or self._new_id("sub_sched_")
                self._emit_updated(sub, before)
                return render(sub)
            item_id = sub["items"]["data"][0]["id"]
            return render(
                self._update_subscription(
                    subscription_id,
                    {"items": [{"id": item_id, "price": price_id}], "proration_behavior": proration_behavior},
                )
            )

    def end_period(
        self, subscription_id: str, *, payment_succeeds: bool = True, advance_clock: bool = False
    ) -> dict[str, Any]:
        """The current period ends: canceled (``…deleted``) if set to cancel at period end, else a
        renewal (``renew`` or, with ``payment_succeeds=False``, ``fail_payment``). With
        ``advance_clock`` the shared sandbox clock first moves to the period end."""
        with self.lock:
            sub = self._sub(subscription_id)
            if sub["status"] == "canceled":
                raise StripeSimError(f"Subscription {subscription_id} is already canceled", 409)
            period_end = sub["items"]["data"][0]["current_period_end"]
            if advance_clock and self.clock.epoch() < period_end:
                self.clock.advance(period_end - self.clock.epoch())
            if sub["cancel_at_period_end"] or (sub["cancel_at"] and sub["cancel_at"] <= period_end):
                self._cancel_now(sub, reason="cancellation_requested", at=sub["cancel_at"] or period_end)
                return render(sub)
            if not payment_succeeds:
                self.fail_payment(subscription_id)
                return render(sub)
            return self.renew(subscription_id)

    def set_status(self, subscription_id: str, status: str, *, send: bool = True) -> dict[str, Any]:
        """Force a status; sends ``…updated`` (``…deleted`` for ``canceled``) unless ``send=False``."""
        if status not in SUBSCRIPTION_STATUSES:
            raise StripeSimError(f"Unknown subscription status {status!r}")
        with self.lock:
            sub = self._sub(subscription_id)
            before = copy.deepcopy(sub)
            sub["status"] = status
            if status == "canceled":
                now = self.clock.epoch()
                sub["ended_at"] = sub["ended_at"] or now
                sub["canceled_at"] = sub["canceled_at"] or now
            if send:
                if status == "canceled":
                    self._emit([("customer.subscription.deleted", sub, None)])
                else:
                    self._emit_updated(sub, before)
            return render(sub)

    def mark_unpaid(self, subscription_id: str) -> dict[str, Any]:
        """Retries exhausted: the subscription becomes ``unpaid`` (a failed renewal first if none)."""
        with self.lock:
            sub = self._sub(subscription_id)
            if self._open_invoice(sub) is None:
                self.fail_payment(subscription_id)
            before = copy.deepcopy(sub)
            invoice = self._open_invoice(sub)
            if invoice is not None:
                invoice["next_payment_attempt"] = None
            sub["status"] = "unpaid"
            self._emit_updated(sub, before)
            return render(sub)
