"""Strict validation of a flat invoice body (create and PATCH)."""

from __future__ import annotations

import json
from typing import Any

from sandbox.qonto.errors import QontoSimError, add_error, attr_pointer, json_object, wrapped_body
from sandbox.qonto.items import Items, parse_discount
from sandbox.qonto.model import (
    CREATABLE_STATUSES,
    DEFAULT_DISCOUNT_CONDITIONS,
    DEFAULT_LATE_PAYMENT_PENALTIES,
    DEFAULT_LEGAL_FIXED_COMPENSATION,
    REQUIRED_ADDRESS_FIELDS,
    normalise_iban,
    parse_date,
)
from sandbox.qonto.serialize import Serializers
from sandbox.qonto.state import MENTION_FIELDS, Client, Invoice, Organization


class InvoiceValidation(Items, Serializers):
    """Invoice bodies to invoice fields."""

    def _validate_invoice(self, org: Organization, body: Any) -> dict[str, Any]:
        """Strict validation of a flat invoice body. Returns Invoice fields (+ status, requested_number)."""
        body = json_object(body)
        if "client_invoice" in body:
            raise wrapped_body(
                "client_invoice",
                "The body must be flat: send the invoice attributes without a 'client_invoice' wrapper",
            )
        errors: list[dict[str, Any]] = []
        # client
        client: Client | None = None
        client_id = body.get("client_id")
        if not client_id:
            add_error(errors, "blank", "client_id is required", "client_id")
        elif not isinstance(client_id, str) or client_id not in org.clients:
            add_error(errors, "not_found", f"Client {client_id!r} not found", "client_id")
        else:
            client = org.clients[client_id]
            cname = client.display_name
            if not client.data.get("currency"):
                add_error(errors, "blank", f"Client {cname!r} has no currency: update the client", "currency")
            elif str(client.data["currency"]).upper() != "EUR":
                add_error(
                    errors,
                    "invalid",
                    f"Client {cname!r} currency {client.data['currency']} does not match "
                    "the invoice currency EUR",
                    "currency",
                )
            if not client.data.get("locale"):
                add_error(errors, "blank", f"Client {cname!r} has no locale: update the client", "locale")
            address = client.data.get("billing_address") or {}
            for field in REQUIRED_ADDRESS_FIELDS:
                if not address.get(field):
                    add_error(
                        errors,
                        "blank",
                        f"Client {cname!r} billing address has no {field}: update the client",
                        "billing_address",
                        field,
                    )
        # dates
        issue = parse_date(body.get("issue_date"))
        due = parse_date(body.get("due_date"))
        for key, parsed in (("issue_date", issue), ("due_date", due)):
            if body.get(key) in (None, ""):
                add_error(errors, "blank", f"{key} is required", key)
            elif parsed is None:
                add_error(errors, "invalid", f"{key} must be a date formatted YYYY-MM-DD", key)
        if issue and due and due < issue:
            add_error(errors, "invalid", "due_date must be on or after issue_date", "due_date")
        perf_start = parse_date(body.get("performance_start_date"))
        perf_end = parse_date(body.get("performance_end_date"))
        for key, parsed in (("performance_start_date", perf_start), ("performance_end_date", perf_end)):
            if body.get(key) not in (None, "") and parsed is None:
                add_error(errors, "invalid", f"{key} must be a date formatted YYYY-MM-DD", key)
        if body.get("performance_end_date") and not body.get("performance_start_date"):
            add_error(
                errors,
                "blank",
                "performance_start_date is required with performance_end_date",
                "performance_start_date",
            )
        if perf_start and perf_end and perf_end < perf_start:
            add_error(
                errors,
                "invalid",
                "performance_end_date must be on or after performance_start_date",
                "performance_end_date",
            )
        # currency
        currency = body.get("currency")
        if currency in (None, ""):
            add_error(errors, "blank", "currency is required", "currency")
        elif currency != "EUR":
            add_error(errors, "not_in_list", "Only EUR is allowed", "currency")
        # payment methods
        iban = ""
        pm = body.get("payment_methods")
        if pm is not None and not isinstance(pm, dict):
            add_error(errors, "invalid", "payment_methods must be an object {iban}", "payment_methods")
        else:
            raw_iban = (pm or {}).get("iban")
            if not raw_iban or not isinstance(raw_iban, str) or not raw_iban.strip():
                add_error(errors, "invalid_iban", "IBAN is empty", "payment_methods", "iban")
            else:
                iban = normalise_iban(raw_iban)
                ok = any(
                    a.iban == iban and a.status == "active" and a.currency == "EUR" for a in org.bank_accounts
                )
                if not ok:
                    add_error(
                        errors,
                        "invalid_iban",
                        "IBAN is not one of the organization's active EUR bank accounts",
                        "payment_methods",
                        "iban",
                    )
        # status and number
        status = body.get("status")
        if status is not None and status not in CREATABLE_STATUSES:
            add_error(errors, "not_in_list", "status must be 'draft' or 'unpaid'", "status")
        number = body.get("number")
        if number is not None and (not isinstance(number, str) or not number.strip() or len(number) > 40):
            add_error(errors, "invalid", "number must be a non-empty string of ≤ 40 characters", "number")
            number = None
        # free texts
        texts: dict[str, str | None] = {}
        for key in ("purchase_order", *MENTION_FIELDS, "contact_email", "upload_id", "quote_id"):
            value = body.get(key)
            if value is not None and not isinstance(value, str):
                add_error(errors, "invalid", f"{key} must be a string", key)
                value = None
            texts[key] = value
        settings = body.get("settings")
        if settings is not None:
            if not isinstance(settings, dict):
                add_error(errors, "invalid", "settings must be an object", "settings")
                settings = None
            else:
                share = settings.get("legal_capital_share")
                if isinstance(share, dict) and share.get("currency") not in (None, "EUR"):
                    add_error(
                        errors,
                        "not_in_list",
                        "Only EUR is allowed",
                        "settings",
                        "legal_capital_share",
                        "currency",
                    )
                vat_number = settings.get("vat_number")
                if isinstance(vat_number, str) and len(vat_number) > 20:
                    add_error(
                        errors, "too_long", "vat_number is too long (maximum 20)", "settings", "vat_number"
                    )
        invoice_discount = parse_discount(body.get("discount"), ("discount",), errors)
        # items
        items = body.get("items")
        parsed_items: list[dict[str, Any]] = []
        if items is None or items == []:
            add_error(errors, "blank", "items must contain at least one item", "items")
        elif not isinstance(items, list):
            add_error(errors, "invalid", "items must be a list", "items")
        else:
            for i, item in enumerate(items):
                parsed_item = self._parse_item(item, i, errors)
                if parsed_item is not None:
                    parsed_items.append(parsed_item)
        lines: list[dict[str, Any]] = []
        sub = vat = total = 0
        if not errors:
            lines, sub, vat, total = self._compute_lines(parsed_items, invoice_discount, errors)
        if errors:
            raise QontoSimError(422, errors)
        assert client is not None
        assert issue is not None
        assert due is not None
        return {
            "client_id": client.id,
            "client": self._client_summary(client),
            "status": status,
            "requested_number": number,
            "issue_date": issue.isoformat(),
            "due_date": due.isoformat(),
            "performance_start_date": perf_start.isoformat() if perf_start else None,
            "performance_end_date": perf_end.isoformat() if perf_end else None,
            "payment_iban": iban,
            "items": lines,
            "subtotal_cents": sub,
            "vat_cents": vat,
            "total_cents": total,
            "discount": dict(body["discount"]) if invoice_discount else None,
            "settings": json.loads(json.dumps(settings)) if settings else None,
            "purchase_order": texts["purchase_order"],
            "header": texts["header"],
            "footer": texts["footer"],
            "terms_and_conditions": texts["terms_and_conditions"],
            "discount_conditions": texts["discount_conditions"] or DEFAULT_DISCOUNT_CONDITIONS,
            "late_payment_penalties": texts["late_payment_penalties"] or DEFAULT_LATE_PAYMENT_PENALTIES,
            "legal_fixed_compensation": texts["legal_fixed_compensation"] or DEFAULT_LEGAL_FIXED_COMPENSATION,
            "contact_email": texts["contact_email"] or org.contact_email,
            "upload_id": texts["upload_id"],
            "quote_id": texts["quote_id"],
        }

    @staticmethod
    def _check_number_free(org: Organization, number: str | None) -> None:
        """A requested invoice number must not be taken in the organization (409 otherwise)."""
        if number is not None and number in org.numbers:
            raise QontoSimError.one(
                409,
                "invoice_number_already_exists",
                f"An invoice with number {number!r} already exists",
                pointer=attr_pointer("number"),
            )

    def _invoice_body(self, inv: Invoice) -> dict[str, Any]:
        """The request body that would produce this invoice (PATCH merges into it)."""
        return {
            "client_id": inv.client_id,
            "issue_date": inv.issue_date,
            "due_date": inv.due_date,
            "currency": inv.currency,
            "payment_methods": {"iban": inv.payment_iban},
            "number": inv.requested_number,
            "purchase_order": inv.purchase_order,
            **{name: getattr(inv, name) for name in MENTION_FIELDS},
            "contact_email": inv.contact_email,
            "performance_start_date": inv.performance_start_date,
            "performance_end_date": inv.performance_end_date,
            "discount": inv.discount,
            "settings": inv.settings,
            "upload_id": inv.upload_id,
            "quote_id": inv.quote_id,
            "items": [
                {
                    k: v
                    for k, v in {
                        "title": line["title"],
                        "description": line.get("description"),
                        "quantity": line["quantity"],
                        "unit": line.get("unit"),
                        "unit_price": {"value": line.get("unit_price_value"), "currency": "EUR"},
                        "vat_rate": line["vat_rate"],
                        "vat_exemption_reason": line.get("vat_exemption_reason"),
                        "discount": line.get("discount"),
                    }.items()
                    if v is not None
                }
                for line in inv.items
            ],
        }
