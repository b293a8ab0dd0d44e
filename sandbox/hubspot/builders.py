"""Python API that builds CRM content for tests, benchmarks and the demo."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sandbox.hubspot.model import hs_time, money, to_decimal
from sandbox.hubspot.records import Records


class Builders(Records):
    """Companies, contacts, deals with their line items, and bulk deals."""

    def create_company(
        self,
        portal_id: int,
        properties: dict[str, Any] | None = None,
        *,
        object_id: str | None = None,
        **props: Any,
    ) -> dict[str, Any]:
        return self.create_object(
            portal_id, "companies", {**(properties or {}), **props}, object_id=object_id
        )

    def create_contact(
        self,
        portal_id: int,
        properties: dict[str, Any] | None = None,
        *,
        object_id: str | None = None,
        **props: Any,
    ) -> dict[str, Any]:
        return self.create_object(portal_id, "contacts", {**(properties or {}), **props}, object_id=object_id)

    def create_deal(
        self,
        portal_id: int,
        properties: dict[str, Any] | None = None,
        *,
        company_id: str | None = None,
        line_items: Iterable[dict[str, Any]] = (),
        object_id: str | None = None,
        **props: Any,
    ) -> dict[str, Any]:
        """A deal, its primary company (typeId 5, plus the unlabeled 341) and its line items."""
        values = {"deal_currency_code": "EUR", **(properties or {}), **props}
        deal = self.create_object(portal_id, "deals", values, object_id=object_id)
        if company_id is not None:
            self.associate(portal_id, "deals", deal["id"], "companies", str(company_id), 5)
        for item in line_items:
            item = dict(item)
            item_id = item.pop("id", None)
            self.create_line_item(portal_id, deal["id"], item, object_id=item_id)
        return self.get_object(portal_id, "deals", deal["id"]) or deal

    def create_line_item(
        self,
        portal_id: int,
        deal_id: str | None,
        properties: dict[str, Any] | None = None,
        *,
        object_id: str | None = None,
        **props: Any,
    ) -> dict[str, Any]:
        """A line item (amount computed from quantity, price and discounts) under ``deal_id``."""
        values = {**(properties or {}), **props}
        if "price" not in values and values.get("amount") not in (None, ""):
            qty = to_decimal(str(values.get("quantity") or 1), Decimal(1))
            values["price"] = money(Decimal(str(values["amount"])) / qty)
        item = self.create_object(portal_id, "line_items", values, object_id=object_id)
        if deal_id is not None:
            self.associate(portal_id, "deals", str(deal_id), "line_items", item["id"], 19)
        return self.get_object(portal_id, "line_items", item["id"]) or item

    def bulk_create_deals(
        self,
        portal_id: int,
        n: int,
        *,
        company_id: str | None = None,
        amount: str = "1000",
        name_prefix: str = "Deal de charge",
        dealstage: str = "closedwon",
    ) -> list[str]:
        """``n`` deals in one go (no validation, no line items): fast enough for 10,000."""
        with self.lock:
            portal = self._get_portal(portal_id)
            objects = portal["objects"]["deals"]
            ids: list[str] = []
            ts = hs_time(self.clock.tick())
            for i in range(n):
                oid = self._next_id("deals")
                objects[oid] = {
                    "id": oid,
                    "properties": {
                        "dealname": f"{name_prefix} {i + 1}",
                        "amount": amount,
                        "deal_currency_code": portal.get("currency", "EUR"),
                        "pipeline": "default",
                        "dealstage": dealstage,
                        "createdate": ts,
                        "hs_lastmodifieddate": ts,
                        "hs_object_id": oid,
                    },
                    "createdAt": ts,
                    "updatedAt": ts,
                    "archived": False,
                    "archivedAt": None,
                }
                if company_id is not None:
                    self._assoc_add(portal, "deals", oid, "companies", str(company_id), 5)
                ids.append(oid)
            return ids

    def delete_deal(self, portal_id: int, deal_id: str) -> bool:
        """The deal is deleted in HubSpot (archived: reads answer 404, search skips it)."""
        with self.lock:
            return self._archive(self._get_portal(portal_id), "deals", str(deal_id))
