"""Client invoices (``/v2/client_invoices``) and their attachments."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import iso, json_response
from sandbox.qonto.errors import QontoSimError, attr_pointer
from sandbox.qonto.lifecycle import Lifecycle
from sandbox.qonto.listing import Listing
from sandbox.qonto.state import Invoice, Organization


class Invoices(Lifecycle, Listing):
    """Invoice endpoints and the Python API that reads invoices."""

    def _create_invoice(self, org: Organization, body: Any) -> Invoice:
        fields = self._validate_invoice(org, body)
        number = fields.pop("requested_number")
        if number is not None and number in org.numbers:
            raise QontoSimError.one(
                409,
                "invoice_number_already_exists",
                f"An invoice with number {number!r} already exists",
                pointer=attr_pointer("number"),
            )
        status = fields.pop("status") or self.config.qonto_default_status
        now = self.clock.tick()
        inv = Invoice(
            id=self.ids.uuid(),
            org_login=org.login,
            organization_id=org.id,
            status="draft",
            created_at=now,
            updated_at=now,
            requested_number=number,
            **fields,
        )
        if number is not None:
            org.numbers.add(number)
        org.invoices[inv.id] = inv
        self._invoices[inv.id] = inv
        org.version += 1
        if status == "unpaid":  # created finalized: numbered at once, like a finalize call
            self._assign_number(org, inv, now)
        return inv

    # === Python control API: invoices ===================================================================
    def list_invoices(self, login: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Every invoice of an organization in creation order (tombstones last when asked)."""
        with self.lock:
            org = self._org(login)
            out = [self._invoice_json(inv, control=True) for inv in org.invoices.values()]
            if include_deleted:
                out += [self._invoice_json(inv, control=True) for inv in org.deleted_invoices.values()]
            return out

    def get_invoice(self, invoice_id: str) -> dict[str, Any] | None:
        """One invoice (a deleted draft too, with ``"deleted": true``), or None."""
        with self.lock:
            inv = self._invoices.get(invoice_id) or self._tombstones.get(invoice_id)
            return None if inv is None else self._invoice_json(inv, control=True)

    # === API handlers: client invoices ==================================================================
    def api_list_invoices(self, request: Request) -> Response:
        return self._api(request, lambda org: self._list_invoices_response(org, request.args))

    def api_create_invoice(self, request: Request) -> Response:
        def run(org: Organization) -> Response:
            replay = self._idempotent_replay(org, request)
            if replay is not None:
                return replay
            inv = self._create_invoice(org, self._json_body(request))
            return self._created(org, request, {"client_invoice": self._invoice_json(inv)})

        return self._api(request, run)

    def api_get_invoice(self, request: Request, invoice_id: str) -> Response:
        return self._api(request, lambda org: self._invoice_response(self._invoice_of(org, invoice_id)))

    def api_update_invoice(self, request: Request, invoice_id: str) -> Response:
        def run(org: Organization) -> Response:
            inv = self._invoice_of(org, invoice_id)
            self._update(inv, self._json_body(request))
            return self._invoice_response(inv)

        return self._api(request, run)

    def api_delete_invoice(self, request: Request, invoice_id: str) -> Response:
        def run(org: Organization) -> Response:
            self._delete(self._invoice_of(org, invoice_id))
            return Response(status=204)

        return self._api(request, run)

    def api_finalize(self, request: Request, invoice_id: str) -> Response:
        def run(org: Organization) -> Response:
            inv = self._invoice_of(org, invoice_id)
            self._finalize(inv)
            return self._invoice_response(inv)

        return self._api(request, run)

    def api_mark_as_paid(self, request: Request, invoice_id: str) -> Response:
        def run(org: Organization) -> Response:
            inv = self._invoice_of(org, invoice_id)
            body = self._json_body(request, optional=True) or {}
            if not isinstance(body, dict):
                raise QontoSimError.one(
                    422, "invalid_body", "The body must be a JSON object", pointer="/data"
                )
            self._mark_paid(inv, body.get("paid_at"))
            return self._invoice_response(inv)

        return self._api(request, run)

    def api_unmark_as_paid(self, request: Request, invoice_id: str) -> Response:
        def run(org: Organization) -> Response:
            inv = self._invoice_of(org, invoice_id)
            self._unmark_paid(inv)
            return self._invoice_response(inv)

        return self._api(request, run)

    def api_mark_as_canceled(self, request: Request, invoice_id: str) -> Response:
        def run(org: Organization) -> Response:
            inv = self._invoice_of(org, invoice_id)
            self._cancel(inv)
            return self._invoice_response(inv)

        return self._api(request, run)

    def api_send(self, request: Request, invoice_id: str) -> Response:
        def run(org: Organization) -> Response:
            inv = self._invoice_of(org, invoice_id)
            self._send(inv, self._json_body(request, optional=True))
            return Response(status=204)

        return self._api(request, run)

    def api_send_by_einvoice(self, request: Request, invoice_id: str) -> Response:
        def run(org: Organization) -> Response:
            inv = self._invoice_of(org, invoice_id)
            self._send_einvoice(inv)
            return Response(status=204)

        return self._api(request, run)

    def api_get_attachment(self, request: Request, attachment_id: str) -> Response:
        def run(org: Organization) -> Response:
            inv = self._invoices.get(self._attachments.get(attachment_id, ""))
            if inv is None or inv.org_login != org.login or self._visible_attachment(inv) is None:
                raise QontoSimError.one(404, "not_found", "Attachment not found")
            file_name = f"{inv.number or inv.id}.pdf"
            return json_response(
                {
                    "attachment": {
                        "id": attachment_id,
                        "created_at": iso(inv.attachment_ready_at),
                        "file_name": file_name,
                        "file_size": str(len(self._fake_pdf(inv))),
                        "file_content_type": "application/pdf",
                        "url": f"{request.host_url}qonto/files/{attachment_id}",
                        "probative_attachment": {"status": "unavailable"},
                    }
                }
            )

        return self._api(request, run)
