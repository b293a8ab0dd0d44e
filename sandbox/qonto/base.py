"""State, provider hooks, switches and the plumbing every Qonto resource shares: error bodies,
JSON bodies, idempotent creates, pagination and lookups.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from sandbox.core import Provider, Sandbox, SlidingWindow, SlidingWindowLimiter, json_response, read_json
from sandbox.qonto.errors import QontoSimError, api_error
from sandbox.qonto.model import CLIENT_LIST_PARAMS, CREATABLE_STATUSES, IDEMPOTENCY_TTL, INVOICE_LIST_PARAMS
from sandbox.qonto.state import BankAccount, Client, Invoice, Organization

# switch name → SandboxConfig attribute (the rest of the switches live on QontoSim itself)
_CONFIG_SWITCHES = {
    "default_status": "qonto_default_status",
    "staging_mode": "qonto_staging_mode",
    "staging_token": "qonto_staging_token",
    "staging_failure": "qonto_staging_failure",
    "french_vat_only": "qonto_french_vat_only",
    "omit_next_page": "qonto_omit_next_page",
    "non_normalised_amounts": "qonto_non_normalised_amounts",
    "errors_as_object": "qonto_errors_as_object",
    "rate_limit_10s": "qonto_rate_limit_10s",
    "rate_limit_10min": "qonto_rate_limit_10min",
    "attachment_delay_s": "qonto_attachment_delay_s",
}
_LOCAL_SWITCHES = (
    "create_status",
    "unauthorized_limit",
    "rate_limit_retry_after",
    "reject_staging_token_in_production",
    "credit_note_touches_invoice",
    "credit_note_negative_amounts",
)


class QontoBase(Provider):
    """What every resource mixin of ``QontoSim`` builds on."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.orgs: dict[str, Organization] = {}
        self._invoices: dict[str, Invoice] = {}  # live invoices of every organization, by id
        self._tombstones: dict[str, Invoice] = {}  # deleted drafts, by id
        self._clients: dict[str, Client] = {}
        self._attachments: dict[str, str] = {}  # attachment id → invoice id
        # Switches that SandboxConfig does not carry.
        self.create_status = 200
        self.unauthorized_limit = 200  # 401 responses per IP per hour before 429
        self.rate_limit_retry_after = False  # add Retry-After to rate-limit 429s (Qonto documents none)
        self.reject_staging_token_in_production = True
        self.credit_note_touches_invoice = False  # see credit_notes.py
        self.credit_note_negative_amounts = False
        self._limit_10s = SlidingWindowLimiter(self.config.qonto_rate_limit_10s, 10)
        self._limit_10min = SlidingWindowLimiter(self.config.qonto_rate_limit_10min, 600)
        self._unauthorized = SlidingWindow(3600)
        self._initial_switches = self.switches()

    # === Provider hooks =================================================================================
    def reset(self) -> None:
        with self.lock:
            self.orgs.clear()
            self._invoices.clear()
            self._tombstones.clear()
            self._clients.clear()
            self._attachments.clear()
            self._limit_10s.reset()
            self._limit_10min.reset()
            self._unauthorized.reset()
            self.set_switches(**self._initial_switches)

    def portal_of(self, request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header or " " in header.split(":", 1)[0] or ":" not in header:
            return None
        return header.split(":", 1)[0]

    def error_response(self, status: int, message: str) -> Response:
        code = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            422: "unprocessable_entity",
            429: "too_many_requests",
            500: "internal_server_error",
            502: "bad_gateway",
            503: "service_unavailable",
            504: "gateway_timeout",
        }.get(status, "error")
        return self._error_json(QontoSimError.one(status, code, message))

    def known_params(self, endpoint: str) -> Iterable[str] | None:
        if endpoint.startswith("app_"):
            return None
        if endpoint == "api_list_invoices":
            return INVOICE_LIST_PARAMS
        if endpoint == "api_list_clients":
            return CLIENT_LIST_PARAMS
        if endpoint == "api_get_organization":
            return ("include_external_accounts",)
        if endpoint == "api_list_bank_accounts":
            return ("page", "per_page")
        return ()

    # === switches =======================================================================================
    def switches(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self.config, attr) for k, attr in _CONFIG_SWITCHES.items()}
        out.update({k: getattr(self, k) for k in _LOCAL_SWITCHES})
        return out

    def set_switches(self, **values: Any) -> dict[str, Any]:
        """Change switches by short name (``default_status``) or config name (``qonto_default_status``)."""
        with self.lock:
            for key, value in values.items():
                short = key.removeprefix("qonto_")
                if short == "default_status" and value not in CREATABLE_STATUSES:
                    raise ValueError("default_status must be 'draft' or 'unpaid'")
                if short == "staging_failure" and value not in ("redirect", "html"):
                    raise ValueError("staging_failure must be 'redirect' or 'html'")
                if short == "create_status" and int(value) not in (200, 201):
                    raise ValueError("create_status must be 200 or 201")
                if short in _CONFIG_SWITCHES:
                    attr = _CONFIG_SWITCHES[short]
                    current = getattr(self.config, attr)
                    setattr(self.config, attr, _coerce(value, current))
                elif short in _LOCAL_SWITCHES:
                    setattr(self, short, _coerce(value, getattr(self, short)))
                else:
                    raise ValueError(f"unknown Qonto switch {key!r}")
            return self.switches()

    def set_default_status(self, status: str) -> None:
        self.set_switches(default_status=status)

    # === internals: request plumbing ====================================================================
    def _api(self, request: Request, fn: Callable[[Organization], Response]) -> Response:
        try:
            with self.lock:
                org = self.orgs.get(str(request.environ.get("qonto.org")))
                if org is None:  # the organization was removed between auth and here
                    raise QontoSimError.one(401, "unauthorized", "Unknown organization")
                return fn(org)
        except QontoSimError as exc:
            return self._error_json(exc)

    def _error_json(self, exc: QontoSimError) -> Response:
        errors: Any = exc.errors
        if exc.status == 422 and self.config.qonto_errors_as_object:
            # The variant seen in practice: one object keyed by attribute instead of a list.
            as_object: dict[str, list[str]] = {}
            for err in exc.errors:
                src = err.get("source", {})
                key = (
                    src.get("parameter") or src.get("pointer", "").removeprefix("/data/attributes/") or "base"
                )
                as_object.setdefault(key.replace("/", "."), []).append(err["detail"])
            errors = as_object
        return json_response({"errors": errors, "trace_id": self.ids.hex(32)}, exc.status)

    def _json_body(self, request: Request, optional: bool = False) -> Any:
        try:
            body = read_json(request)
        except (ValueError, UnicodeDecodeError):
            raise QontoSimError.one(400, "invalid_json", "The request body is not valid JSON") from None
        if body is None and not optional:
            raise QontoSimError.one(422, "invalid_body", "The request body is empty", pointer="/data")
        return body

    def _idempotent_replay(self, org: Organization, request: Request) -> Response | None:
        key = request.headers.get("X-Qonto-Idempotency-Key")
        if not key:
            return None
        entry = org.idempotency.get(key)
        if entry is None:
            return None
        expires, status, text = entry
        if self.clock.now() >= expires:
            del org.idempotency[key]
            return None
        return Response(text, status=status, content_type="application/json; charset=utf-8")

    def _created(self, org: Organization, request: Request, data: dict[str, Any]) -> Response:
        text = json.dumps(data, ensure_ascii=False)
        key = request.headers.get("X-Qonto-Idempotency-Key")
        if key:
            org.idempotency[key] = (self.clock.now() + IDEMPOTENCY_TTL, self.create_status, text)
        return Response(text, status=self.create_status, content_type="application/json; charset=utf-8")

    def _page_params(
        self, args: MultiDict[str, str], errors: list[dict[str, Any]] | None = None
    ) -> tuple[int, int]:
        """``page`` and ``per_page``; their errors go to ``errors`` when given, else raise a 422."""
        collected: list[dict[str, Any]] = []
        page = per_page = 0
        try:
            page = int(args.get("page", "1"))
            if page < 1:
                raise ValueError
        except ValueError:
            collected.append(api_error("invalid", "page must be an integer ≥ 1", parameter="page"))
        try:
            per_page = int(args.get("per_page", "100"))
            if not 1 <= per_page <= 100:
                raise ValueError
        except ValueError:
            collected.append(
                api_error("invalid", "per_page must be an integer between 1 and 100", parameter="per_page")
            )
        if errors is not None:
            errors += collected
        elif collected:
            raise QontoSimError(422, collected)
        return page, per_page

    def _paginate(self, rows: list[Any], page: int, per_page: int) -> tuple[list[Any], dict[str, Any]]:
        total = len(rows)
        total_pages = max(1, math.ceil(total / per_page))
        start = (page - 1) * per_page
        meta: dict[str, Any] = {
            "current_page": page,
            "next_page": page + 1 if page < total_pages else None,
            "prev_page": page - 1 if page > 1 else None,
            "total_pages": total_pages,
            "total_count": total,
            "per_page": per_page,
        }
        if meta["next_page"] is None and self.config.qonto_omit_next_page:
            del meta["next_page"]
        return rows[start : start + per_page], meta

    # === internals: lookups =============================================================================
    def _org(self, login: str) -> Organization:
        org = self.orgs.get(login)
        if org is None:
            raise QontoSimError.one(404, "not_found", f"Unknown organization {login!r}")
        return org

    def _client_of(self, org: Organization, client_id: str) -> Client:
        client = org.clients.get(client_id)
        if client is None:
            raise QontoSimError.one(404, "not_found", "Client not found")
        return client

    def _invoice_of(self, org: Organization, invoice_id: str) -> Invoice:
        """A live invoice of this organization; deleted drafts answer 404 like on Qonto."""
        inv = org.invoices.get(invoice_id)
        if inv is None:
            raise QontoSimError.one(404, "not_found", "Client invoice not found")
        return inv

    def _live_invoice(self, invoice_id: str) -> Invoice:
        inv = self._invoices.get(invoice_id)
        if inv is None:
            detail = (
                "Client invoice was deleted" if invoice_id in self._tombstones else "Client invoice not found"
            )
            raise QontoSimError.one(404, "not_found", detail)
        return inv

    def _touch(self, inv: Invoice) -> datetime:
        """Every change bumps updated_at strictly and invalidates the organization's list cache."""
        inv.updated_at = self.clock.tick()
        org = self.orgs.get(inv.org_login)
        if org is not None:
            org.version += 1
        return inv.updated_at

    def _sorted_accounts(self, org: Organization) -> list[BankAccount]:
        return sorted(org.bank_accounts, key=lambda a: not a.main)  # stable: main first

    def _main_account(self, org: Organization) -> BankAccount | None:
        for account in self._sorted_accounts(org):
            if account.status == "active" and account.currency == "EUR":
                return account
        return None


def _coerce(value: Any, current: Any) -> Any:
    """Turn a JSON/form value into the type of the switch it sets."""
    if isinstance(current, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes", "on")
        return bool(value)
    if isinstance(current, int):
        return int(value)
    if isinstance(current, float):
        return float(value)
    return value
