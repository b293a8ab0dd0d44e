"""Invoice lines: parsing one item, discounts, and the amounts in cents (spec §9 "Amounts")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.qonto.base import QontoBase
from sandbox.qonto.errors import add_error
from sandbox.qonto.model import FRENCH_VAT_RATES, decimal_string, round_cents, to_cents


class Items(QontoBase):
    """Line parsing and totals."""

    def _parse_item(self, item: Any, i: int, errors: list[dict[str, Any]]) -> dict[str, Any] | None:
        at = ("items", i)  # where this item's errors point
        if not isinstance(item, dict):
            add_error(errors, "invalid", "each item must be an object", *at)
            return None
        n = len(errors)
        title = item.get("title")
        if not title or not isinstance(title, str) or not title.strip():
            add_error(errors, "blank", "title is required", *at, "title")
        elif len(title) > 40:
            add_error(errors, "too_long", "title is too long (maximum 40 characters)", *at, "title")
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            add_error(errors, "invalid", "description must be a string", *at, "description")
        elif description is not None and len(description) > 1800:
            add_error(
                errors, "too_long", "description is too long (maximum 1800 characters)", *at, "description"
            )
        unit = item.get("unit")
        if unit is not None and (not isinstance(unit, str) or len(unit) > 20):
            add_error(errors, "too_long", "unit must be a string of ≤ 20 characters", *at, "unit")
        qty = decimal_string(item.get("quantity"))
        if qty is None:
            add_error(errors, "invalid", 'quantity must be a decimal string such as "1"', *at, "quantity")
        elif qty <= 0:
            add_error(errors, "invalid", "quantity must be greater than 0", *at, "quantity")
        price = item.get("unit_price")
        price_value: Decimal | None = None
        if not isinstance(price, dict):
            add_error(
                errors, "invalid", 'unit_price must be {"value": "…", "currency": "EUR"}', *at, "unit_price"
            )
        else:
            price_value = decimal_string(price.get("value"))
            if price_value is None:
                add_error(
                    errors,
                    "invalid",
                    'unit_price.value must be a decimal string such as "1200.00"',
                    *at,
                    "unit_price",
                    "value",
                )
            elif price_value < 0:
                add_error(
                    errors, "invalid", "unit_price.value must not be negative", *at, "unit_price", "value"
                )
            if price.get("currency") != "EUR":
                add_error(errors, "not_in_list", "Only EUR is allowed", *at, "unit_price", "currency")
        rate = decimal_string(item.get("vat_rate"))
        if rate is None:
            add_error(
                errors, "invalid", 'vat_rate must be a decimal string fraction such as "0.2"', *at, "vat_rate"
            )
        elif not Decimal(0) <= rate <= Decimal(1):
            add_error(
                errors, "invalid", 'vat_rate is a fraction between 0 and 1: "0.2" means 20 %', *at, "vat_rate"
            )
        elif self.config.qonto_french_vat_only and rate not in FRENCH_VAT_RATES:
            add_error(
                errors,
                "not_in_list",
                "vat_rate must be one of 0, 0.021, 0.055, 0.085, 0.1, 0.2",
                *at,
                "vat_rate",
            )
        reason = item.get("vat_exemption_reason")
        if reason is not None and not isinstance(reason, str):
            add_error(errors, "invalid", "vat_exemption_reason must be a string", *at, "vat_exemption_reason")
        discount = parse_discount(item.get("discount"), ("items", i, "discount"), errors)
        if len(errors) > n or qty is None or price_value is None or rate is None:
            return None
        return {
            "title": title,
            "description": description,
            "quantity": item["quantity"],
            "unit": unit,
            "unit_price_value": price["value"] if isinstance(price, dict) else None,
            "unit_price_cents": to_cents(price_value),
            "vat_rate": item["vat_rate"],
            "vat_exemption_reason": reason,
            "discount": dict(item["discount"]) if discount else None,
            "_qty": qty,
            "_rate": rate,
            "_discount": discount,
            "_index": i,
        }

    def _compute_lines(
        self,
        parsed: list[dict[str, Any]],
        invoice_discount: tuple[str, Decimal] | None,
        errors: list[dict[str, Any]],
    ) -> tuple[list[dict[str, Any]], int, int, int]:
        """Lines and totals, in cents. Totals are the sums of the lines (spec §9 "Amounts")."""
        nets: list[Decimal] = []
        for p in parsed:
            net = p["_qty"] * Decimal(p["unit_price_cents"]) / 100
            if p["_discount"] is not None:
                kind, value = p["_discount"]
                net = net * (1 - value) if kind == "percentage" else net - value
                if net < 0:
                    add_error(
                        errors,
                        "invalid",
                        "discount is larger than the line amount",
                        "items",
                        p["_index"],
                        "discount",
                        "value",
                    )
            nets.append(net)
        if invoice_discount is not None:
            kind, value = invoice_discount
            gross = sum(nets, Decimal(0))
            if kind == "percentage":
                nets = [n * (1 - value) for n in nets]
            elif value > gross:
                add_error(
                    errors, "invalid", "discount is larger than the invoice amount", "discount", "value"
                )
            elif gross > 0:
                nets = [n - value * n / gross for n in nets]  # spread pro rata over the lines
        if errors:
            return [], 0, 0, 0
        lines: list[dict[str, Any]] = []
        for p, net in zip(parsed, nets, strict=True):
            subtotal = to_cents(net)
            vat = round_cents(Decimal(subtotal) * p["_rate"])
            line = {k: v for k, v in p.items() if not k.startswith("_")}
            line.update(subtotal_cents=subtotal, total_vat_cents=vat, total_amount_cents=subtotal + vat)
            lines.append(line)
        sub = sum(line["subtotal_cents"] for line in lines)
        vat_total = sum(line["total_vat_cents"] for line in lines)
        return lines, sub, vat_total, sub + vat_total


def parse_discount(
    raw: Any, where: tuple[str | int, ...], errors: list[dict[str, Any]]
) -> tuple[str, Decimal] | None:
    """A discount: ``{"type": "percentage", "value": "0.1"}`` (a fraction) or ``"absolute"`` (euros)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        add_error(errors, "invalid", "discount must be an object {type, value}", *where)
        return None
    kind = raw.get("type")
    if kind not in ("percentage", "absolute"):
        add_error(errors, "not_in_list", "discount type must be 'percentage' or 'absolute'", *where, "type")
        return None
    value = decimal_string(raw.get("value"))
    if value is None:
        add_error(errors, "invalid", "discount value must be a decimal string", *where, "value")
        return None
    if value < 0 or (kind == "percentage" and value > 1):
        add_error(
            errors,
            "invalid",
            "a percentage discount is a fraction between 0 and 1; an absolute one is ≥ 0",
            *where,
            "value",
        )
        return None
    return kind, value
