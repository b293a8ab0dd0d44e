"""Stripe simulator: the v1 endpoints the connector calls, a hosted Checkout, a Customer Portal
and signed webhooks, all in memory and offline.

Mounted under ``/stripe``: the product's ``StripeClient(api_key, base_addresses={"api":
"http://host:port/stripe"})`` calls ``/stripe/v1/...`` (the SDK concatenates the base address and
the path, so the path prefix is kept). Objects follow API version ``2026-10-28.endive``:
billing periods live on subscription items, invoices point to their subscription through
``parent.subscription_details``.

Browser pages (no API key): ``/stripe/checkout/<cs_id>`` (hosted Checkout),
``/stripe/portal/<bps_id>`` (Customer Portal) and ``/stripe/invoice/<in_id>`` (hosted invoice).

Webhooks are signed like Stripe's (``Stripe-Signature: t=…,v1=…``) and posted from one background
thread, in order, to ``config.effective_stripe_webhook_url``; every attempt is recorded. Test
switches (order, old timestamps, duplicates, pause) are in ``StripeSimSettings``.

Python control API (tests): ``complete_checkout``, ``decline_checkout``, ``expire_checkout``,
``fail_payment``, ``renew``, ``pay_invoice``, ``cancel``, ``uncancel``, ``switch_plan``,
``end_period``, ``set_status``, ``mark_unpaid``, ``send_event``, ``resend``, ``deliveries``,
``retry_failed_deliveries``, ``flush``, ``configure``. The same under ``/_sim/stripe/...``.
"""

from __future__ import annotations

import base64
import calendar
import copy
import dataclasses
import hashlib
import hmac
import html
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import Provider, Sandbox, json_response, read_json
from sandbox.demo import (
    STRIPE_PRICE_ANNUAL,
    STRIPE_PRICE_ANNUAL_CENTS,
    STRIPE_PRICE_MONTHLY,
    STRIPE_PRICE_MONTHLY_CENTS,
    STRIPE_PRODUCT_ID,
)

API_VERSION = "2026-10-28.endive"
FRENCH_VAT_RATE = 0.20
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
DEFAULT_CHECKOUT_EVENT_ORDER = ("checkout.session.completed", "customer.subscription.created", "invoice.paid")
SUBSCRIPTION_STATUSES = frozenset(
    {"active", "canceled", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid"}
)
RETRY_DELAY_S = 3 * 86400  # next_payment_attempt after a failed attempt (Smart Retries, roughly)
PORTAL_CONFIGURATION_ID = "bpc_sandbox_default"

# Top-level parameters Stripe accepts (from stripe 16.1.0's typed params); others are rejected
# with "Received unknown parameter", as Stripe does.
CHECKOUT_CREATE_PARAMS = frozenset(
    {
        "adaptive_pricing", "after_expiration", "allow_promotion_codes", "allowed_payment_method_types",
        "automatic_tax", "billing_address_collection", "branding_settings", "cancel_url",
        "client_reference_id", "consent_collection", "currency", "custom_fields", "custom_text",
        "customer", "customer_account", "customer_creation", "customer_email", "customer_update",
        "discounts", "excluded_payment_method_types", "expand", "expires_at", "integration_identifier",
        "invoice_creation", "line_items", "locale", "managed_payments", "metadata", "mode",
        "name_collection", "optional_items", "origin_context", "payment_intent_data",
        "payment_method_collection", "payment_method_configuration", "payment_method_data",
        "payment_method_options", "permissions", "phone_number_collection", "redirect_on_completion",
        "return_url", "saved_payment_method_options", "setup_intent_data", "shipping_address_collection",
        "shipping_options", "submit_type", "subscription_data", "success_url", "tax_id_collection",
        "ui_mode", "wallet_options",
    }
)  # fmt: skip
CUSTOMER_PARAMS = frozenset(
    {
        "address", "balance", "business_name", "cash_balance", "default_source", "description", "email",
        "expand", "individual_name", "invoice_prefix", "invoice_settings", "metadata", "name",
        "next_invoice_sequence", "payment_method", "phone", "preferred_locales", "shipping", "source",
        "tax", "tax_exempt", "tax_id_data", "test_clock", "validate",
    }
)  # fmt: skip
SUBSCRIPTION_UPDATE_PARAMS = frozenset(
    {
        "add_invoice_items", "application_fee_percent", "automatic_tax", "billing_cycle_anchor",
        "billing_schedules", "billing_thresholds", "cancel_at", "cancel_at_period_end",
        "cancellation_details", "collection_method", "days_until_due", "default_payment_method",
        "default_source", "default_tax_rates", "description", "discounts", "expand", "invoice_settings",
        "items", "metadata", "off_session", "on_behalf_of", "pause_collection", "payment_behavior",
        "payment_settings", "pending_invoice_item_interval", "proration_behavior", "proration_date",
        "transfer_data", "trial_end", "trial_from_plan", "trial_settings",
    }
)  # fmt: skip
SUBSCRIPTION_CANCEL_PARAMS = frozenset({"cancellation_details", "expand", "invoice_now", "prorate"})
PORTAL_CREATE_PARAMS = frozenset(
    {
        "configuration",
        "customer",
        "customer_account",
        "expand",
        "flow_data",
        "locale",
        "on_behalf_of",
        "return_url",
    }
)

ID_PREFIXES = {
    "cus_": "customer",
    "cs_": "checkout.session",
    "sub_": "subscription",
    "in_": "invoice",
    "price_": "price",
    "prod_": "product",
    "bps_": "billing_portal.session",
    "evt_": "event",
}
OBJECT_NAMES = {
    "customer": "customer",
    "checkout.session": "checkout session",
    "subscription": "subscription",
    "invoice": "invoice",
    "price": "price",
    "product": "product",
    "billing_portal.session": "billing portal session",
    "event": "event",
}


class StripeSimError(Exception):
    """A Stripe API error (rendered as Stripe's envelope) or an invalid control call."""

    def __init__(
        self,
        message: str,
        status: int = 400,
        *,
        code: str | None = None,
        param: str | None = None,
        type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param
        self.type = type

    def envelope(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


@dataclasses.dataclass
class StripeSimSettings:
    """Test switches of the simulator (``configure(**kw)`` or ``POST /_sim/stripe/settings``)."""

    # Order of the events of one action: "default", "reverse", or a list of event types (listed
    # types first, in that order; the others keep their relative order after them).
    webhook_order: str | list[str] = "default"
    webhook_delay_s: int = 0  # sign with a timestamp this many seconds old (300 s tolerance)
    webhook_duplicate: bool = False  # deliver every event twice (same id, same payload)
    webhooks_paused: bool = False  # queue deliveries without sending them until unpaused
    webhook_url: str | None = None  # overrides config.effective_stripe_webhook_url
    webhook_timeout_s: float = 10.0
    # Portal: a switch to a shorter interval (annual → monthly) waits for the period end, like the
    # portal's ``schedule_at_period_end.conditions=[shortening_interval]``.
    portal_downgrade_at_period_end: bool = True


# --- form parsing -------------------------------------------------------------------------------


def parse_stripe_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket notation to nested data: ``a[b][0][c]=v`` → ``{"a": {"b": [{"c": "v"}]}}``.

    ``x[]=1&x[]=2`` appends; dicts whose keys are all digits become lists (except metadata).
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        head, bracket, rest = key.partition("[")
        tokens = [head]
        if bracket:
            if not rest.endswith("]"):
                raise StripeSimError(f"Invalid parameter name: {key}", param=key)
            tokens += rest[:-1].split("][")
        node: dict[str, Any] = root
        for i, token in enumerate(tokens):
            tok = token if token != "" else str(len(node))
            if i == len(tokens) - 1:
                node[tok] = value
            else:
                child = node.setdefault(tok, {})
                if not isinstance(child, dict):
                    raise StripeSimError(f"Invalid parameter: {key} mixes a value and a hash", param=key)
                node = child
    return _listify(root, "")


def _listify(node: Any, parent_key: str) -> Any:
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v, k) for k, v in node.items()}
    if out and parent_key != "metadata" and all(k.isdigit() for k in out):
        return [out[k] for k in sorted(out, key=int)]
    return out


def _bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "True", "1"):
        return True
    if value in ("false", "False", "0"):
        return False
    raise StripeSimError(f"Invalid boolean: {value}", param=param, code="parameter_invalid_boolean")


def _int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeSimError(
            f"Invalid integer: {value}", param=param, code="parameter_invalid_integer"
        ) from None


def _dict(value: Any, param: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeSimError(f"Invalid hash for {param}", param=param, code="parameter_invalid_hash")
    return value


def _check_unknown(params: dict[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    allowed_set = set(allowed)
    for key in params:
        if key not in allowed_set:
            name = f"{prefix}[{key}]" if prefix else key
            raise StripeSimError(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")


def _missing(param: str) -> StripeSimError:
    return StripeSimError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def _check_url(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise _missing(param)
    parts = urlsplit(value.replace("{CHECKOUT_SESSION_ID}", "x"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StripeSimError("Not a valid URL", param=param, code="url_invalid")
    return value


def _apply_metadata(current: dict[str, str], update: Any, param: str = "metadata") -> dict[str, str]:
    """Stripe's metadata update: merge, an empty value deletes the key, ``metadata=""`` clears all."""
    if update == "":
        return {}
    new = dict(current)
    for key, value in _dict(update, param).items():
        if len(key) > 40:
            raise StripeSimError(
                f"Invalid metadata: keys can be at most 40 characters ({key!r})", param=f"{param}[{key}]"
            )
        if not isinstance(value, str):
            raise StripeSimError(f"Invalid metadata value for {key!r}", param=f"{param}[{key}]")
        if len(value) > 500:
            raise StripeSimError(
                f"Invalid metadata: values can be at most 500 characters ({key!r})", param=f"{param}[{key}]"
            )
        if value == "":
            new.pop(key, None)
        else:
            new[key] = value
    if len(new) > 50:
        raise StripeSimError("Invalid metadata: at most 50 keys", param=param)
    return new


# --- small helpers --------------------------------------------------------------------------------


def _render(value: Any) -> Any:
    """A deep copy without the simulator's private ``_keys``."""
    if isinstance(value, dict):
        return {k: _render(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_render(v) for v in value]
    return value


def add_interval(ts: int, interval: str, count: int = 1, anchor_day: int | None = None) -> int:
    """``ts`` plus ``count`` days/weeks/months/years, months clamped like Stripe (Jan 31 → Feb 28)."""
    dt = datetime.fromtimestamp(ts, UTC)
    if interval == "day":
        return ts + 86400 * count
    if interval == "week":
        return ts + 7 * 86400 * count
    months = count * (12 if interval == "year" else 1)
    month_index = dt.month - 1 + months
    year, month = dt.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def euros(cents: int) -> str:
    """French formatting: 118800 → "1 188,00 €"."""
    sign = "-" if cents < 0 else ""
    text = f"{abs(cents) / 100:,.2f}".replace(",", "\u202f").replace(".", ",")
    return f"{sign}{text} €"


def _date_fr(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%d/%m/%Y") if ts else "—"


def sign_payload(payload: str, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header of ``payload`` (the exact string sent)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def _form(
    action_url: str, action: str, button_id: str, label: str, css: str, hidden: dict[str, str] | None = None
) -> str:
    """A one-button POST form."""
    fields = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in {"action": action, **(hidden or {})}.items()
    )
    return (
        f'<form method="post" action="{html.escape(action_url)}">{fields}'
        f'<button class="{css}" id="{html.escape(button_id)}" type="submit">{html.escape(label)}</button>'
        "</form>"
    )


def _interval_label(price: dict[str, Any]) -> tuple[str, str]:
    interval = (price.get("recurring") or {}).get("interval", "")
    return {"month": ("Mensuel", "mois"), "year": ("Annuel", "an")}.get(interval, (interval, interval))


# --- the simulator --------------------------------------------------------------------------------


class StripeSim(Provider):
    name = "stripe"
    prefix = "/stripe"
    rules = [
        Rule("/v1/customers", endpoint="api_list_customers", methods=["GET"]),
        Rule("/v1/customers", endpoint="api_create_customer", methods=["POST"]),
        Rule("/v1/customers/search", endpoint="api_search_customers", methods=["GET"]),
        Rule("/v1/customers/<object_id>", endpoint="api_get_customer", methods=["GET"]),
        Rule("/v1/customers/<object_id>", endpoint="api_update_customer", methods=["POST"]),
        Rule("/v1/customers/<object_id>", endpoint="api_delete_customer", methods=["DELETE"]),
        Rule("/v1/products", endpoint="api_list_products", methods=["GET"]),
        Rule("/v1/products/<object_id>", endpoint="api_get_product", methods=["GET"]),
        Rule("/v1/prices", endpoint="api_list_prices", methods=["GET"]),
        Rule("/v1/prices/<object_id>", endpoint="api_get_price", methods=["GET"]),
        Rule("/v1/checkout/sessions", endpoint="api_list_sessions", methods=["GET"]),
        Rule("/v1/checkout/sessions", endpoint="api_create_session", methods=["POST"]),
        Rule("/v1/checkout/sessions/<object_id>", endpoint="api_get_session", methods=["GET"]),
        Rule(
            "/v1/checkout/sessions/<object_id>/line_items", endpoint="api_session_line_items", methods=["GET"]
        ),
        Rule("/v1/checkout/sessions/<object_id>/expire", endpoint="api_expire_session", methods=["POST"]),
        Rule("/v1/subscriptions", endpoint="api_list_subscriptions", methods=["GET"]),
        Rule("/v1/subscriptions/<object_id>", endpoint="api_get_subscription", methods=["GET"]),
        Rule("/v1/subscriptions/<object_id>", endpoint="api_update_subscription", methods=["POST"]),
        Rule("/v1/subscriptions/<object_id>", endpoint="api_cancel_subscription", methods=["DELETE"]),
        Rule("/v1/billing_portal/sessions", endpoint="api_create_portal_session", methods=["POST"]),
        Rule("/v1/invoices", endpoint="api_list_invoices", methods=["GET"]),
        Rule("/v1/invoices/<object_id>", endpoint="api_get_invoice", methods=["GET"]),
        Rule("/v1/events", endpoint="api_list_events", methods=["GET"]),
        Rule("/v1/events/<object_id>", endpoint="api_get_event", methods=["GET"]),
        # Browser pages (no API key).
        Rule("/checkout/<object_id>", endpoint="page_checkout", methods=["GET", "POST"]),
        Rule("/portal/<object_id>", endpoint="page_portal", methods=["GET", "POST"]),
        Rule("/invoice/<object_id>", endpoint="page_invoice", methods=["GET", "POST"]),
    ]
    control_rules = [
        Rule("/", endpoint="ctl_summary", methods=["GET"]),
        Rule("/settings", endpoint="ctl_settings", methods=["GET", "POST"]),
        Rule("/checkout/<object_id>/pay", endpoint="ctl_checkout_pay", methods=["POST"]),
        Rule("/checkout/<object_id>/decline", endpoint="ctl_checkout_decline", methods=["POST"]),
        Rule("/checkout/<object_id>/expire", endpoint="ctl_checkout_expire", methods=["POST"]),
        Rule("/subscriptions/<object_id>/fail_payment", endpoint="ctl_fail_payment", methods=["POST"]),
        Rule("/subscriptions/<object_id>/renew", endpoint="ctl_renew", methods=["POST"]),
        Rule("/subscriptions/<object_id>/cancel", endpoint="ctl_cancel", methods=["POST"]),
        Rule("/subscriptions/<object_id>/uncancel", endpoint="ctl_uncancel", methods=["POST"]),
        Rule("/subscriptions/<object_id>/switch_plan", endpoint="ctl_switch_plan", methods=["POST"]),
        Rule("/subscriptions/<object_id>/end_period", endpoint="ctl_end_period", methods=["POST"]),
        Rule("/subscriptions/<object_id>/status", endpoint="ctl_set_status", methods=["POST"]),
        Rule("/subscriptions/<object_id>/unpaid", endpoint="ctl_mark_unpaid", methods=["POST"]),
        Rule("/invoices/<object_id>/pay", endpoint="ctl_pay_invoice", methods=["POST"]),
        Rule("/events", endpoint="ctl_send_event", methods=["POST"]),
        Rule("/events", endpoint="ctl_list_events", methods=["GET"]),
        Rule("/events/<object_id>/resend", endpoint="ctl_resend", methods=["POST"]),
        Rule("/deliveries", endpoint="ctl_deliveries", methods=["GET", "DELETE"]),
        Rule("/webhooks/retry", endpoint="ctl_retry", methods=["POST"]),
        Rule("/webhooks/flush", endpoint="ctl_flush", methods=["POST"]),
        Rule("/objects/<object_id>", endpoint="ctl_object", methods=["GET"]),
    ]

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

    # --- Provider hooks ------------------------------------------------------------------------
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

    def seed_demo(self) -> None:
        with self.lock:
            now = self.clock.epoch()
            self.objects[STRIPE_PRODUCT_ID] = {
                "id": STRIPE_PRODUCT_ID,
                "object": "product",
                "active": True,
                "created": now,
                "default_price": STRIPE_PRICE_MONTHLY,
                "description": "Factures Qonto depuis les transactions HubSpot",
                "images": [],
                "livemode": False,
                "marketing_features": [],
                "metadata": {},
                "name": "Qonto Connector",
                "package_dimensions": None,
                "shippable": None,
                "statement_descriptor": None,
                "tax_code": "txcd_10103001",
                "type": "service",
                "unit_label": None,
                "updated": now,
                "url": None,
            }
            for price_id, cents, interval, lookup_key, nickname in (
                (STRIPE_PRICE_MONTHLY, STRIPE_PRICE_MONTHLY_CENTS, "month", "connector_monthly", "Mensuel"),
                (STRIPE_PRICE_ANNUAL, STRIPE_PRICE_ANNUAL_CENTS, "year", "connector_annual", "Annuel"),
            ):
                self.add_price(price_id, cents, interval, lookup_key, nickname=nickname)

    def add_price(
        self,
        price_id: str,
        unit_amount: int,
        interval: str | None,
        lookup_key: str | None = None,
        *,
        product: str = STRIPE_PRODUCT_ID,
        nickname: str | None = None,
        active: bool = True,
        currency: str = "eur",
    ) -> dict[str, Any]:
        """Add a price (``interval=None``: a one-time price)."""
        with self.lock:
            price = {
                "id": price_id,
                "object": "price",
                "active": active,
                "billing_scheme": "per_unit",
                "created": self.clock.epoch(),
                "currency": currency,
                "custom_unit_amount": None,
                "livemode": False,
                "lookup_key": lookup_key,
                "metadata": {},
                "nickname": nickname,
                "product": product,
                "recurring": (
                    {
                        "interval": interval,
                        "interval_count": 1,
                        "meter": None,
                        "trial_period_days": None,
                        "usage_type": "licensed",
                    }
                    if interval
                    else None
                ),
                "tax_behavior": "exclusive",
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "recurring" if interval else "one_time",
                "unit_amount": unit_amount,
                "unit_amount_decimal": str(unit_amount),
            }
            self.objects[price_id] = price
            return _render(price)

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

    # --- request plumbing ----------------------------------------------------------------------
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
                body = self._expand(_render(result), params.get("expand"))
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
        limit = _int(params.get("limit", 10), "limit")
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
            obj["subscriptions"] = _render(
                self._list(subs, {"limit": 100}, f"/v1/customers/{obj['id']}/subscriptions")
            )
        elif head not in obj:
            raise StripeSimError(f"This property cannot be expanded ({full}).", param="expand")
        value = obj.get(head)
        if isinstance(value, str):
            target = self.objects.get(value)
            if target is None:
                raise StripeSimError(f"This property cannot be expanded ({full}).", param="expand")
            obj[head] = value = _render(target)
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

    # --- customers -----------------------------------------------------------------------------
    def create_customer(
        self,
        email: str | None = None,
        name: str | None = None,
        metadata: dict[str, str] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a customer directly (tests)."""
        with self.lock:
            params: dict[str, Any] = {"email": email, "name": name, "metadata": metadata or {}, **fields}
            return _render(self._create_customer({k: v for k, v in params.items() if v is not None}))

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        _check_unknown(params, CUSTOMER_PARAMS)
        customer: dict[str, Any] = {
            "id": self._new_id("cus_"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "business_name": None,
            "created": self.clock.epoch(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "discount": None,
            "email": None,
            "individual_name": None,
            "invoice_prefix": self.ids.token("", 8).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": {},
            "name": None,
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
            "_tax_ids": [],
        }
        self._update_customer_fields(customer, params)
        for i, tax in enumerate(params.get("tax_id_data") or []):
            tax = _dict(tax, f"tax_id_data[{i}]")
            if not tax.get("type") or not tax.get("value"):
                raise _missing(f"tax_id_data[{i}][value]")
            customer["_tax_ids"].append({"type": tax["type"], "value": tax["value"]})
        return self._store(customer)

    def _update_customer_fields(self, customer: dict[str, Any], params: dict[str, Any]) -> None:
        for field in ("email", "name", "description", "phone", "business_name", "individual_name"):
            if field in params:
                customer[field] = params[field] or None
        if "address" in params:
            address = params["address"]
            customer["address"] = (
                None
                if address == ""
                else {
                    k: _dict(address, "address").get(k)
                    for k in ("city", "country", "line1", "line2", "postal_code", "state")
                }
            )
        if "metadata" in params:
            customer["metadata"] = _apply_metadata(customer["metadata"], params["metadata"])
        if "preferred_locales" in params:
            customer["preferred_locales"] = list(params["preferred_locales"] or [])
        if "tax_exempt" in params:
            if params["tax_exempt"] not in ("none", "exempt", "reverse"):
                raise StripeSimError(f"Invalid tax_exempt: {params['tax_exempt']}", param="tax_exempt")
            customer["tax_exempt"] = params["tax_exempt"]
        if "invoice_settings" in params:
            settings = _dict(params["invoice_settings"], "invoice_settings")
            if "default_payment_method" in settings:
                customer["invoice_settings"]["default_payment_method"] = (
                    settings["default_payment_method"] or None
                )

    def api_create_customer(self, request: Request) -> Response:
        return self._call(request, self._create_customer)

    def api_get_customer(self, request: Request, object_id: str) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            obj = self.objects.get(object_id)
            if obj is not None and obj.get("object") == "customer" and obj.get("deleted"):
                return {"id": object_id, "object": "customer", "deleted": True}
            return self._get(object_id, "customer")

        return self._call(request, run)

    def api_update_customer(self, request: Request, object_id: str) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            customer = self._get(object_id, "customer")
            _check_unknown(params, CUSTOMER_PARAMS - {"payment_method", "tax_id_data", "test_clock"})
            self._update_customer_fields(customer, params)
            return customer

        return self._call(request, run)

    def api_delete_customer(self, request: Request, object_id: str) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            customer = self._get(object_id, "customer")
            customer["deleted"] = True
            return {"id": object_id, "object": "customer", "deleted": True}

        return self._call(request, run)

    def api_list_customers(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            items = self._of_kind("customer")
            if "email" in params:
                items = [c for c in items if c.get("email") == params["email"]]  # case-sensitive, as Stripe
            return self._list(items, params, "/v1/customers")

        return self._call(request, run)

    def api_search_customers(self, request: Request) -> Response:
        """``query`` with clauses ``field:'value'`` / ``metadata['key']:'value'`` joined by AND."""

        def run(params: dict[str, Any]) -> dict[str, Any]:
            query = params.get("query")
            if not query:
                raise _missing("query")
            clauses = [c.strip() for c in str(query).split(" AND ")]
            items = self._of_kind("customer")
            for clause in clauses:
                field, sep, raw = clause.partition(":")
                if not sep or len(raw) < 2 or raw[0] not in "'\"" or raw[-1] != raw[0]:
                    raise StripeSimError(f"Invalid search query: {query}", param="query")
                value = raw[1:-1]
                if field.startswith("metadata[") and field.endswith("]"):
                    key = field[len("metadata[") : -1].strip("'\"")
                    items = [c for c in items if c["metadata"].get(key) == value]
                elif field in ("email", "name", "phone"):
                    items = [c for c in items if (c.get(field) or "").lower() == value.lower()]
                else:
                    raise StripeSimError(f"Field '{field}' is not supported in search queries", param="query")
            page = self._list(items, {"limit": params.get("limit", 10)}, "/v1/customers/search")
            return {
                "object": "search_result",
                "data": page["data"],
                "has_more": page["has_more"],
                "next_page": None,
                "url": "/v1/customers/search",
            }

        return self._call(request, run)

    # --- products and prices ---------------------------------------------------------------------
    def api_get_product(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._get(object_id, "product"))

    def api_list_products(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            items = self._of_kind("product")
            if "active" in params:
                active = _bool(params["active"], "active")
                items = [p for p in items if p["active"] == active]
            return self._list(items, params, "/v1/products")

        return self._call(request, run)

    def api_get_price(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._get(object_id, "price"))

    def api_list_prices(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            items = self._of_kind("price")
            if "lookup_keys" in params:
                keys = params["lookup_keys"]
                keys = [keys] if isinstance(keys, str) else list(keys)
                if len(keys) > 10:
                    raise StripeSimError("lookup_keys can have at most 10 values", param="lookup_keys")
                items = [p for p in items if p.get("lookup_key") in keys]
            if "product" in params:
                items = [p for p in items if p["product"] == params["product"]]
            if "active" in params:
                active = _bool(params["active"], "active")
                items = [p for p in items if p["active"] == active]
            if "type" in params:
                items = [p for p in items if p["type"] == params["type"]]
            if "currency" in params:
                items = [p for p in items if p["currency"] == params["currency"]]
            recurring = _dict(params.get("recurring"), "recurring")
            if "interval" in recurring:
                items = [p for p in items if (p["recurring"] or {}).get("interval") == recurring["interval"]]
            return self._list(items, params, "/v1/prices")

        return self._call(request, run)

    # --- checkout sessions -----------------------------------------------------------------------
    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        _check_unknown(params, CHECKOUT_CREATE_PARAMS)
        mode = params.get("mode")
        if not mode:
            raise _missing("mode")
        if mode not in ("payment", "setup", "subscription"):
            raise StripeSimError("Invalid mode: must be one of payment, setup, or subscription", param="mode")
        if mode != "subscription":
            raise StripeSimError(
                "The Stripe sandbox only simulates Checkout in `subscription` mode.", param="mode"
            )
        customer_id = params.get("customer") or None
        customer = self._get(customer_id, "customer", param="customer") if customer_id else None
        if customer_id and params.get("customer_email"):
            raise StripeSimError(
                "You may only specify one of these parameters: customer, customer_email.",
                param="customer_email",
            )
        customer_update = _dict(params.get("customer_update"), "customer_update")
        if "customer_update" in params and not customer_id:
            raise StripeSimError(
                "`customer_update` can only be used with `customer`.", param="customer_update"
            )
        for key, value in customer_update.items():
            if key not in ("address", "name", "shipping"):
                raise StripeSimError(
                    f"Received unknown parameter: customer_update[{key}]", param=f"customer_update[{key}]"
                )
            if value not in ("auto", "never"):
                raise StripeSimError(
                    f"Invalid customer_update[{key}]: must be one of auto or never",
                    param=f"customer_update[{key}]",
                )
        # Line items: at least one recurring price, each with a quantity.
        raw_items = params.get("line_items")
        if not raw_items:
            raise StripeSimError("`line_items` is required in `subscription` mode.", param="line_items")
        if not isinstance(raw_items, list):
            raise StripeSimError("Invalid array", param="line_items", code="parameter_invalid_array")
        line_items: list[dict[str, Any]] = []
        for i, raw in enumerate(raw_items):
            item = _dict(raw, f"line_items[{i}]")
            _check_unknown(
                item,
                ("adjustable_quantity", "metadata", "price", "price_data", "quantity", "tax_rates"),
                f"line_items[{i}]",
            )
            if "price_data" in item:
                raise StripeSimError(
                    "The Stripe sandbox only knows stored prices: use `price`.",
                    param=f"line_items[{i}][price_data]",
                )
            if not item.get("price"):
                raise _missing(f"line_items[{i}][price]")
            price = self._get(item["price"], "price", param=f"line_items[{i}][price]")
            if not price["active"]:
                raise StripeSimError(
                    "The price specified is inactive. This field only accepts active prices. "
                    f"({price['id']})",
                    param=f"line_items[{i}][price]",
                )
            if "quantity" not in item:
                raise StripeSimError(
                    f"Quantity is required. Add `quantity` to `line_items[{i}]`",
                    param=f"line_items[{i}][quantity]",
                )
            quantity = _int(item["quantity"], f"line_items[{i}][quantity]")
            if quantity < 1:
                raise StripeSimError("Quantity must be at least 1", param=f"line_items[{i}][quantity]")
            line_items.append({"price": price["id"], "quantity": quantity})
        recurring = [li for li in line_items if self.objects[li["price"]]["type"] == "recurring"]
        if not recurring:
            raise StripeSimError(
                "You must provide at least one recurring price in `subscription` mode when using prices.",
                param="line_items",
            )
        intervals = {self.objects[li["price"]]["recurring"]["interval"] for li in recurring}
        if len(intervals) > 1:
            raise StripeSimError(
                "Checkout does not support multiple prices with different billing intervals.",
                param="line_items",
            )
        success_url = _check_url(params.get("success_url"), "success_url")
        cancel_url = _check_url(params.get("cancel_url"), "cancel_url")
        client_reference_id = params.get("client_reference_id")
        if client_reference_id is not None and len(client_reference_id) > 200:
            raise StripeSimError(
                "Invalid string: client_reference_id must be at most 200 characters",
                param="client_reference_id",
                code="string_too_long",
            )
        automatic_tax = _dict(params.get("automatic_tax"), "automatic_tax")
        if "automatic_tax" in params and "enabled" not in automatic_tax:
            raise _missing("automatic_tax[enabled]")
        tax_enabled = _bool(automatic_tax.get("enabled", False), "automatic_tax[enabled]")
        tax_id_collection = _dict(params.get("tax_id_collection"), "tax_id_collection")
        if "tax_id_collection" in params and "enabled" not in tax_id_collection:
            raise _missing("tax_id_collection[enabled]")
        tax_ids_enabled = _bool(tax_id_collection.get("enabled", False), "tax_id_collection[enabled]")
        tax_id_required = tax_id_collection.get("required", "never")
        if tax_id_required not in ("if_supported", "never"):
            raise StripeSimError(
                "Invalid tax_id_collection[required]: must be one of if_supported or never",
                param="tax_id_collection[required]",
            )
        if customer is not None and tax_ids_enabled and customer_update.get("name") != "auto":
            raise StripeSimError(
                "tax_id_collection requires updating business name on the customer. To enable tax ID "
                "collection for an existing customer, please set `customer_update[name]` to `auto`.",
                param="tax_id_collection[enabled]",
            )
        if (
            customer is not None
            and tax_enabled
            and not customer.get("address")
            and "auto" not in (customer_update.get("address"), customer_update.get("shipping"))
        ):
            raise StripeSimError(
                "Automatic tax calculation in Checkout requires a valid address on the Customer. Add a valid "
                "address to the Customer or set either `customer_update[address]` to 'auto' or "
                "`customer_update[shipping]` to 'auto' to save the address entered in Checkout to the "
                "Customer.",
                param="automatic_tax[enabled]",
            )
        subscription_data = _dict(params.get("subscription_data"), "subscription_data")
        sub_metadata = _apply_metadata(
            {}, subscription_data.get("metadata", {}), "subscription_data[metadata]"
        )
        trial_days = subscription_data.get("trial_period_days")
        trial_days_int = _int(trial_days, "subscription_data[trial_period_days]") if trial_days else None
        trial_end = subscription_data.get("trial_end")
        trial_end_int = _int(trial_end, "subscription_data[trial_end]") if trial_end else None
        now = self.clock.epoch()
        expires_at = _int(params["expires_at"], "expires_at") if params.get("expires_at") else now + 86400
        if not now + 1800 <= expires_at <= now + 86400:
            raise StripeSimError(
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from now.",
                param="expires_at",
            )
        amounts = self._amounts(line_items, 0.0)
        session_id = self._new_id("cs_test_", 58)
        session: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "adaptive_pricing": None,
            "after_expiration": None,
            "allow_promotion_codes": (
                _bool(params["allow_promotion_codes"], "allow_promotion_codes")
                if "allow_promotion_codes" in params
                else None
            ),
            "amount_subtotal": amounts["subtotal"],
            "amount_total": amounts["subtotal"],
            "automatic_tax": {
                "enabled": tax_enabled,
                "liability": {"type": "self"} if tax_enabled else None,
                "provider": "stripe" if tax_enabled else None,
                "status": None,
            },
            "billing_address_collection": params.get("billing_address_collection"),
            "cancel_url": cancel_url,
            "client_reference_id": client_reference_id,
            "client_secret": None,
            "collected_information": None,
            "consent": None,
            "consent_collection": None,
            "created": now,
            "currency": self.objects[line_items[0]["price"]]["currency"],
            "custom_fields": [],
            "custom_text": {
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            "customer": customer_id,
            "customer_creation": None if customer_id else "always",
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "discounts": [],
            "expires_at": expires_at,
            "invoice": None,
            "invoice_creation": None,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": _apply_metadata({}, params.get("metadata", {})),
            "mode": mode,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": params.get("payment_method_collection", "always"),
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "setup_intent": None,
            "shipping_address_collection": None,
            "shipping_cost": None,
            "shipping_options": [],
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": success_url,
            "tax_id_collection": {"enabled": tax_ids_enabled, "required": tax_id_required},
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": params.get("ui_mode", "hosted"),
            "url": f"{self._base()}{self.prefix}/checkout/{session_id}",
            "_line_items": line_items,
            "_customer_update": customer_update,
            "_subscription_metadata": sub_metadata,
            "_subscription_description": subscription_data.get("description"),
            "_trial_days": trial_days_int,
            "_trial_end": trial_end_int,
        }
        return self._store(session)

    def _amounts(self, line_items: list[dict[str, Any]], tax_rate: float) -> dict[str, int]:
        subtotal = sum(self.objects[li["price"]]["unit_amount"] * li["quantity"] for li in line_items)
        tax = round(max(subtotal, 0) * tax_rate)
        return {"subtotal": subtotal, "tax": tax, "total": subtotal + tax}

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
                    "price": _render(price),
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

    def api_create_session(self, request: Request) -> Response:
        return self._call(request, self._create_session)

    def api_get_session(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._session(object_id))

    def api_session_line_items(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._line_items_list(self._session(object_id)))

    def api_expire_session(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._expire_session(object_id))

    def api_list_sessions(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            items = [self._session(s["id"]) for s in self._of_kind("checkout.session")]
            for field in ("customer", "subscription", "status", "payment_intent"):
                if field in params:
                    items = [s for s in items if s.get(field) == params[field]]
            return self._list(items, params, "/v1/checkout/sessions")

        return self._call(request, run)

    def _session(self, session_id: str) -> dict[str, Any]:
        """The session, expired first if its ``expires_at`` has passed on the sandbox clock."""
        session = self._get(session_id, "checkout.session")
        if session["status"] == "open" and self.clock.epoch() >= session["expires_at"]:
            self._expire_session(session_id)
        return session

    def _expire_session(self, session_id: str) -> dict[str, Any]:
        session = self._get(session_id, "checkout.session")
        if session["status"] != "open":
            raise StripeSimError(
                f"Only Checkout Sessions with a status of `open` can be expired. This session has status "
                f"`{session['status']}`.",
                param="session",
            )
        session["status"] = "expired"
        session["url"] = None
        self._emit([("checkout.session.expired", session, None)])
        return session

    def expire_checkout(self, session_id: str) -> dict[str, Any]:
        """Expire an open session (sends ``checkout.session.expired``)."""
        with self.lock:
            return _render(self._expire_session(session_id))

    def decline_checkout(self, session_id: str) -> dict[str, Any]:
        """A declined card: nothing is created, the session stays open, no webhook."""
        with self.lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise StripeSimError(f"Checkout session {session_id} is {session['status']}", 409)
            session["_declines"] = session.get("_declines", 0) + 1
            return _render(session)

    def complete_checkout(
        self,
        session_id: str,
        *,
        email: str | None = None,
        name: str | None = None,
        vat_number: str | None = None,
        address: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Pay an open session: customer, active subscription, paid invoice, then the webhooks."""
        with self.lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise StripeSimError(f"Checkout session {session_id} is {session['status']}", 409)
            now = self.clock.epoch()
            full_address: dict[str, Any] = {
                "city": "Paris",
                "country": "FR",
                "line1": "1 rue de l'Exemple",
                "line2": None,
                "postal_code": "75002",
                "state": None,
                **{k: v for k, v in (address or {}).items() if v},
            }
            # Customer: the given one (updated per customer_update) or a new one.
            if session["customer"]:
                customer = self._get(session["customer"], "customer")
                if session["_customer_update"].get("name") == "auto" and name:
                    customer["name"] = name
                if session["_customer_update"].get("address") == "auto":
                    customer["address"] = dict(full_address)
                if email and not customer.get("email"):
                    customer["email"] = email
            else:
                email = email or session.get("customer_email")
                if not email:
                    raise StripeSimError("An email address is required to pay", 400, param="email")
                customer = self._create_customer(
                    {"email": email, "name": name or "", "address": full_address}
                )
            # Tax: 20 % French VAT, none for an EU business outside France with a VAT number.
            tax_ids: list[dict[str, Any]] = []
            reverse_charge = False
            vat_number = (vat_number or "").replace(" ", "").upper()
            if vat_number and session["tax_id_collection"]["enabled"]:
                tax_ids = [{"type": "eu_vat", "value": vat_number}]
                if vat_number not in [t["value"] for t in customer["_tax_ids"]]:
                    customer["_tax_ids"].append(tax_ids[0])
                country = "GR" if vat_number[:2] == "EL" else vat_number[:2]
                reverse_charge = country in EU_COUNTRIES and country != "FR"
            tax_rate = 0.0 if reverse_charge else self._session_tax_rate(session)
            if reverse_charge:
                customer["tax_exempt"] = "reverse"
            session["_tax_rate"] = tax_rate
            # Subscription and its first invoice.
            subscription = self._create_subscription(session, customer, tax_rate, reverse_charge, now)
            invoice = self.objects[subscription["latest_invoice"]]
            amounts = self._amounts(session["_line_items"], tax_rate)
            session.update(
                {
                    "status": "complete",
                    "payment_status": "paid" if invoice["amount_due"] > 0 else "no_payment_required",
                    "customer": customer["id"],
                    "subscription": subscription["id"],
                    "invoice": invoice["id"],
                    "url": None,
                    "amount_subtotal": amounts["subtotal"],
                    "amount_total": amounts["total"],
                    "total_details": {
                        "amount_discount": 0,
                        "amount_shipping": 0,
                        "amount_tax": amounts["tax"],
                    },
                    "customer_details": {
                        "address": dict(full_address),
                        "business_name": name if tax_ids else None,
                        "email": email or customer.get("email"),
                        "individual_name": None,
                        "name": name or customer.get("name"),
                        "phone": None,
                        "tax_exempt": "reverse" if reverse_charge else "none",
                        "tax_ids": tax_ids,
                    },
                }
            )
            if session["automatic_tax"]["enabled"]:
                session["automatic_tax"]["status"] = "complete"
            self._emit(
                [
                    ("checkout.session.completed", session, None),
                    ("customer.subscription.created", subscription, None),
                    ("invoice.paid", invoice, None),
                ]
            )
            return _render(session)

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
                    "price": _render(price),
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

    # --- invoices --------------------------------------------------------------------------------
    def _line(
        self,
        subscription: dict[str, Any],
        item: dict[str, Any],
        amount: int | None,
        start: int,
        end: int,
        *,
        proration: bool = False,
        description: str | None = None,
    ) -> dict[str, Any]:
        price = item["price"]
        quantity = item["quantity"]
        if amount is None:
            amount = price["unit_amount"] * quantity
        product_name = self.objects.get(price["product"], {}).get("name", price["product"])
        label, unit = _interval_label(price)
        return {
            "id": self._new_id("il_", 24),
            "object": "line_item",
            "amount": amount,
            "currency": price["currency"],
            "description": description
            or f"{quantity} × {product_name} ({label}, {euros(price['unit_amount'])} HT / {unit})",
            "discount_amounts": [],
            "discountable": True,
            "discounts": [],
            "livemode": False,
            "metadata": {},
            "parent": {
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": proration,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription["id"],
                    "subscription_item": item["id"],
                },
                "type": "subscription_item_details",
            },
            "period": {"end": end, "start": start},
            "pretax_credit_amounts": [],
            "pricing": {
                "price_details": {"price": price["id"], "product": price["product"]},
                "type": "price_details",
                "unit_amount_decimal": price["unit_amount_decimal"],
            },
            "quantity": quantity,
            "taxes": [],
        }

    def _create_invoice(
        self, subscription: dict[str, Any], lines: list[dict[str, Any]], billing_reason: str, *, paid: bool
    ) -> dict[str, Any]:
        """A finalized invoice: paid, or open after one failed attempt."""
        now = self.clock.epoch()
        customer = self.objects[subscription["customer"]]
        tax_rate = subscription["_tax_rate"]
        subtotal = sum(line["amount"] for line in lines)
        tax = round(max(subtotal, 0) * tax_rate)
        for line in lines:
            line_tax = round(max(line["amount"], 0) * tax_rate)
            line["taxes"] = [
                {
                    "amount": line_tax,
                    "tax_behavior": "exclusive",
                    "tax_rate_details": None,
                    "taxability_reason": "reverse_charge"
                    if subscription["_reverse_charge"]
                    else "standard_rated",
                    "taxable_amount": max(line["amount"], 0),
                    "type": "tax_rate_details",
                }
            ]
        total = subtotal + tax
        amount_due = max(total, 0)
        if total < 0:
            customer["balance"] += total  # negative proration becomes credit, not a refund
        invoice_id = self._new_id("in_", 24)
        number = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        attempted = amount_due > 0
        invoice: dict[str, Any] = {
            "id": invoice_id,
            "object": "invoice",
            "account_country": "FR",
            "account_name": "Qonto Connector (sandbox)",
            "account_tax_ids": None,
            "amount_due": amount_due,
            "amount_overpaid": 0,
            "amount_paid": amount_due if paid else 0,
            "amount_remaining": 0 if paid else amount_due,
            "amount_shipping": 0,
            "application": None,
            "attempt_count": 1 if attempted else 0,
            "attempted": attempted,
            "auto_advance": not paid,
            "automatic_tax": {
                "disabled_reason": None,
                "enabled": subscription["automatic_tax"]["enabled"],
                "liability": subscription["automatic_tax"]["liability"],
                "provider": "stripe" if subscription["automatic_tax"]["enabled"] else None,
                "status": "complete" if subscription["automatic_tax"]["enabled"] else None,
            },
            "automatically_finalizes_at": None,
            "billing_reason": billing_reason,
            "collection_method": "charge_automatically",
            "confirmation_secret": None,
            "created": now,
            "currency": subscription["currency"],
            "custom_fields": None,
            "customer": customer["id"],
            "customer_address": customer.get("address"),
            "customer_email": customer.get("email"),
            "customer_name": customer.get("name"),
            "customer_phone": None,
            "customer_shipping": None,
            "customer_tax_exempt": customer["tax_exempt"],
            "customer_tax_ids": [dict(t) for t in customer["_tax_ids"]],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discounts": [],
            "due_date": None,
            "effective_at": now,
            "ending_balance": 0,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": f"{self._base()}{self.prefix}/invoice/{invoice_id}",
            "invoice_pdf": f"{self._base()}{self.prefix}/invoice/{invoice_id}?format=pdf",
            "issuer": {"type": "self"},
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": {
                "object": "list",
                "data": lines,
                "has_more": False,
                "total_count": len(lines),
                "url": f"/v1/invoices/{invoice_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None if paid else now + RETRY_DELAY_S,
            "number": number,
            "on_behalf_of": None,
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": dict(subscription["metadata"]),
                    "subscription": subscription["id"],
                    "subscription_proration_date": None,
                },
                "type": "subscription_details",
            },
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "period_end": now,
            "period_start": now,
            "post_payment_credit_notes_amount": 0,
            "pre_payment_credit_notes_amount": 0,
            "receipt_number": None,
            "rendering": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": "paid" if paid else "open",
            "status_transitions": {
                "finalized_at": now,
                "marked_uncollectible_at": None,
                "paid_at": now if paid else None,
                "voided_at": None,
            },
            "subtotal": subtotal,
            "subtotal_excluding_tax": subtotal,
            "test_clock": None,
            "total": total,
            "total_discount_amounts": [],
            "total_excluding_tax": subtotal,
            "total_pretax_credit_amounts": [],
            "total_taxes": [
                {
                    "amount": tax,
                    "tax_behavior": "exclusive",
                    "tax_rate_details": None,
                    "taxability_reason": "reverse_charge"
                    if subscription["_reverse_charge"]
                    else "standard_rated",
                    "taxable_amount": max(subtotal, 0),
                    "type": "tax_rate_details",
                }
            ]
            if subscription["automatic_tax"]["enabled"]
            else [],
            "webhooks_delivered_at": now,
        }
        return self._store(invoice)

    def api_get_invoice(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._get(object_id, "invoice"))

    def api_list_invoices(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            items = self._of_kind("invoice")
            if "customer" in params:
                items = [i for i in items if i["customer"] == params["customer"]]
            if "subscription" in params:
                items = [
                    i
                    for i in items
                    if i["parent"]["subscription_details"]["subscription"] == params["subscription"]
                ]
            if "status" in params:
                items = [i for i in items if i["status"] == params["status"]]
            return self._list(items, params, "/v1/invoices")

        return self._call(request, run)

    # --- subscriptions -----------------------------------------------------------------------------
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
        _check_unknown(params, SUBSCRIPTION_UPDATE_PARAMS)
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
            item_params = _dict(raw_items[0], "items[0]")
            _check_unknown(
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
                quantity = _int(item_params["quantity"], "items[0][quantity]")
                if quantity < 1:
                    raise StripeSimError("Quantity must be at least 1", param="items[0][quantity]")
                item["quantity"] = quantity
            if "metadata" in item_params:
                item["metadata"] = _apply_metadata(
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
            sub["metadata"] = _apply_metadata(sub["metadata"], params["metadata"])
        if "description" in params:
            sub["description"] = params["description"] or None
        if "cancellation_details" in params:
            details = _dict(params["cancellation_details"], "cancellation_details")
            for key in ("comment", "feedback"):
                if key in details:
                    sub["cancellation_details"][key] = details[key] or None
        if "cancel_at_period_end" in params:
            self._set_cancel_at_period_end(sub, _bool(params["cancel_at_period_end"], "cancel_at_period_end"))
        if "cancel_at" in params:
            value = params["cancel_at"]
            if value == "":
                self._set_cancel_at_period_end(sub, False)
            else:
                end = sub["items"]["data"][0]["current_period_end"]
                at = end if value in ("min_period_end", "max_period_end") else _int(value, "cancel_at")
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
        item["price"] = _render(price)
        sub["_pending_price"] = None
        sub["schedule"] = None
        interval_changed = old_price["recurring"]["interval"] != price["recurring"]["interval"]
        in_trial = sub["status"] == "trialing"
        lines: list[dict[str, Any]] = []
        if interval_changed and not in_trial:
            new_end = add_interval(now, price["recurring"]["interval"], price["recurring"]["interval_count"])
            item["current_period_start"], item["current_period_end"] = now, new_end
            sub["billing_cycle_anchor"] = now
            sub["_anchor_day"] = datetime.fromtimestamp(now, UTC).day
            if proration != "none":
                lines.append(
                    self._line(
                        sub,
                        {**item, "price": old_price},
                        -round(old_amount * remaining),
                        now,
                        end,
                        proration=True,
                        description=f"Temps non utilisé sur {old_price['id']}",
                    )
                )
            lines.append(self._line(sub, item, new_amount, now, new_end))
            billing_reason = "subscription_update"
        elif proration == "always_invoice" and not in_trial:
            lines.append(
                self._line(
                    sub,
                    {**item, "price": old_price},
                    -round(old_amount * remaining),
                    now,
                    end,
                    proration=True,
                    description=f"Temps non utilisé sur {old_price['id']}",
                )
            )
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
            _check_unknown(params, SUBSCRIPTION_CANCEL_PARAMS)
            sub = self._get(object_id, "subscription")
            if sub["status"] == "canceled":
                raise StripeSimError(
                    f"No such subscription: '{object_id}'", 404, code="resource_missing", param="id"
                )  # an ended subscription cannot be canceled again
            details = _dict(params.get("cancellation_details"), "cancellation_details")
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
            k: _render(before.get(k)) for k in sub if not k.startswith("_") and before.get(k) != sub.get(k)
        }
        events = list(extra or [])
        if previous:
            events.insert(0, ("customer.subscription.updated", sub, previous))
        self._emit(events)

    # --- lifecycle controls (Python API) -------------------------------------------------------------
    def _sub(self, subscription_id: str) -> dict[str, Any]:
        return self._get(subscription_id, "subscription")

    def _open_invoice(self, sub: dict[str, Any]) -> dict[str, Any] | None:
        latest = self.objects.get(sub.get("latest_invoice") or "")
        return latest if latest is not None and latest["status"] == "open" else None

    def _advance_period(self, sub: dict[str, Any]) -> list[dict[str, Any]]:
        """Start the next period (applying a scheduled price); the lines to invoice for it."""
        lines = []
        if sub["_pending_price"]:
            sub["items"]["data"][0]["price"] = _render(self.objects[sub["_pending_price"]])
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
            sub = self._sub(subscription_id)
            if sub["status"] in ("canceled", "incomplete_expired"):
                raise StripeSimError(f"Subscription {subscription_id} is {sub['status']}", 409)
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
            return _render(invoice)

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
            sub = self._sub(subscription_id)
            if sub["status"] in ("canceled", "incomplete_expired"):
                raise StripeSimError(f"Subscription {subscription_id} is {sub['status']}", 409)
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
            return _render(sub)

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
            return _render(invoice)

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
            return _render(sub)

    def uncancel(self, subscription_id: str) -> dict[str, Any]:
        """Undo a cancellation at period end (``…updated``)."""
        with self.lock:
            sub = self._sub(subscription_id)
            if sub["status"] == "canceled":
                raise StripeSimError(f"Subscription {subscription_id} is already canceled", 409)
            before = copy.deepcopy(sub)
            self._set_cancel_at_period_end(sub, False)
            self._emit_updated(sub, before)
            return _render(sub)

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
                return _render(sub)
            item_id = sub["items"]["data"][0]["id"]
            return _render(
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
                return _render(sub)
            if not payment_succeeds:
                self.fail_payment(subscription_id)
                return _render(sub)
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
            return _render(sub)

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
            return _render(sub)

    # --- billing portal ------------------------------------------------------------------------------
    def api_create_portal_session(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            _check_unknown(params, PORTAL_CREATE_PARAMS)
            if not params.get("customer"):
                raise _missing("customer")
            customer = self._get(params["customer"], "customer", param="customer")
            return_url = _check_url(params["return_url"], "return_url") if params.get("return_url") else None
            flow = _dict(params.get("flow_data"), "flow_data") or None
            if flow is not None and flow.get("type") not in (
                "payment_method_update",
                "subscription_cancel",
                "subscription_update",
                "subscription_update_confirm",
            ):
                raise StripeSimError("Invalid flow_data[type]", param="flow_data[type]")
            session_id = self._new_id("bps_", 24)
            session = {
                "id": session_id,
                "object": "billing_portal.session",
                "configuration": params.get("configuration") or PORTAL_CONFIGURATION_ID,
                "created": self.clock.epoch(),
                "customer": customer["id"],
                "customer_account": None,
                "flow": flow,
                "livemode": False,
                "locale": params.get("locale"),
                "on_behalf_of": None,
                "return_url": return_url,
                "url": f"{self._base()}{self.prefix}/portal/{session_id}",
            }
            return self._store(session)

        return self._call(request, run)

    # --- events and webhooks -------------------------------------------------------------------------
    def _emit(self, events: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> list[dict[str, Any]]:
        """Create the events (snapshots of the objects now) and queue them in the configured order."""
        created = []
        for type_, obj, previous in events:
            data: dict[str, Any] = {"object": _render(obj)}
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
            payload = json.dumps(_render(event), indent=2, ensure_ascii=False)
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
            return _render(self._emit([(type, obj, previous_attributes)])[0])

    def resend(self, event_id: str) -> dict[str, Any]:
        """Deliver an existing event again (same id, same content)."""
        with self.lock:
            event = self._get(event_id, "event")
            self._enqueue(event_id)
            return _render(event)

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
                _render(self.objects[e])
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
            return _render(obj)

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
                success = _bool(params["delivery_success"], "delivery_success")
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
                        bound = _int(created[op], f"created[{op}]")
                        items = [e for e in items if test(e["created"], bound)]
            elif created is not None:
                items = [e for e in items if e["created"] == _int(created, "created")]
            return self._list(items, params, "/v1/events")

        return self._call(request, run)

    # --- HTML pages ----------------------------------------------------------------------------------
    @staticmethod
    def _html(title: str, body: str, status: int = 200) -> Response:
        page = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; background: #f6f9fc; color: #1a1f36; margin: 0; }}
main {{ max-width: 34rem; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: 8px;
        box-shadow: 0 2px 8px rgba(0,0,0,.08); }}
.sandbox {{ background: #fff4e5; color: #8a4b00; padding: .3rem .6rem; border-radius: 4px;
            font-size: .8rem; }}
table {{ width: 100%; border-collapse: collapse; margin: 1rem 0; }}
td {{ padding: .35rem 0; }} td.amount {{ text-align: right; }} tr.total td {{ font-weight: 700;
        border-top: 1px solid #e3e8ee; }}
label {{ display: block; margin: .6rem 0 .2rem; font-size: .9rem; }}
input {{ width: 100%; padding: .5rem; box-sizing: border-box; border: 1px solid #cfd7df;
         border-radius: 4px; }}
button {{ margin: 1rem .5rem 0 0; padding: .6rem 1.2rem; border: 0; border-radius: 4px; cursor: pointer; }}
button.primary {{ background: #635bff; color: #fff; }} button.danger {{ background: #df1b41; color: #fff; }}
button.secondary {{ background: #e3e8ee; }}
.error {{ color: #df1b41; font-weight: 600; }} .notice {{ color: #0e6245; font-weight: 600; }}
</style></head>
<body><main><p class="sandbox">Stripe sandbox — mode test</p>
{body}
</main></body></html>"""
        return Response(page, status=status, content_type="text/html; charset=utf-8")

    def _checkout_summary(self, session: dict[str, Any]) -> str:
        rows = []
        tax_rate = self._session_tax_rate(session)
        for li in session["_line_items"]:
            price = self.objects[li["price"]]
            label, unit = _interval_label(price)
            product = self.objects.get(price["product"], {}).get("name", price["product"])
            rows.append(
                f'<tr><td>{html.escape(product)} — <span id="plan">{html.escape(label)}</span>'
                f"{' × ' + str(li['quantity']) if li['quantity'] > 1 else ''}</td>"
                f'<td class="amount" id="subtotal">{euros(price["unit_amount"] * li["quantity"])} HT / '
                f"{unit}</td></tr>"
            )
        amounts = self._amounts(session["_line_items"], tax_rate)
        tax_label = "TVA 20 %" if tax_rate else "TVA (non calculée)"
        rows.append(f'<tr><td>{tax_label}</td><td class="amount" id="tax">{euros(amounts["tax"])}</td></tr>')
        rows.append(
            '<tr class="total"><td>Total TTC</td>'
            f'<td class="amount" id="total">{euros(amounts["total"])}</td></tr>'
        )
        return "<table>" + "".join(rows) + "</table>"

    def page_checkout(self, request: Request, object_id: str) -> Response:
        with self.lock:
            session = self.objects.get(object_id)
            if session is None or session.get("object") != "checkout.session":
                return self._html("Session introuvable", "<h1>Session de paiement introuvable</h1>", 404)
            self._session(object_id)
            if session["status"] == "complete":
                target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                return self._html(
                    "Paiement effectué",
                    f'<h1>Paiement déjà effectué</h1><p><a id="success-link" href="{html.escape(target)}">'
                    "Retour au site</a></p>",
                )
            if session["status"] == "expired":
                return self._html(
                    "Session expirée",
                    "<h1>Cette session de paiement a expiré.</h1>"
                    f'<p><a id="cancel-link" href="{html.escape(session["cancel_url"])}">Retour</a></p>',
                )
            error = ""
            if request.method == "POST":
                form = request.form
                action = form.get("action", "pay")
                if action == "decline":
                    self.decline_checkout(object_id)
                    error = "Votre carte a été refusée."
                else:
                    email = (form.get("email") or "").strip() or None
                    try:
                        self.complete_checkout(
                            object_id,
                            email=email,
                            name=(form.get("name") or "").strip() or None,
                            vat_number=(form.get("vat_number") or "").strip() or None,
                            address={
                                "line1": (form.get("line1") or "").strip(),
                                "postal_code": (form.get("postal_code") or "").strip(),
                                "city": (form.get("city") or "").strip(),
                                "country": (form.get("country") or "").strip().upper(),
                            },
                        )
                    except StripeSimError as exc:
                        error = "Adresse e-mail requise." if exc.param == "email" else exc.message
                    else:
                        target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                        return Response(status=303, headers={"Location": target})
            customer = self.objects.get(session["customer"] or "") or {}
            email = customer.get("email") or session.get("customer_email") or ""
            name = customer.get("name") or ""
            address = customer.get("address") or {}
            body = f"""<h1>Abonnement</h1>
{self._checkout_summary(session)}
{f'<p class="error" id="error" role="alert">{html.escape(error)}</p>' if error else ""}
<form method="post" action="{self.prefix}/checkout/{html.escape(session["id"])}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" value="{html.escape(email)}">
<label for="name">Nom / raison sociale</label>
<input id="name" name="name" value="{html.escape(name)}">
<label for="vat_number">Numéro de TVA intracommunautaire (facultatif)</label>
<input id="vat_number" name="vat_number" placeholder="FR12345678901">
<label for="line1">Adresse</label>
<input id="line1" name="line1" value="{html.escape(address.get("line1") or "1 rue de l'Exemple")}">
<label for="postal_code">Code postal</label>
<input id="postal_code" name="postal_code" value="{html.escape(address.get("postal_code") or "75002")}">
<label for="city">Ville</label>
<input id="city" name="city" value="{html.escape(address.get("city") or "Paris")}">
<label for="country">Pays</label>
<input id="country" name="country" value="{html.escape(address.get("country") or "FR")}">
<label for="card">Carte</label>
<input id="card" name="card" value="4242 4242 4242 4242" readonly>
<button class="primary" id="pay-button" type="submit" name="action" value="pay">Payer</button>
<button class="danger" id="decline-button" type="submit" name="action" value="decline">Carte refusée</button>
</form>
<p><a id="cancel-link" href="{html.escape(session["cancel_url"])}">← Annuler et revenir</a></p>"""
            return self._html("Paiement — Qonto Connector", body)

    def page_portal(self, request: Request, object_id: str) -> Response:
        with self.lock:
            portal = self.objects.get(object_id)
            if portal is None or portal.get("object") != "billing_portal.session":
                return self._html("Session introuvable", "<h1>Session du portail introuvable</h1>", 404)
            customer = self.objects[portal["customer"]]
            subs = sorted(
                (s for s in self._of_kind("subscription") if s["customer"] == customer["id"]),
                key=lambda s: (s["status"] != "canceled", s["created"], s["_seq"]),
            )
            sub = subs[-1] if subs else None
            if request.method == "POST":
                if sub is None or sub["status"] == "canceled":
                    return Response(status=303, headers={"Location": f"{self.prefix}/portal/{object_id}"})
                action = request.form.get("action")
                done = action
                try:
                    if action == "switch":
                        price = self._get(request.form.get("price", ""), "price")
                        current = sub["items"]["data"][0]["price"]
                        shorter = (
                            current["recurring"]["interval"] == "year"
                            and price["recurring"]["interval"] == "month"
                        )
                        self.switch_plan(
                            sub["id"],
                            price["id"],
                            "always_invoice",
                            at_period_end=shorter and self.settings.portal_downgrade_at_period_end,
                        )
                    elif action == "cancel":
                        self.cancel(sub["id"], at_period_end=True)
                    elif action == "uncancel":
                        self.uncancel(sub["id"])
                    else:
                        done = "unknown"
                except StripeSimError as exc:
                    done = "error:" + exc.message
                return Response(
                    status=303,
                    headers={"Location": f"{self.prefix}/portal/{object_id}?{urlencode({'done': done})}"},
                )
            return self._html(
                "Gérer l'abonnement", self._portal_body(portal, customer, sub, request.args.get("done"))
            )

    def _portal_body(
        self, portal: dict[str, Any], customer: dict[str, Any], sub: dict[str, Any] | None, done: str | None
    ) -> str:
        notices = {
            "switch": "Votre formule a été modifiée.",
            "cancel": "Votre abonnement prendra fin à la fin de la période en cours.",
            "uncancel": "Votre abonnement a été renouvelé.",
        }
        parts = [
            "<h1>Gérer l'abonnement</h1>",
            f'<p id="customer">{html.escape(customer.get("name") or "")} — '
            f"{html.escape(customer.get('email') or '')}</p>",
        ]
        if done:
            cls = "error" if done.startswith("error:") else "notice"
            text = done[len("error:") :] if done.startswith("error:") else notices.get(done, done)
            parts.append(f'<p class="{cls}" id="notice" role="status">{html.escape(text)}</p>')
        action_url = f"{self.prefix}/portal/{portal['id']}"
        if sub is None or sub["status"] == "canceled":
            parts.append('<p id="no-subscription">Aucun abonnement actif.</p>')
        else:
            item = sub["items"]["data"][0]
            price = item["price"]
            label, unit = _interval_label(price)
            end = item["current_period_end"]
            status_line = (
                f"Prend fin le {_date_fr(end)}"
                if sub["cancel_at_period_end"]
                else f"Renouvellement le {_date_fr(end)}"
            )
            parts.append(
                f'<p>Formule : <strong id="plan">{html.escape(label)}</strong> — '
                f"{euros(price['unit_amount'] * item['quantity'])} HT / {unit}</p>"
                f'<p>Statut : <span id="status">{html.escape(sub["status"])}</span> — '
                f'<span id="period">{status_line}</span></p>'
            )
            if sub["_pending_price"]:
                pending_label = _interval_label(self.objects[sub["_pending_price"]])[0]
                parts.append(
                    f'<p id="pending">Passage à la formule {html.escape(pending_label)} '
                    f"le {_date_fr(end)}.</p>"
                )
            others = [
                p
                for p in self._of_kind("price")
                if p["product"] == price["product"]
                and p["active"]
                and p["type"] == "recurring"
                and p["id"] != price["id"]
            ]
            for other in others:
                other_label, other_unit = _interval_label(other)
                key = other.get("lookup_key") or other["id"]
                label_text = (
                    f"Passer à la formule {other_label} ({euros(other['unit_amount'])} HT / {other_unit})"
                )
                parts.append(
                    _form(
                        action_url,
                        "switch",
                        f"switch-to-{key}",
                        label_text,
                        "primary",
                        {"price": other["id"]},
                    )
                )
            if sub["cancel_at_period_end"]:
                parts.append(
                    _form(action_url, "uncancel", "renew-button", "Renouveler l'abonnement", "primary")
                )
            else:
                parts.append(_form(action_url, "cancel", "cancel-button", "Annuler l'abonnement", "danger"))
        invoices = sorted(
            (i for i in self._of_kind("invoice") if i["customer"] == customer["id"]),
            key=lambda i: (i["created"], i["_seq"]),
            reverse=True,
        )
        if invoices:
            parts.append("<h2>Factures</h2><table>")
            for inv in invoices:
                parts.append(
                    f'<tr><td><a href="{html.escape(inv["hosted_invoice_url"])}">'
                    f"{html.escape(inv['number'])}</a></td>"
                    f"<td>{_date_fr(inv['created'])}</td><td>{html.escape(inv['status'])}</td>"
                    f'<td class="amount">{euros(inv["total"])}</td></tr>'
                )
            parts.append("</table>")
        if portal["return_url"]:
            parts.append(
                f'<p><a id="return-link" href="{html.escape(portal["return_url"])}">← Retour</a></p>'
            )
        return "\n".join(parts)

    def page_invoice(self, request: Request, object_id: str) -> Response:
        with self.lock:
            invoice = self.objects.get(object_id)
            if invoice is None or invoice.get("object") != "invoice":
                return self._html("Facture introuvable", "<h1>Facture introuvable</h1>", 404)
            message = ""
            if request.method == "POST" and invoice["status"] == "open":
                self.pay_invoice(object_id)
                message = '<p class="notice" id="notice">Paiement effectué.</p>'
            rows = "".join(
                f"<tr><td>{html.escape(line['description'])}</td>"
                f'<td class="amount">{euros(line["amount"])}</td></tr>'
                for line in invoice["lines"]["data"]
            )
            tax = invoice["total"] - invoice["subtotal"]
            body = f"""<h1>Facture {html.escape(invoice["number"])}</h1>
{message}<p>Statut : <strong id="status">{html.escape(invoice["status"])}</strong></p>
<table>{rows}<tr><td>TVA</td><td class="amount">{euros(tax)}</td></tr>
<tr class="total"><td>Total</td><td class="amount" id="total">{euros(invoice["total"])}</td></tr>
<tr><td>Reste à payer</td>
<td class="amount" id="remaining">{euros(invoice["amount_remaining"])}</td></tr></table>"""
            if invoice["status"] == "open":
                action_url = f"{self.prefix}/invoice/{invoice['id']}"
                body += _form(action_url, "pay", "pay-invoice-button", "Payer la facture", "primary")
            return self._html(f"Facture {invoice['number']}", body)

    # --- control API (/_sim/stripe/...) ---------------------------------------------------------------
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


__all__ = [
    "API_VERSION",
    "StripeSim",
    "StripeSimError",
    "StripeSimSettings",
    "parse_stripe_params",
    "sign_payload",
]
