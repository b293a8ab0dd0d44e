"""Invoices of subscriptions: lines per period, tax, and the hosted invoice page's data."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.stripe_sim.model import RETRY_DELAY_S
from sandbox.stripe_sim.pages import euros, interval_label
from sandbox.stripe_sim.webhooks import Webhooks


class Invoices(Webhooks):
    """Invoices."""

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
        label, unit = interval_label(price)
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
