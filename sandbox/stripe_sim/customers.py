"""Customers: create, read, update, delete, list and search."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.model import render
from sandbox.stripe_sim.params import CUSTOMER_PARAMS, apply_metadata, as_dict, check_unknown, missing_param
from sandbox.stripe_sim.webhooks import Webhooks


class Customers(Webhooks):
    """Customers endpoints and ``create_customer`` for tests."""

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
            return render(self._create_customer({k: v for k, v in params.items() if v is not None}))

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        check_unknown(params, CUSTOMER_PARAMS)
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
            tax = as_dict(tax, f"tax_id_data[{i}]")
            if not tax.get("type") or not tax.get("value"):
                raise missing_param(f"tax_id_data[{i}][value]")
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
                    k: as_dict(address, "address").get(k)
                    for k in ("city", "country", "line1", "line2", "postal_code", "state")
                }
            )
        if "metadata" in params:
            customer["metadata"] = apply_metadata(customer["metadata"], params["metadata"])
        if "preferred_locales" in params:
            customer["preferred_locales"] = list(params["preferred_locales"] or [])
        if "tax_exempt" in params:
            if params["tax_exempt"] not in ("none", "exempt", "reverse"):
                raise StripeSimError(f"Invalid tax_exempt: {params['tax_exempt']}", param="tax_exempt")
            customer["tax_exempt"] = params["tax_exempt"]
        if "invoice_settings" in params:
            settings = as_dict(params["invoice_settings"], "invoice_settings")
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
            check_unknown(params, CUSTOMER_PARAMS - {"payment_method", "tax_id_data", "test_clock"})
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
                raise missing_param("query")
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
