"""State, provider hooks and the request plumbing every Stripe resource shares: API key check,
parameters, idempotency keys, lookups, list pages and ``expand``.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hmac
import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import Provider, Sandbox, json_response
from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.model import API_VERSION, FRENCH_VAT_RATE, OBJECT_NAMES, StripeSimSettings, render
from sandbox.stripe_sim.params import as_int, parse_stripe_params


class StripeBase(Provider):
    """What every resource mixin of ``StripeSim`` builds on."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.settings = StripeSimSettings()
        self.objects: dict[str, dict[str, Any]] = {}  # every object by id (events included)
        self.event_order: list[str] = []  # event ids, oldest first
        self.delivery_log: list[dict[str, Any]] = []
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.public_base: str | None = None  # scheme://host:port the product reaches us at
        # Webhook outbox: (event id, duplicate?) in order, drained by one background thread.
        self._outbox: deque[tuple[str, bool]] = deque()
        self._outbox_cond = threading.Condition()
        self._in_flight = 0
        self._generation = 0  # bumped by reset() so stale in-flight deliveries are not recorded
        self._worker: threading.Thread | None = None

    def reset(self) -> None:
        with self.lock:
            self.settings = StripeSimSettings()
            self.objects.clear()
            self.event_order.clear()
            self.delivery_log.clear()
            self.idempotency.clear()
        with self._outbox_cond:
            self._outbox.clear()
            self._generation += 1
            self._outbox_cond.notify_all()

    def dump_state(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(
                {
                    "settings": dataclasses.asdict(self.settings),
                    "objects": self.objects,
                    "event_order": self.event_order,
                    "deliveries": self.delivery_log,
                    "idempotency": self.idempotency,
                    "public_base": self.public_base,
                }
            )

    def load_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.reset()
            self.settings = StripeSimSettings(**data.get("settings", {}))
            self.objects = copy.deepcopy(data.get("objects", {}))
            self.event_order = list(data.get("event_order", []))
            self.delivery_log = copy.deepcopy(data.get("deliveries", []))
            self.idempotency = copy.deepcopy(data.get("idempotency", {}))
            self.public_base = data.get("public_base")

    def error_response(self, status: int, message: str) -> Response:
        kind = "api_error" if status >= 500 else "invalid_request_error"
        code = "rate_limit" if status == 429 else None
        return json_response(StripeSimError(message, status, type=kind, code=code).envelope(), status)

    def before_request(self, request: Request, endpoint: str) -> Response | None:
        if endpoint.startswith("page_"):
            return None
        key = self._api_key_of(request)
        if not key:
            return self._error(
                request,
                StripeSimError(
                    "You did not provide an API key. You need to provide your API key in the Authorization "
                    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                    401,
                ),
            )
        if not hmac.compare_digest(key.encode("utf-8"), self.config.stripe_secret_key.encode("utf-8")):
            shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:] if len(key) > 12 else "***"
            return self._error(request, StripeSimError(f"Invalid API Key provided: {shown}", 401))
        return None

    @staticmethod
    def _api_key_of(request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return value.strip() or None
        if scheme.lower() == "basic":
            try:
                user = base64.b64decode(value.strip()).decode("utf-8").partition(":")[0]
            except ValueError:
                return None
            return user or None
        return None

    def _params(self, request: Request) -> dict[str, Any]:
        pairs = list(request.args.items(multi=True))
        if request.method == "POST":
            pairs += list(request.form.items(multi=True))
        return parse_stripe_params(pairs)

    def _headers(self, request: Request) -> dict[str, str]:
        return {
            "Request-Id": self.ids.token("req_", 14),
            "Stripe-Version": request.headers.get("Stripe-Version") or API_VERSION,
        }

    def _error(self, request: Request, exc: StripeSimError) -> Response:
        return json_response(exc.envelope(), exc.status, self._headers(request))

    def _call(self, request: Request, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
        """Parse, run ``fn(params)`` under the lock, render, expand; idempotency for POST."""
        try:
            params = self._params(request)
        except StripeSimError as exc:
            return self._error(request, exc)
        headers = self._headers(request)
        idem_key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        with self.lock:
            self.public_base = request.host_url.rstrip("/")
            fingerprint = json.dumps([request.method, request.path, params], sort_keys=True)
            if idem_key:
                if len(idem_key) > 255:
                    return self._error(
                        request, StripeSimError("Idempotency-Key must be at most 255 characters", 400)
                    )
                saved = self.idempotency.get(idem_key)
                if saved is not None:
                    if saved["fingerprint"] != fingerprint:
                        return self._error(
                            request,
                            StripeSimError(
                                "Keys for idempotent requests can only be used with the same parameters they "
                                f"were first used with. Try using a key other than '{idem_key}' if you meant "
                                "to execute a different request.",
                                400,
                                type="idempotency_error",
                            ),
                        )
                    headers.update(
                        {
                            "Idempotent-Replayed": "true",
                            "Original-Request": saved["request_id"],
                            "Idempotency-Key": idem_key,
                        }
                    )
                    return Response(
                        saved["body"],
                        status=saved["status"],
                        headers=headers,
                        content_type="application/json; charset=utf-8",
                    )
            try:
                result = fn(params)
                body = self._expand(render(result), params.get("expand"))
            except StripeSimError as exc:
                return self._error(request, exc)
            text = json.dumps(body, ensure_ascii=False)
            if idem_key:
                # Only requests that ran are saved (validation errors are not), as Stripe does.
                self.idempotency[idem_key] = {
                    "fingerprint": fingerprint,
                    "status": 200,
                    "body": text,
                    "request_id": headers["Request-Id"],
                }
                headers["Idempotency-Key"] = idem_key
        return Response(text, status=200, headers=headers, content_type="application/json; charset=utf-8")

    def _get(self, object_id: str, kind: str, param: str | None = None) -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != kind or obj.get("deleted"):
            if param is not None:  # a reference inside a request body: 400, like Stripe
                raise StripeSimError(
                    f"No such {OBJECT_NAMES[kind]}: '{object_id}'", 400, code="resource_missing", param=param
                )
            raise StripeSimError(
                f"No such {OBJECT_NAMES[kind]}: '{object_id}'", 404, code="resource_missing", param="id"
            )
        return obj

    def _of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o.get("object") == kind and not o.get("deleted")]

    def _list(self, items: list[dict[str, Any]], params: dict[str, Any], url: str) -> dict[str, Any]:
        """A Stripe list page: newest first, ``limit`` (1–100), ``starting_after`` / ``ending_before``."""
        items = sorted(items, key=lambda o: (o.get("created", 0), o.get("_seq", 0)), reverse=True)
        limit = as_int(params.get("limit", 10), "limit")
        if not 1 <= limit <= 100:
            raise StripeSimError("Invalid limit: must be between 1 and 100", param="limit")
        ids = [o["id"] for o in items]
        if params.get("starting_after"):
            after = params["starting_after"]
            if after not in ids:
                raise StripeSimError(
                    f"No such object: '{after}'", code="resource_missing", param="starting_after"
                )
            page = items[ids.index(after) + 1 :][:limit]
            has_more = len(items) > ids.index(after) + 1 + limit
        elif params.get("ending_before"):
            before = params["ending_before"]
            if before not in ids:
                raise StripeSimError(
                    f"No such object: '{before}'", code="resource_missing", param="ending_before"
                )
            head = items[: ids.index(before)]
            page = head[-limit:]
            has_more = len(head) > limit
        else:
            page = items[:limit]
            has_more = len(items) > limit
        return {"object": "list", "data": page, "has_more": has_more, "url": url}

    def _expand(self, obj: Any, paths: Any) -> Any:
        if not paths:
            return obj
        if isinstance(paths, str):
            paths = [paths]
        for path in paths:
            self._expand_path(obj, str(path).split("."), str(path))
        return obj

    def _expand_path(self, obj: Any, parts: list[str], full: str) -> None:
        if not isinstance(obj, dict) or not parts:
            return
        if obj.get("object") in ("list", "search_result") and parts[0] == "data":
            for item in obj.get("data", []):
                self._expand_path(item, parts[1:], full)
            return
        head, rest = parts[0], parts[1:]
        if head == "line_items" and obj.get("object") == "checkout.session":
            obj["line_items"] = self._line_items_list(self.objects[obj["id"]])
        elif head == "subscriptions" and obj.get("object") == "customer":
            subs = [s for s in self._of_kind("subscription") if s["customer"] == obj["id"]]
            obj["subscriptions"] = render(
                self._list(subs, {"limit": 100}, f"/v1/customers/{obj['id']}/subscriptions")
            )
        elif head not in obj:
            raise StripeSimError(f"This property cannot be expanded ({full}).", param="expand")
        value = obj.get(head)
        if isinstance(value, str):
            target = self.objects.get(value)
            if target is None:
                raise StripeSimError(f"This property cannot be expanded ({full}).", param="expand")
            obj[head] = value = render(target)
        if rest:
            if isinstance(value, list):
                for item in value:
                    self._expand_path(item, rest, full)
            else:
                self._expand_path(value, rest, full)

    def _new_id(self, prefix: str, length: int = 14) -> str:
        return self.ids.token(prefix, length)

    def _store(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj["_seq"] = self.ids.sequence("stripe-objects")
        self.objects[obj["id"]] = obj
        return obj

    def _base(self) -> str:
        return self.public_base or self.config.base_url

    def _line_items_list(self, session: dict[str, Any]) -> dict[str, Any]:
        data = []
        for i, li in enumerate(session["_line_items"]):
            price = self.objects[li["price"]]
            amount = price["unit_amount"] * li["quantity"]
            tax = round(amount * session.get("_tax_rate", self._session_tax_rate(session)))
            data.append(
                {
                    "id": f"li_{session['id'][-16:]}{i}",
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": amount,
                    "amount_tax": tax,
                    "amount_total": amount + tax,
                    "currency": price["currency"],
                    "description": self.objects.get(price["product"], {}).get("name", price["product"]),
                    "price": render(price),
                    "quantity": li["quantity"],
                }
            )
        return {
            "object": "list",
            "data": data,
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items",
        }

    @staticmethod
    def _session_tax_rate(session: dict[str, Any]) -> float:
        return FRENCH_VAT_RATE if session["automatic_tax"]["enabled"] else 0.0
