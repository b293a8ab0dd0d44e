"""The control routes under ``/_sim/qonto`` (no auth; never part of Qonto). HTML forms of the demo
web app post here with ``?next=`` and are redirected back with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response, read_json
from sandbox.qonto.bulk import Bulk
from sandbox.qonto.errors import QontoSimError
from sandbox.qonto.persistence import Persistence


class Control(Bulk, Persistence):
    """The Python API over HTTP."""

    def ctl_summary(self, request: Request) -> Response:
        with self.lock:
            return json_response(
                {
                    "switches": self.switches(),
                    "organizations": [
                        {"login": o.login, "invoices": len(o.invoices), "clients": len(o.clients)}
                        for o in self.orgs.values()
                    ],
                }
            )

    def ctl_reset(self, request: Request) -> Response:
        with self.lock:
            self.reset()
            if self.config.demo:
                self.seed_demo()
        return json_response({"reset": True})

    def ctl_state(self, request: Request) -> Response:
        return json_response(self.dump_state())

    def ctl_get_switches(self, request: Request) -> Response:
        return json_response({"switches": self.switches()})

    def ctl_set_switches(self, request: Request) -> Response:
        return self._control(request, lambda body: {"switches": self.set_switches(**body)})

    def ctl_default_status(self, request: Request) -> Response:
        return self._control(
            request, lambda body: {"switches": self.set_switches(default_status=body.get("status"))}
        )

    def ctl_list_organizations(self, request: Request) -> Response:
        with self.lock:
            return json_response({"organizations": [self._organization_json(o) for o in self.orgs.values()]})

    def ctl_seed_organization(self, request: Request) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            body = dict(body)
            try:
                login, secret, legal_name = body.pop("login"), body.pop("secret_key"), body.pop("legal_name")
            except KeyError as exc:
                raise ValueError(f"missing {exc.args[0]}") from None
            return {"organization": self.seed_organization(login, secret, legal_name, **body)}

        return self._control(request, run, status=201)

    def ctl_get_organization(self, request: Request, login: str) -> Response:
        return self._control(request, lambda body: {"organization": self.organization(login)})

    def ctl_add_bank_account(self, request: Request, login: str) -> Response:
        return self._control(
            request, lambda body: {"bank_account": self.add_bank_account(login, **body)}, status=201
        )

    def ctl_list_clients(self, request: Request, login: str) -> Response:
        return self._control(request, lambda body: {"clients": self.list_clients(login)})

    def ctl_seed_client(self, request: Request, login: str) -> Response:
        return self._control(request, lambda body: {"client": self.seed_client(login, **body)}, status=201)

    def ctl_list_invoices(self, request: Request, login: str) -> Response:
        include_deleted = request.args.get("include_deleted", "").lower() in ("1", "true", "yes")
        return self._control(
            request,
            lambda body: {"client_invoices": self.list_invoices(login, include_deleted=include_deleted)},
        )

    def ctl_bulk_seed(self, request: Request, login: str) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            body = dict(body)
            ids = self.bulk_seed_invoices(login, int(body.pop("n")), **body)
            return {"created": len(ids), "ids": ids if len(ids) <= 1000 else ids[:1000]}

        return self._control(request, run, status=201)

    def ctl_touch(self, request: Request, login: str) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            fraction = body.get("fraction")
            ids = self.touch_invoices(
                login,
                ids=body.get("ids"),
                fraction=float(fraction) if fraction is not None else None,
                status=body.get("status"),
                seed=body.get("seed"),
            )
            return {"touched": len(ids), "ids": ids}

        return self._control(request, run)

    def ctl_get_invoice(self, request: Request, invoice_id: str) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            inv = self.get_invoice(invoice_id)
            if inv is None:
                raise QontoSimError.one(404, "not_found", "Client invoice not found")
            return {"client_invoice": inv}

        return self._control(request, run)

    def ctl_edit_draft(self, request: Request, invoice_id: str) -> Response:
        return self._control(request, lambda body: {"client_invoice": self.edit_draft(invoice_id, body)})

    def ctl_delete_draft(self, request: Request, invoice_id: str) -> Response:
        return self._control(
            request, lambda body: {"client_invoice": self.delete_draft(invoice_id)}, done="Brouillon supprimé"
        )

    def ctl_finalize(self, request: Request, invoice_id: str) -> Response:
        return self._control(
            request, lambda body: {"client_invoice": self.finalize(invoice_id)}, done="Facture finalisée"
        )

    def ctl_mark_paid(self, request: Request, invoice_id: str) -> Response:
        return self._control(
            request,
            lambda body: {"client_invoice": self.mark_paid(invoice_id, body.get("paid_at") or None)},
            done="Facture marquée payée",
        )

    def ctl_unmark_paid(self, request: Request, invoice_id: str) -> Response:
        return self._control(
            request, lambda body: {"client_invoice": self.unmark_paid(invoice_id)}, done="Paiement annulé"
        )

    def ctl_cancel(self, request: Request, invoice_id: str) -> Response:
        return self._control(
            request, lambda body: {"client_invoice": self.cancel(invoice_id)}, done="Facture annulée"
        )

    def ctl_einvoicing_status(self, request: Request, invoice_id: str) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            code = body.get("status_code")
            inv = self.set_einvoicing_status(
                invoice_id, body.get("status"), int(code) if code is not None else None
            )
            return {"client_invoice": inv}

        return self._control(request, run)

    def _control(
        self,
        request: Request,
        fn: Callable[[dict[str, Any]], dict[str, Any]],
        *,
        status: int = 200,
        done: str = "OK",
    ) -> Response:
        """Run a control action; with ``?next=/qonto/app/…`` (HTML forms) redirect there with a message."""
        is_form = request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
        next_url = request.args.get("next") or (request.form.get("next") if is_form else None) or ""
        if not next_url.startswith("/qonto/app"):
            next_url = ""
        try:
            if is_form:
                body: Any = {k: v for k, v in request.form.items() if k != "next"}
            else:
                body = read_json(request) or {}
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            data = fn(body)
        except QontoSimError as exc:
            if next_url:
                return _redirect(next_url, exc.errors[0]["detail"])
            return json_response({"errors": exc.errors}, exc.status)
        except (ValueError, TypeError, KeyError) as exc:
            if next_url:
                return _redirect(next_url, str(exc))
            return json_response({"error": str(exc)}, 400)
        if next_url:
            return _redirect(next_url, done)
        return json_response(data, status)


def _redirect(location: str, message: str) -> Response:
    sep = "&" if "?" in location else "?"
    return Response(status=303, headers={"Location": f"{location}{sep}{urlencode({'msg': message})}"})
