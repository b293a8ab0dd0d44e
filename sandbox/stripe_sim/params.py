"""Stripe's form encoding (``a[b][0]=c``) parsed into nested values, typed readers that answer
Stripe's errors, and the parameters each endpoint accepts (unknown ones are refused, as Stripe does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from sandbox.stripe_sim.errors import StripeSimError

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


def as_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "True", "1"):
        return True
    if value in ("false", "False", "0"):
        return False
    raise StripeSimError(f"Invalid boolean: {value}", param=param, code="parameter_invalid_boolean")


def as_int(value: Any, param: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeSimError(
            f"Invalid integer: {value}", param=param, code="parameter_invalid_integer"
        ) from None


def as_dict(value: Any, param: str) -> dict[str, Any]:
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeSimError(f"Invalid hash for {param}", param=param, code="parameter_invalid_hash")
    return value


def check_unknown(params: dict[str, Any], allowed: Iterable[str], prefix: str = "") -> None:
    allowed_set = set(allowed)
    for key in params:
        if key not in allowed_set:
            name = f"{prefix}[{key}]" if prefix else key
            raise StripeSimError(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")


def missing_param(param: str) -> StripeSimError:
    return StripeSimError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def check_url(value: Any, param: str) -> str:
    if not isinstance(value, str) or not value:
        raise missing_param(param)
    parts = urlsplit(value.replace("{CHECKOUT_SESSION_ID}", "x"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StripeSimError("Not a valid URL", param=param, code="url_invalid")
    return value


def apply_metadata(current: dict[str, str], update: Any, param: str = "metadata") -> dict[str, str]:
    """Stripe's metadata update: merge, an empty value deletes the key, ``metadata=""`` clears all."""
    if update == "":
        return {}
    new = dict(current)
    for key, value in as_dict(update, param).items():
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
