"""Client invoices (``/v2/client_invoices``) and their attachments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import iso, json_response
from sandbox.qonto.errors import QontoSimError, json_object
from sandbox.qonto.lifecycle import Lifecycle
from sandbox.qonto.listing import Listing
from sandbox.qonto.state import Invoice, Organization

ATTACHMENT_URL_TTL_S = 30 * 60


class Invoices(Lifecycle, Listing):
    """Invoice endpoints and the Python API that reads invoices."""

    def _create_invoice(self, org: Organization, body: Any) -> Invoice:
        fields = self._validate_invoice(org, body)
        number = fields.pop("requested_number")
        self._check_number_free(org, number)
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

    def _act_on(
        self, request: Request, invoice_id: str, act: Callable[[Invoice], object], *, answer: bool = True
    ) -> Response:
        """Run ``act`` on one of the organization's live invoices; answer the invoice, or 204."""

        def run(org: Organization) -> Response:
            inv = self._invoice_of(org, invoice_id)
            act(inv)
            return self._invoice_response(inv) if answer else Response(status=204)

        return self._api(request, run)

    def api_update_invoice(self, request: Request, invoice_id: str) -> Response:
        return self._act_on(request, invoice_id, lambda inv: self._update(inv, self._json_body(request)))

    def api_delete_invoice(self, request: Request, invoice_id: str) -> Response:
        return self._act_on(request, invoice_id, self._delete, answer=False)

    def api_finalize(self, request: Request, invoice_id: str) -> Response:
        return self._act_on(request, invoice_id, self._finalize)

    def api_mark_as_paid(self, request: Request, invoice_id: str) -> Response:
        def mark(inv: Invoice) -> None:
            body = json_object(self._json_body(request, optional=True) or {})
            self._mark_paid(inv, body.get("paid_at"))

        return self._act_on(request, invoice_id, mark)

    def api_unmark_as_paid(self, request: Request, invoice_id: str) -> Response:
        return self._act_on(request, invoice_id, self._unmark_paid)

    def api_mark_as_canceled(self, request: Request, invoice_id: str) -> Response:
        return self._act_on(request, invoice_id, self._cancel)

    def api_send(self, request: Request, invoice_id: str) -> Response:
        def send(inv: Invoice) -> None:
            self._send(inv, self._json_body(request, optional=True))

        return self._act_on(request, invoice_id, send, answer=False)

    def api_send_by_einvoice(self, request: Request, invoice_id: str) -> Response:
        return self._act_on(request, invoice_id, self._send_einvoice, answer=False)

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
                        # [doc] a signed URL valid for 30 minutes only: the simulator's expires too.
                        "url": f"{request.host_url}qonto/files/{attachment_id}"
                        f"?expires={int(self.clock.now().timestamp()) + ATTACHMENT_URL_TTL_S}",
                        "probative_attachment": {"status": "unavailable"},
                    }
                }
            )

        return self._api(request, run)
