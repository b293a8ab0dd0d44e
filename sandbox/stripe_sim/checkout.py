"""Checkout Sessions in subscription mode: create (with Stripe's validation), read, list, line
items, expire, and what paying or declining on the hosted page does.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.stripe_sim.customers import Customers
from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.model import EU_COUNTRIES, render
from sandbox.stripe_sim.params import (
    CHECKOUT_CREATE_PARAMS,
    apply_metadata,
    as_bool,
    as_dict,
    as_int,
    check_unknown,
    check_url,
    missing_param,
)
from sandbox.stripe_sim.subscriptions import Subscriptions


class Checkout(Subscriptions, Customers):
    """Checkout Sessions."""

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        check_unknown(params, CHECKOUT_CREATE_PARAMS)
        mode = params.get("mode")
        if not mode:
            raise missing_param("mode")
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
        customer_update = as_dict(params.get("customer_update"), "customer_update")
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
            item = as_dict(raw, f"line_items[{i}]")
            check_unknown(
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
                raise missing_param(f"line_items[{i}][price]")
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
            quantity = as_int(item["quantity"], f"line_items[{i}][quantity]")
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
        success_url = check_url(params.get("success_url"), "success_url")
        cancel_url = check_url(params.get("cancel_url"), "cancel_url")
        client_reference_id = params.get("client_reference_id")
        if client_reference_id is not None and len(client_reference_id) > 200:
            raise StripeSimError(
                "Invalid string: client_reference_id must be at most 200 characters",
                param="client_reference_id",
                code="string_too_long",
            )
        automatic_tax = as_dict(params.get("automatic_tax"), "automatic_tax")
        if "automatic_tax" in params and "enabled" not in automatic_tax:
            raise missing_param("automatic_tax[enabled]")
        tax_enabled = as_bool(automatic_tax.get("enabled", False), "automatic_tax[enabled]")
        tax_id_collection = as_dict(params.get("tax_id_collection"), "tax_id_collection")
        if "tax_id_collection" in params and "enabled" not in tax_id_collection:
            raise missing_param("tax_id_collection[enabled]")
        tax_ids_enabled = as_bool(tax_id_collection.get("enabled", False), "tax_id_collection[enabled]")
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
        subscription_data = as_dict(params.get("subscription_data"), "subscription_data")
        sub_metadata = apply_metadata(
            {}, subscription_data.get("metadata", {}), "subscription_data[metadata]"
        )
        trial_days = subscription_data.get("trial_period_days")
        trial_days_int = as_int(trial_days, "subscription_data[trial_period_days]") if trial_days else None
        trial_end = subscription_data.get("trial_end")
        trial_end_int = as_int(trial_end, "subscription_data[trial_end]") if trial_end else None
        now = self.clock.epoch()
        expires_at = as_int(params["expires_at"], "expires_at") if params.get("expires_at") else now + 86400
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
                as_bool(params["allow_promotion_codes"], "allow_promotion_codes")
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
            "metadata": apply_metadata({}, params.get("metadata", {})),
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
            return render(self._expire_session(session_id))

    def decline_checkout(self, session_id: str) -> dict[str, Any]:
        """A declined card: nothing is created, the session stays open, no webhook."""
        with self.lock:
            session = self._session(session_id)
            if session["status"] != "open":
                raise StripeSimError(f"Checkout session {session_id} is {session['status']}", 409)
            session["_declines"] = session.get("_declines", 0) + 1
            return render(session)

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
            return render(session)
