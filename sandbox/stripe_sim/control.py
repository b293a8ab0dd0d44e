"""The control routes under ``/_sim/stripe`` (no auth; never part of Stripe)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response, read_json
from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.hosted import HostedPages
from sandbox.stripe_sim.portal import Portal


class Control(HostedPages, Portal):
    """The Python API over HTTP."""

    def _control(self, request: Request, fn: Callable[[dict[str, Any]], Any], status: int = 200) -> Response:
        try:
            body = read_json(request) or {}
        except ValueError:
            return json_response({"error": "body is not JSON"}, 400)
        if not isinstance(body, dict):
            return json_response({"error": "body must be a JSON object"}, 400)
        try:
            return json_response(fn(body), status)
        except StripeSimError as exc:
            return json_response({"error": exc.message}, exc.status)
        except TypeError as exc:
            return json_response({"error": str(exc)}, 400)

    def ctl_summary(self, request: Request) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            with self.lock:
                counts: dict[str, int] = {}
                for obj in self.objects.values():
                    counts[obj["object"]] = counts.get(obj["object"], 0) + 1
                return {
                    "settings": dataclasses.asdict(self.settings),
                    "webhook_url": self.settings.webhook_url or self.config.effective_stripe_webhook_url,
                    "counts": counts,
                    "deliveries": len(self.delivery_log),
                    "queued": len(self._outbox),
                }

        return self._control(request, run)

    def ctl_settings(self, request: Request) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            if request.method == "POST":
                self.configure(**body)
            return dataclasses.asdict(self.settings)

        return self._control(request, run)

    def ctl_checkout_pay(self, request: Request, object_id: str) -> Response:
        return self._control(
            request,
            lambda b: self.complete_checkout(
                object_id,
                email=b.get("email"),
                name=b.get("name"),
                vat_number=b.get("vat_number"),
                address=b.get("address"),
            ),
        )

    def ctl_checkout_decline(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.decline_checkout(object_id))

    def ctl_checkout_expire(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.expire_checkout(object_id))

    def ctl_fail_payment(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.fail_payment(object_id))

    def ctl_renew(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.renew(object_id))

    def ctl_cancel(self, request: Request, object_id: str) -> Response:
        return self._control(
            request,
            lambda b: self.cancel(
                object_id, at_period_end=bool(b.get("at_period_end", True)), comment=b.get("comment")
            ),
        )

    def ctl_uncancel(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.uncancel(object_id))

    def ctl_switch_plan(self, request: Request, object_id: str) -> Response:
        return self._control(
            request,
            lambda b: self.switch_plan(
                object_id,
                b["price"],
                b.get("proration_behavior", "always_invoice"),
                at_period_end=bool(b.get("at_period_end", False)),
            ),
        )

    def ctl_end_period(self, request: Request, object_id: str) -> Response:
        return self._control(
            request,
            lambda b: self.end_period(
                object_id,
                payment_succeeds=bool(b.get("payment_succeeds", True)),
                advance_clock=bool(b.get("advance_clock", False)),
            ),
        )

    def ctl_set_status(self, request: Request, object_id: str) -> Response:
        return self._control(
            request, lambda b: self.set_status(object_id, b["status"], send=bool(b.get("send", True)))
        )

    def ctl_mark_unpaid(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.mark_unpaid(object_id))

    def ctl_pay_invoice(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.pay_invoice(object_id))

    def ctl_send_event(self, request: Request) -> Response:
        return self._control(
            request,
            lambda b: self.send_event(b["type"], b.get("object") or {}, b.get("previous_attributes")),
            201,
        )

    def ctl_list_events(self, request: Request) -> Response:
        return self._control(request, lambda b: {"events": self.events(request.args.get("type"))})

    def ctl_resend(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.resend(object_id))

    def ctl_deliveries(self, request: Request) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            if request.method == "DELETE":
                with self.lock:
                    self.delivery_log.clear()
                return {"cleared": True}
            return {"deliveries": self.deliveries(request.args.get("event_id"))}

        return self._control(request, run)

    def ctl_retry(self, request: Request) -> Response:
        return self._control(request, lambda b: {"retried": self.retry_failed_deliveries()})

    def ctl_flush(self, request: Request) -> Response:
        return self._control(request, lambda b: {"flushed": self.flush(float(b.get("timeout", 5.0)))})

    def ctl_object(self, request: Request, object_id: str) -> Response:
        return self._control(request, lambda b: self.get(object_id))
