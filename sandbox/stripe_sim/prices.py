"""The catalog: the connector's product and its monthly and annual prices."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.demo import (
    STRIPE_PRICE_ANNUAL,
    STRIPE_PRICE_ANNUAL_CENTS,
    STRIPE_PRICE_MONTHLY,
    STRIPE_PRICE_MONTHLY_CENTS,
    STRIPE_PRODUCT_ID,
)
from sandbox.stripe_sim.base import StripeBase
from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.model import render
from sandbox.stripe_sim.params import as_bool, as_dict


class Catalog(StripeBase):
    """Products and prices."""

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
            return render(price)

    def api_get_product(self, request: Request, object_id: str) -> Response:
        return self._call(request, lambda params: self._get(object_id, "product"))

    def api_list_products(self, request: Request) -> Response:
        def run(params: dict[str, Any]) -> dict[str, Any]:
            items = self._of_kind("product")
            if "active" in params:
                active = as_bool(params["active"], "active")
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
                active = as_bool(params["active"], "active")
                items = [p for p in items if p["active"] == active]
            if "type" in params:
                items = [p for p in items if p["type"] == params["type"]]
            if "currency" in params:
                items = [p for p in items if p["currency"] == params["currency"]]
            recurring = as_dict(params.get("recurring"), "recurring")
            if "interval" in recurring:
                items = [p for p in items if (p["recurring"] or {}).get("interval") == recurring["interval"]]
            return self._list(items, params, "/v1/prices")

        return self._call(request, run)
