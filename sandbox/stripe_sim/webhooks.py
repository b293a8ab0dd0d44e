"""Events and their webhook deliveries: each event is queued in the configured order and posted,
signed like Stripe's (``Stripe-Signature: t=…,v1=…``), by one background thread; every attempt
is recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from sandbox.stripe_sim.base import StripeBase
from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.model import API_VERSION, StripeSimSettings, render
from sandbox.stripe_sim.params import as_bool, as_int


def sign_payload(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header of ``payload`` (the exact string sent)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class Webhooks(StripeBase):
    """Events, the webhook outbox and its Python API."""

    def _emit(self, events: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> list[dict[str, Any]]:
        """Create the events (snapshots of the objects now) and queue them in the configured order."""
        created = []
        for type_, obj, previous in events:
            data: dict[str, Any] = {"object": render(obj)}
            if previous is not None:
                data["previous_attributes"] = previous
            event: dict[str, Any] = {
                "id": self._new_id("evt_", 24),
                "object": "event",
                "api_version": API_VERSION,
                "created": self.clock.epoch(),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": type_,
            }
            self._store(event)
            self.event_order.append(event["id"])
            created.append(event)
        order = self.settings.webhook_order
        if order == "reverse":
            queued = list(reversed(created))
        elif isinstance(order, list):
            rank = {t: i for i, t in enumerate(order)}
            queued = sorted(created, key=lambda e: rank.get(e["type"], len(rank)))
        else:
            queued = created
        for event in queued:
            self._enqueue(event["id"])
        return created

    def _enqueue(self, event_id: str) -> None:
        with self._outbox_cond:
            self._outbox.append((event_id, False))
            if self.settings.webhook_duplicate:
                self._outbox.append((event_id, True))
            self._outbox_cond.notify_all()
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._deliver_loop, name="stripe-webhooks", daemon=True
                )
                self._worker.start()

    def _deliver_loop(self) -> None:
        while True:
            with self._outbox_cond:
                while not self._outbox or self.settings.webhooks_paused:
                    self._outbox_cond.wait()
                event_id, duplicate = self._outbox.popleft()
                self._in_flight += 1
                generation = self._generation
            try:
                self._deliver(event_id, duplicate, generation)
            finally:
                with self._outbox_cond:
                    self._in_flight -= 1
                    self._outbox_cond.notify_all()

    def _deliver(self, event_id: str, duplicate: bool, generation: int) -> None:
        with self.lock:
            event = self.objects.get(event_id)
            if event is None:
                return
            payload = json.dumps(render(event), indent=2, ensure_ascii=False)
            url = self.settings.webhook_url or self.config.effective_stripe_webhook_url
            timestamp = int(time.time()) - self.settings.webhook_delay_s
            timeout = self.settings.webhook_timeout_s
            attempt = sum(1 for d in self.delivery_log if d["event_id"] == event_id) + 1
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign_payload(payload, self.config.stripe_webhook_secret, timestamp),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        body = ""
        try:
            response = requests.post(url, data=payload.encode("utf-8"), headers=headers, timeout=timeout)
            status = response.status_code
            body = response.text[:500]
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        with self.lock:
            if generation != self._generation:
                return
            self.delivery_log.append(
                {
                    "id": f"whd_{len(self.delivery_log) + 1}",
                    "event_id": event_id,
                    "type": event["type"],
                    "url": url,
                    "attempt": attempt,
                    "duplicate": duplicate,
                    "signature_timestamp": timestamp,
                    "status_code": status,
                    "ok": ok,
                    "error": error,
                    "response_body": body,
                    "sent_at": datetime.now(UTC).isoformat(),
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                }
            )
            if ok and event_id in self.objects:
                self.objects[event_id]["pending_webhooks"] = 0

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued webhook was attempted. False on timeout (or while paused)."""
        deadline = time.monotonic() + timeout
        with self._outbox_cond:
            while self._outbox or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._outbox_cond.wait(left)
        return True

    def send_event(
        self, type: str, obj: dict[str, Any], previous_attributes: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send a raw event of any type about ``obj`` (a dict, sent as ``data.object``)."""
        with self.lock:
            return render(self._emit([(type, obj, previous_attributes)])[0])

    def resend(self, event_id: str) -> dict[str, Any]:
        """Deliver an existing event again (same id, same content)."""
        with self.lock:
            event = self._get(event_id, "event")
            self._enqueue(event_id)
            return render(event)

    def retry_failed_deliveries(self) -> list[str]:
        """Queue again every event none of whose attempts succeeded. Returns their ids."""
        with self.lock:
            delivered = {d["event_id"] for d in self.delivery_log if d["ok"]}
            failed = list(
                dict.fromkeys(d["event_id"] for d in self.delivery_log if d["event_id"] not in delivered)
            )
        with self._outbox_cond:
            queued = {e for e, _ in self._outbox}
        retried = [e for e in failed if e not in queued]
        for event_id in retried:
            self._enqueue(event_id)
        return retried

    def deliveries(self, event_id: str | None = None) -> list[dict[str, Any]]:
        """Every webhook delivery attempt so far, oldest first."""
        with self.lock:
            return [dict(d) for d in self.delivery_log if event_id is None or d["event_id"] == event_id]

    def events(self, type: str | None = None) -> list[dict[str, Any]]:
        """Every event created so far, oldest first."""
        with self.lock:
            return [
                render(self.objects[e])
                for e in self.event_order
                if e in self.objects and (type is None or self.objects[e]["type"] == type)
            ]

    def configure(self, **changes: Any) -> StripeSimSettings:
        """Change switches (``StripeSimSettings`` fields); unpausing releases queued webhooks."""
        with self.lock:
            for key, value in changes.items():
                if not hasattr(self.settings, key):
                    raise StripeSimError(f"Unknown Stripe sandbox setting {key!r}")
                setattr(self.settings, key, value)
            settings = self.settings
        with self._outbox_cond:
            self._outbox_cond.notify_all()
        return settings

    def get(self, object_id: str) -> dict[str, Any]:
        """Any object by id, as the API would render it."""
        with self.lock:
            obj = self.objects.get(object_id)
            if obj is None:
                raise StripeSimError(f"No such object: '{object_id}'", 404, code="resource_missing")
            return render(obj)

    def api_get_event(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._get(object_id, "event"))

    def api_list_events(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            items = self._of_kind("event")
            if "type" in params:
                pattern = params["type"]
                if pattern.endswith(".*"):
                    items = [e for e in items if e["type"].startswith(pattern[:-1])]
                else:
                    items = [e for e in items if e["type"] == pattern]
            if "types" in params:
                types = params["types"] if isinstance(params["types"], list) else [params["types"]]
                items = [e for e in items if e["type"] in types]
            if "delivery_success" in params:
                success = as_bool(params["delivery_success"], "delivery_success")
                delivered = {d["event_id"] for d in self.delivery_log if d["ok"]}
                items = [e for e in items if (e["id"] in delivered) == success]
            created = params.get("created")
            if isinstance(created, dict):
                for op, test in (
                    ("gt", int.__gt__),
                    ("gte", int.__ge__),
                    ("lt", int.__lt__),
                    ("lte", int.__le__),
                ):
                    if op in created:
                        bound = as_int(created[op], f"created[{op}]")
                        items = [e for e in items if test(e["created"], bound)]
            elif created is not None:
                items = [e for e in items if e["created"] == as_int(created, "created")]
            return self._list(items, params, "/v1/events")

        return self._call(request, run)
