"""``StripeSim``: the Stripe v1 API under ``/stripe``, assembled from one mixin per resource."""

from __future__ import annotations

from werkzeug.routing import Rule

from sandbox.stripe_sim.control import Control
from sandbox.stripe_sim.prices import Catalog


class StripeSim(Control, Catalog):
    """The Stripe simulator (see the package docstring)."""

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
