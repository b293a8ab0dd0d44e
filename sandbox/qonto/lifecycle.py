"""An invoice's life: update and delete a draft, finalize (numbering, attachment), mark paid or not,
cancel, send by e-mail or e-invoice. Each step raises ``QontoSimError`` when Qonto would refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.core import iso, parse_iso
from sandbox.qonto.errors import QontoSimError, add_error, attr_pointer, json_object, wrapped_body
from sandbox.qonto.model import EMAIL_RE, PARIS, parse_date
from sandbox.qonto.state import Invoice, Organization
from sandbox.qonto.validation import InvoiceValidation


class Lifecycle(InvoiceValidation):
    """Status transitions, through the API or the Python API."""

    def _refuse(self, inv: Invoice, action: str, allowed: str) -> QontoSimError:
        return QontoSimError.one(
            422,
            "invalid_status_transition",
            f"Cannot {action} a client invoice whose status is {inv.status} (only {allowed})",
            pointer=attr_pointer("status"),
        )

    def _update(self, inv: Invoice, patch: Any) -> None:
        if inv.status != "draft":
            raise self._refuse(inv, "update", "draft")
        patch = json_object(patch)
        if "client_invoice" in patch:
            raise wrapped_body("client_invoice", "The body must be flat: no 'client_invoice' wrapper")
        org = self._org(inv.org_login)
        merged = self._invoice_body(inv)
        merged.update({k: v for k, v in patch.items() if k != "status"})
        fields = self._validate_invoice(org, merged)
        fields.pop("status")
        number = fields.pop("requested_number")
        if number != inv.requested_number:
            self._check_number_free(org, number)
            if inv.requested_number:
                org.numbers.discard(inv.requested_number)
            if number is not None:
                org.numbers.add(number)
            inv.requested_number = number
        for key, value in fields.items():
            setattr(inv, key, value)
        self._touch(inv)

    def _delete(self, inv: Invoice) -> None:
        if inv.status != "draft":
            raise self._refuse(inv, "delete", "draft; cancel a finalized invoice instead")
        org = self._org(inv.org_login)
        del org.invoices[inv.id]
        self._invoices.pop(inv.id, None)
        if inv.requested_number:
            org.numbers.discard(inv.requested_number)
        inv.deleted_at = self._touch(inv)
        org.deleted_invoices[inv.id] = inv
        self._tombstones[inv.id] = inv

    def _assign_number(self, org: Organization, inv: Invoice, now: datetime) -> None:
        if inv.requested_number:
            inv.number = inv.requested_number
        else:
            year = now.astimezone(PARIS).year
            while True:
                candidate = f"F-{year}-{org.next_number:04d}"
                org.next_number += 1
                if candidate not in org.numbers:
                    break
            inv.number = candidate
            org.numbers.add(candidate)
        inv.status = "unpaid"
        inv.finalized_at = now
        inv.attachment_id = self.ids.uuid()
        # From now() rather than the tick: with a frozen clock, ticks run a few µs ahead of now().
        delay = timedelta(seconds=float(self.config.qonto_attachment_delay_s))
        inv.attachment_ready_at = self.clock.now() + delay
        self._attachments[inv.attachment_id] = inv.id

    def _finalize(self, inv: Invoice) -> None:
        if inv.status != "draft":
            raise self._refuse(inv, "finalize", "draft")
        now = self._touch(inv)
        self._assign_number(self._org(inv.org_login), inv, now)

    def _mark_paid(self, inv: Invoice, paid_at: Any) -> None:
        if inv.status not in ("unpaid", "paid"):
            raise self._refuse(inv, "mark_as_paid", "unpaid or paid")
        now = self.clock.now()
        when = now if paid_at in (None, "") else self._parse_paid_at(paid_at, now)
        inv.paid_at = when
        inv.status = "paid"
        inv.amount_paid_cents = inv.total_cents
        self._touch(inv)

    def _parse_paid_at(self, paid_at: Any, now: datetime) -> datetime:
        """A date (kept as midnight UTC so the date part reads back unchanged) or a datetime; not future."""
        day = parse_date(paid_at)
        parsed: datetime | None = None
        if day is not None:
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
            future = day > now.astimezone(PARIS).date()
        elif isinstance(paid_at, str) and "T" in paid_at:
            try:
                parsed = parse_iso(paid_at)
            except ValueError:
                parsed = None
            future = parsed is not None and parsed > now
        if parsed is None:
            raise QontoSimError.one(
                422, "invalid", "paid_at must be a date YYYY-MM-DD", pointer=attr_pointer("paid_at")
            )
        if future:
            raise QontoSimError.one(
                422, "invalid", "paid_at cannot be in the future", pointer=attr_pointer("paid_at")
            )
        return parsed

    def _unmark_paid(self, inv: Invoice) -> None:
        if inv.status != "paid":
            raise self._refuse(inv, "unmark_as_paid", "paid")
        inv.status = "unpaid"
        inv.paid_at = None
        inv.amount_paid_cents = 0
        self._touch(inv)

    def _cancel(self, inv: Invoice) -> None:
        if inv.status != "unpaid":
            raise self._refuse(inv, "mark_as_canceled", "unpaid; delete a draft instead")
        inv.status = "canceled"
        inv.canceled_at = self._touch(inv)

    def _send(self, inv: Invoice, body: Any) -> None:
        if not body:
            raise QontoSimError.one(
                422, "invalid_body", "send_to and email_title are required", pointer="/data"
            )
        body = json_object(body)
        errors: list[dict[str, Any]] = []
        send_to = body.get("send_to")
        if not isinstance(send_to, list) or not send_to:
            add_error(errors, "blank", "send_to must list at least one email", "send_to")
        elif not all(isinstance(e, str) and EMAIL_RE.match(e) for e in send_to):
            add_error(errors, "invalid", "send_to must contain emails", "send_to")
        if not isinstance(body.get("email_title"), str) or not body["email_title"].strip():
            add_error(errors, "blank", "email_title is required", "email_title")
        if errors:
            raise QontoSimError(422, errors)
        if inv.status not in ("unpaid", "paid"):
            raise self._refuse(inv, "send", "unpaid or paid")
        inv.sent_emails = [
            *inv.sent_emails,
            {
                "send_to": list(send_to or []),
                "email_title": body["email_title"],
                "email_body": body.get("email_body"),
                "copy_to_self": bool(body.get("copy_to_self", True)),
                "sent_at": iso(self.clock.now()),
            },
        ]
        self._touch(inv)

    def _send_einvoice(self, inv: Invoice) -> None:
        if self.config.qonto_staging_mode:
            raise QontoSimError.one(
                422, "einvoicing_unavailable", "E-invoicing is not available in the sandbox environment"
            )
        if inv.status not in ("unpaid", "paid"):
            raise self._refuse(inv, "send_by_einvoice", "unpaid or paid")
        client = self._clients.get(inv.client_id)
        reachable = client is not None and (
            client.reachable if client.reachable is not None else bool(client.data.get("e_invoicing_address"))
        )
        if not reachable:
            raise QontoSimError.one(
                422,
                "client_not_reachable",
                "The client is not reachable on the e-invoicing network (e_invoicing_reachable is false)",
                pointer=attr_pointer("client", "e_invoicing_reachable"),
            )
        if inv.einvoicing_status is not None:
            return  # idempotent: already submitted
        inv.einvoicing_status = "submitted"
        inv.einvoicing_lifecycle_events = [{"status_code": 200, "created_at": iso(self.clock.now())}]
        self._touch(inv)

    def _force_status(self, inv: Invoice, status: str, now: datetime) -> None:
        """Put an invoice in ``status`` with what goes with it (benchmarks and touch_invoices)."""
        org = self._org(inv.org_login)
        if status != "draft" and inv.finalized_at is None:
            self._assign_number(org, inv, now)
        inv.status = status
        if status == "paid":
            inv.paid_at = inv.paid_at or now
            inv.amount_paid_cents = inv.total_cents
        else:
            inv.paid_at = None
            inv.amount_paid_cents = 0
        if status == "canceled":
            inv.canceled_at = inv.canceled_at or now
        inv.updated_at = max(inv.updated_at, now)

    def _control_act(self, invoice_id: str, act: Callable[[Invoice], object]) -> dict[str, Any]:
        """Python API: run ``act`` on a live invoice of any organization; its control JSON."""
        with self.lock:
            inv = self._live_invoice(invoice_id)
            act(inv)
            return self._invoice_json(inv, control=True)

    def finalize(self, invoice_id: str) -> dict[str, Any]:
        return self._control_act(invoice_id, self._finalize)

    def mark_paid(self, invoice_id: str, paid_at: str | None = None) -> dict[str, Any]:
        return self._control_act(invoice_id, lambda inv: self._mark_paid(inv, paid_at))

    def unmark_paid(self, invoice_id: str) -> dict[str, Any]:
        return self._control_act(invoice_id, self._unmark_paid)

    def cancel(self, invoice_id: str) -> dict[str, Any]:
        return self._control_act(invoice_id, self._cancel)

    def edit_draft(self, invoice_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Same rules as ``PATCH /v2/client_invoices/{id}`` (drafts only, full validation)."""
        return self._control_act(invoice_id, lambda inv: self._update(inv, changes))

    def delete_draft(self, invoice_id: str) -> dict[str, Any]:
        return self._control_act(invoice_id, self._delete)

    def set_einvoicing_status(
        self, invoice_id: str, status: str | None, status_code: int | None = None
    ) -> dict[str, Any]:
        with self.lock:
            inv = self._live_invoice(invoice_id)
            inv.einvoicing_status = status
            if status_code is not None:
                inv.einvoicing_lifecycle_events = [
                    *inv.einvoicing_lifecycle_events,
                    {"status_code": int(status_code), "created_at": iso(self.clock.now())},
                ]
            self._touch(inv)
            return self._invoice_json(inv, control=True)
