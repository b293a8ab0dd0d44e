"""The JSON Qonto answers for an organization, a bank account, a client and an invoice."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Response

from sandbox.core import iso, json_response
from sandbox.qonto.base import QontoBase
from sandbox.qonto.model import QONTO_BIC, format_cents
from sandbox.qonto.state import LEGAL_FIELDS, MENTION_FIELDS, BankAccount, Client, Invoice, Organization


class Serializers(QontoBase):
    """Records to Qonto's JSON."""

    def _organization_json(self, org: Organization) -> dict[str, Any]:
        return {
            "id": org.id,
            "slug": org.login,
            "legal_name": org.legal_name,
            **{name: getattr(org, name) for name in LEGAL_FIELDS},
            "contract_signed_at": iso(org.contract_signed_at),
            "locale": org.locale,
            "bank_accounts": [self._account_json(org, a) for a in self._sorted_accounts(org)],
        }

    def _account_json(self, org: Organization, a: BankAccount) -> dict[str, Any]:
        return {
            "id": a.id,
            "slug": a.slug,
            "iban": a.iban,
            "bic": a.bic,
            "currency": a.currency,
            "balance": a.balance_cents / 100,
            "balance_cents": a.balance_cents,
            "authorized_balance": a.authorized_balance_cents / 100,
            "authorized_balance_cents": a.authorized_balance_cents,
            "name": a.name,
            "status": a.status,
            "main": a.main,
            "is_external_account": a.is_external_account,
            "organization_id": org.id,
            "updated_at": iso(a.updated_at),
        }

    def _client_json(self, c: Client) -> dict[str, Any]:
        d = c.data
        reachable = c.reachable if c.reachable is not None else bool(d.get("e_invoicing_address"))
        return {
            "id": c.id,
            "kind": c.kind,
            "type": c.kind,
            "name": c.display_name or None,
            "first_name": d.get("first_name"),
            "last_name": d.get("last_name"),
            "email": d.get("email"),
            "extra_emails": list(d.get("extra_emails") or []),
            "vat_number": d.get("vat_number"),
            "tax_identification_number": d.get("tax_identification_number"),
            "billing_address": dict(d["billing_address"]) if d.get("billing_address") else None,
            "delivery_address": dict(d["delivery_address"]) if d.get("delivery_address") else None,
            "currency": d.get("currency"),
            "locale": d.get("locale"),
            "e_invoicing_address": d.get("e_invoicing_address"),
            "e_invoicing_reachable": reachable,
            "phone": dict(d["phone"]) if d.get("phone") else None,
            "created_at": iso(c.created_at),
            "updated_at": iso(c.updated_at),
        }

    def _client_summary(self, c: Client) -> dict[str, Any]:
        d = c.data
        return {
            "id": c.id,
            "type": c.kind,
            "name": c.display_name,
            "email": d.get("email"),
            "vat_number": d.get("vat_number"),
            "tax_identification_number": d.get("tax_identification_number"),
            "billing_address": dict(d["billing_address"]) if d.get("billing_address") else None,
            "locale": d.get("locale"),
        }

    def _money(self, cents: int) -> dict[str, str]:
        return {"value": format_cents(cents, self.config.qonto_non_normalised_amounts), "currency": "EUR"}

    def _visible_attachment(self, inv: Invoice) -> str | None:
        if inv.attachment_id and inv.attachment_ready_at and self.clock.now() >= inv.attachment_ready_at:
            return inv.attachment_id
        return None

    def _invoice_response(self, inv: Invoice) -> Response:
        return json_response({"client_invoice": self._invoice_json(inv)})

    def _invoice_json(self, inv: Invoice, *, detail: bool = True, control: bool = False) -> dict[str, Any]:
        money = self._money
        org = self.orgs.get(inv.org_login)
        account = next((a for a in org.bank_accounts if a.iban == inv.payment_iban), None) if org else None
        out: dict[str, Any] = {
            "id": inv.id,
            "organization_id": inv.organization_id,
            "status": inv.status,
            "number": inv.number if inv.status != "draft" else None,
            "invoice_type": "standard",
            "purchase_order": inv.purchase_order,
            "invoice_url": f"https://pay.qonto.com/invoices/{inv.id}",
            "attachment_id": self._visible_attachment(inv),
            "currency": inv.currency,
            "total_amount": money(inv.total_cents),
            "total_amount_cents": inv.total_cents,
            "vat_amount": money(inv.vat_cents),
            "vat_amount_cents": inv.vat_cents,
            "amount_paid": money(inv.amount_paid_cents),
            "amount_paid_cents": inv.amount_paid_cents,
            "issue_date": inv.issue_date,
            "due_date": inv.due_date,
            "performance_start_date": inv.performance_start_date,
            "performance_end_date": inv.performance_end_date,
            "created_at": iso(inv.created_at),
            "updated_at": iso(inv.updated_at),
            "finalized_at": iso(inv.finalized_at),
            "paid_at": iso(inv.paid_at),
            "contact_email": inv.contact_email,
            **{name: getattr(inv, name) for name in MENTION_FIELDS},
            "discount": dict(inv.discount) if inv.discount else None,
            "settings": json.loads(json.dumps(inv.settings)) if inv.settings else None,
            "quote_id": inv.quote_id,
            "items": [self._item_json(line) for line in inv.items],
            "client": dict(inv.client),
            "payment_methods": [
                {
                    "type": "transfer",
                    "iban": inv.payment_iban,
                    "bic": account.bic if account else QONTO_BIC,
                    "beneficiary_name": org.legal_name if org else None,
                }
            ],
            "credit_notes_ids": list(inv.credit_notes_ids),
            "einvoicing_status": inv.einvoicing_status,
        }
        if detail:
            out["einvoicing_lifecycle_events"] = [dict(e) for e in inv.einvoicing_lifecycle_events]
        if control:
            out["organization_login"] = inv.org_login
            out["deleted"] = inv.deleted_at is not None
            out["deleted_at"] = iso(inv.deleted_at)
            out["canceled_at"] = iso(inv.canceled_at)
            out["pending_attachment_id"] = inv.attachment_id
            out["assigned_number"] = inv.number
            out["sent_emails"] = [dict(e) for e in inv.sent_emails]
        return out

    def _item_json(self, line: dict[str, Any]) -> dict[str, Any]:
        money = self._money
        return {
            "title": line["title"],
            "description": line.get("description"),
            "quantity": line["quantity"],
            "unit": line.get("unit"),
            "unit_price": money(line["unit_price_cents"]),
            "unit_price_cents": line["unit_price_cents"],
            "vat_rate": line["vat_rate"],
            "vat_exemption_reason": line.get("vat_exemption_reason"),
            "discount": dict(line["discount"]) if line.get("discount") else None,
            "subtotal": money(line["subtotal_cents"]),
            "subtotal_cents": line["subtotal_cents"],
            "total_vat": money(line["total_vat_cents"]),
            "total_vat_cents": line["total_vat_cents"],
            "total_amount": money(line["total_amount_cents"]),
            "total_amount_cents": line["total_amount_cents"],
        }

    def _fake_pdf(self, inv: Invoice) -> bytes:
        text = f"Facture {inv.number or ''} - {format_cents(inv.total_cents)} EUR".encode(
            "latin-1", "replace"
        )
        return (
            b"%PDF-1.4\n% Qonto sandbox\n1 0 obj << /Title (" + text + b") >> endobj\ntrailer << >>\n%%EOF\n"
        )
