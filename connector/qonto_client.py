"""The one module that speaks to Qonto's Business API (``/v2``).

Every call carries the tenant's credentials (``Authorization: <login>:<secret-key>``, and the
staging token for Qonto's sandbox), goes through ``connector.http.build_session`` (timeouts, no
redirects, retries on reads only) and turns every failure into one of our errors:

- ``QontoRetryableError``: timeout, connection error, 429 (``QontoRateLimitedError``), 5xx;
- ``QontoAuthError``: 401, or the staging gate's redirect / HTML page (wrong environment);
- ``QontoValidationError``: 400/422, with Qonto's problems (code, detail, pointer) parsed;
- ``QontoNotFoundError``, ``QontoConflictError``, other ``QontoPermanentError``.

Qonto facts this relies on are in ``spec/qonto.md`` (§1 auth, §5 errors and pagination).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from connector.exceptions import QontoAuthError, QontoPermanentError, QontoRetryableError
from connector.http import build_session
from connector.logging import register_secret

logger = logging.getLogger(__name__)


class QontoRateLimitedError(QontoRetryableError):
    code = "qonto_rate_limited"
    default_user_message = _("Qonto limite le nombre de requêtes : réessayez dans un instant.")


class QontoValidationError(QontoPermanentError):
    code = "qonto_validation"
    default_user_message = _("Qonto a refusé les données envoyées.")

    @property
    def problems(self) -> list[dict[str, str]]:
        return list(self.extra.get("problems", []))


class QontoNotFoundError(QontoPermanentError):
    code = "qonto_not_found"


class QontoConflictError(QontoPermanentError):
    code = "qonto_conflict"


@dataclasses.dataclass(frozen=True)
class QontoCredentials:
    login: str
    secret_key: str
    staging_token: str = ""

    def __repr__(self) -> str:  # never print the key
        return f"QontoCredentials(login={self.login!r}, secret_key='…')"


@dataclasses.dataclass(frozen=True)
class BankAccount:
    iban: str
    name: str
    main: bool
    status: str
    currency: str


@dataclasses.dataclass(frozen=True)
class Organization:
    id: str
    slug: str
    legal_name: str
    bank_accounts: tuple[BankAccount, ...]

    @property
    def usable_accounts(self) -> list[BankAccount]:
        """Active EUR accounts, the main one first: the IBANs an invoice may carry."""
        accounts = [a for a in self.bank_accounts if a.status == "active" and a.currency.upper() == "EUR"]
        return sorted(accounts, key=lambda a: not a.main)


@dataclasses.dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    current_page: int
    next_page: int | None
    total_count: int | None


def money(obj: Any) -> Decimal:
    """A Qonto amount (``{"value": "1200.0", ...}``, or a plain string) as a Decimal, 2 places."""
    value = obj.get("value") if isinstance(obj, dict) else obj
    return Decimal(str(value or "0")).quantize(Decimal("0.01"))


def parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _problems(body: Any) -> list[dict[str, str]]:
    """Qonto's errors as a list of {code, detail, pointer, parameter}, whatever shape they came in."""
    if not isinstance(body, dict):
        return []
    errors = body.get("errors")
    if isinstance(errors, dict):  # seen: "errors" as an object keyed by field
        items: list[Any] = []
        for key, value in errors.items():
            for detail in value if isinstance(value, list) else [value]:
                items.append({"code": "invalid", "detail": str(detail), "source": {"pointer": f"/{key}"}})
        errors = items
    if not errors and ("code" in body or "message" in body):  # seen: flat {code, message}
        errors = [{"code": body.get("code", "error"), "detail": body.get("message", "")}]
    out = []
    for err in errors or []:
        if not isinstance(err, dict):
            continue
        source = err.get("source") or {}
        out.append(
            {
                "code": str(err.get("code", "error")).lower(),
                "detail": str(err.get("detail") or err.get("message") or ""),
                "pointer": str(source.get("pointer", "")),
                "parameter": str(source.get("parameter", "")),
            }
        )
    return out


class QontoClient:
    """A client bound to one tenant's credentials. Cheap to build; not shared across threads."""

    def __init__(
        self,
        credentials: QontoCredentials,
        *,
        base_url: str | None = None,
        session: requests.Session | None = None,
        before_request: Callable[[], None] | None = None,
    ) -> None:
        self.credentials = credentials
        self.base_url = (base_url or settings.QONTO_API_BASE).rstrip("/")
        self.session = session or build_session()
        self.before_request = before_request  # e.g. the shared per-IP rate limiter
        self.calls = 0  # counted for SyncRun statistics
        register_secret(credentials.secret_key)
        register_secret(credentials.staging_token)

    @classmethod
    def for_connection(cls, connection: Any, **kwargs: Any) -> QontoClient:
        token = connection.staging_token or (
            settings.QONTO_STAGING_TOKEN if connection.environment == "sandbox" else ""
        )
        creds = QontoCredentials(connection.organization_slug, connection.secret_key, token)
        return cls(creds, **kwargs)

    # --- transport ----------------------------------------------------------------------------
    def _headers(self, idempotency_key: str | None) -> dict[str, str]:
        headers = {
            "Authorization": f"{self.credentials.login}:{self.credentials.secret_key}",
            "Accept": "application/json",
        }
        if self.credentials.staging_token:
            headers["X-Qonto-Staging-Token"] = self.credentials.staging_token
        if idempotency_key:
            headers["X-Qonto-Idempotency-Key"] = idempotency_key
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        if self.before_request is not None:
            self.before_request()
        self.calls += 1
        url = f"{self.base_url}{path}"
        try:
            response = self.session.request(
                method, url, params=params, json=json, headers=self._headers(idempotency_key)
            )
        except requests.Timeout as exc:
            raise QontoRetryableError(f"Qonto {method} {path}: timeout", code="qonto_timeout") from exc
        except requests.ConnectionError as exc:
            raise QontoRetryableError(
                f"Qonto {method} {path}: connection error ({type(exc).__name__})",
                code="qonto_unreachable",
                user_message=_("Qonto est injoignable pour le moment. Réessayez dans un instant."),
            ) from exc
        return self._handle(method, path, response)

    def _handle(self, method: str, path: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        content_type = response.headers.get("Content-Type", "")
        if 300 <= status < 400 or (status == 200 and "html" in content_type):
            # Qonto's sandbox answers its login page (302 or HTML) without a valid staging token.
            raise QontoAuthError(
                f"Qonto {method} {path}: {status} {content_type or 'redirect'} (staging gate)",
                code="qonto_environment_mismatch",
                user_message=_(
                    "Ces identifiants ne correspondent pas à cet environnement Qonto (production ou "
                    "sandbox) : vérifiez l'environnement choisi et le jeton de staging."
                ),
                status_code=status,
            )
        try:
            body: Any = response.json() if response.content else {}
        except ValueError:
            body = {}
        if status < 300:
            return body if isinstance(body, dict) else {"data": body}
        trace_id = body.get("trace_id", "") if isinstance(body, dict) else ""
        problems = _problems(body)
        detail = f"Qonto {method} {path}: HTTP {status}" + (
            f" {problems[0]['code']}: {problems[0]['detail']}" if problems else ""
        )
        if trace_id:
            detail += f" (trace_id {trace_id})"
        logger.warning("%s", detail, extra={"qonto_status": status, "qonto_trace_id": trace_id})
        extra = {"problems": problems, "trace_id": trace_id}
        if status == 401:
            raise QontoAuthError(detail, status_code=status, extra=extra)
        if status == 429:
            retry_after = response.headers.get("Retry-After")
            raise QontoRateLimitedError(
                detail,
                status_code=status,
                retry_after=float(retry_after) if retry_after else None,
                extra=extra,
            )
        if status >= 500:
            raise QontoRetryableError(detail, status_code=status, extra=extra)
        if status == 404:
            raise QontoNotFoundError(detail, status_code=status, extra=extra)
        if status == 409:
            raise QontoConflictError(detail, status_code=status, extra=extra)
        if status in (400, 422):
            raise QontoValidationError(detail, status_code=status, extra=extra)
        if status == 403:
            raise QontoPermanentError(
                detail,
                code="qonto_forbidden",
                user_message=_("La clé Qonto n'a pas accès à cette fonction (droits insuffisants)."),
                status_code=status,
                extra=extra,
            )
        raise QontoPermanentError(detail, status_code=status, extra=extra)

    # --- organization -------------------------------------------------------------------------
    def get_organization(self) -> Organization:
        data = self.request("GET", "/v2/organization").get("organization") or {}
        accounts = tuple(
            BankAccount(
                iban=str(a.get("iban", "")).replace(" ", ""),
                name=str(a.get("name", "")),
                main=bool(a.get("main")),
                status=str(a.get("status", "")),
                currency=str(a.get("currency", "")),
            )
            for a in data.get("bank_accounts") or []
        )
        return Organization(
            id=str(data.get("id", "")),
            slug=str(data.get("slug", "")),
            legal_name=str(data.get("legal_name", "")),
            bank_accounts=accounts,
        )

    # --- clients ------------------------------------------------------------------------------
    def search_clients(self, **filters: str) -> list[dict[str, Any]]:
        """``search_clients(tax_identification_number="…")`` → first page of matching clients."""
        params = {f"filter[{k}]": v for k, v in filters.items()}
        params["per_page"] = "100"
        return list(self.request("GET", "/v2/clients", params=params).get("clients") or [])

    def create_client(self, payload: dict[str, Any], *, idempotency_key: str | None = None) -> dict[str, Any]:
        return dict(
            self.request("POST", "/v2/clients", json=payload, idempotency_key=idempotency_key).get("client")
            or {}
        )

    def get_client(self, client_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/v2/clients/{client_id}").get("client") or {})

    def update_client(self, client_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(self.request("PATCH", f"/v2/clients/{client_id}", json=payload).get("client") or {})

    # --- client invoices ----------------------------------------------------------------------
    def create_invoice(
        self, payload: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        body = self.request("POST", "/v2/client_invoices", json=payload, idempotency_key=idempotency_key)
        return dict(body.get("client_invoice") or {})

    def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/v2/client_invoices/{invoice_id}").get("client_invoice") or {})

    # [doc] POST /v2/client_invoices/{id}/finalize: draft → unpaid, numbered; answers the invoice.
    def finalize_invoice(self, invoice_id: str, *, idempotency_key: str | None = None) -> dict[str, Any]:
        body = self.request(
            "POST", f"/v2/client_invoices/{invoice_id}/finalize", idempotency_key=idempotency_key
        )
        return dict(body.get("client_invoice") or {})

    # [doc] POST /v2/client_invoices/{id}/send {send_to[], email_title, email_body?, copy_to_self?}
    # → 204. "Sent" is no status: Qonto leaves ``status`` unchanged.
    def send_invoice(
        self,
        invoice_id: str,
        *,
        send_to: list[str],
        email_title: str,
        email_body: str | None = None,
        copy_to_self: bool = True,
        idempotency_key: str | None = None,
    ) -> None:
        payload: dict[str, Any] = {
            "send_to": send_to,
            "email_title": email_title,
            "copy_to_self": copy_to_self,
        }
        if email_body:
            payload["email_body"] = email_body
        self.request(
            "POST", f"/v2/client_invoices/{invoice_id}/send", json=payload, idempotency_key=idempotency_key
        )

    # [doc] GET /v2/attachments/{id} → {"attachment": {id, file_name, file_content_type, url, …}};
    # the ``url`` is signed and valid for 30 minutes only: never store it, fetch a fresh one.
    def get_attachment(self, attachment_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/v2/attachments/{attachment_id}").get("attachment") or {})

    def list_invoices_page(
        self,
        *,
        page: int = 1,
        per_page: int = 100,
        status: str | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
        sort_by: str | None = None,
    ) -> Page:
        """One page of ``GET /v2/client_invoices``.

        ``status`` is ONE status. Qonto's list page documents ``filter[status]`` as one of
        ``draft``/``unpaid``/``paid``/``canceled`` without saying how several are sent (our spec
        §4.4 says comma-separated [doc]; repeating the parameter is documented only for the
        *supplier* invoices list). A single value is read the same way by both readings, so for
        several statuses list once per status (``iter_invoice_pages(statuses=…)``).
        Datetimes go as aware UTC, ``YYYY-MM-DDTHH:MM:SSZ`` like Qonto's examples [doc]: the
        lower bounds rounded down and the upper bound up, so a bound never hides an invoice.
        """
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if status:
            if status not in INVOICE_STATUSES:
                raise ValueError(f"unknown Qonto invoice status {status!r}")
            params["filter[status]"] = status
        if updated_from:
            params["filter[updated_at_from]"] = utc_param(updated_from)
        if updated_to:
            params["filter[updated_at_to]"] = utc_param(updated_to, round_up=True)
        if created_from:
            params["filter[created_at_from]"] = utc_param(created_from)
        if created_to:
            params["filter[created_at_to]"] = utc_param(created_to, round_up=True)
        if sort_by:
            params["sort_by"] = sort_by
        body = self.request("GET", "/v2/client_invoices", params=params)
        return _page(body, "client_invoices", page)

    def iter_invoice_pages(self, *, statuses: tuple[str, ...] = (), **filters: Any) -> Iterator[Page]:
        """Pages one after the other (never the whole list in memory); one listing per status."""
        for status in statuses or (None,):
            page = 1
            while True:
                result = self.list_invoices_page(page=page, status=status, **filters)
                yield result
                if not result.next_page or not result.items:
                    break
                page = result.next_page

    # --- credit notes (avoirs) -----------------------------------------------------------------
    # [doc] GET /v2/credit_notes (list, filters such as filter[created_at_from], API key accepted,
    # scope client_invoices.read) and GET /v2/credit_notes/{id} → {"credit_note": {id, invoice_id,
    # number, issue_date, total_amount, vat_amount (+ _cents), items, created_at, finalized_at…}}.
    # A credit note has no status and no updated_at: it is final once created [seen].
    def get_credit_note(self, credit_note_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/v2/credit_notes/{credit_note_id}").get("credit_note") or {})

    def list_credit_notes_page(
        self, *, page: int = 1, per_page: int = 100, created_from: datetime | None = None
    ) -> Page:
        """One page of ``GET /v2/credit_notes``, the pagination of every Qonto list (spec §5)."""
        params: dict[str, Any] = {"page": page, "per_page": per_page}
        if created_from:
            params["filter[created_at_from]"] = utc_param(created_from)
        body = self.request("GET", "/v2/credit_notes", params=params)
        return _page(body, "credit_notes", page)


def _page(body: dict[str, Any], key: str, page: int) -> Page:
    meta = body.get("meta") or {}
    current = int(meta.get("current_page") or page)
    next_page = meta.get("next_page")
    total_pages = meta.get("total_pages")
    if next_page is None and total_pages is not None and current < int(total_pages):
        next_page = current + 1  # seen: next_page omitted on some endpoints
    return Page(
        items=list(body.get(key) or []),
        current_page=current,
        next_page=int(next_page) if next_page else None,
        total_count=meta.get("total_count"),
    )


INVOICE_STATUSES = ("draft", "unpaid", "paid", "canceled")  # the documented filter[status] values


def utc_param(value: datetime, *, round_up: bool = False) -> str:
    """An aware datetime as Qonto's filters show it: UTC, whole seconds, ``Z`` (naive refused)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("Qonto filters need an aware datetime (a naive one is ambiguous)")
    utc = value.astimezone(UTC)
    if round_up and utc.microsecond:
        utc += timedelta(seconds=1)
    return utc.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
