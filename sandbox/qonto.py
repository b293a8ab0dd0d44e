"""Local simulator of Qonto's Business API v2 (organization, clients, client invoices).

It implements the documented contract of ``/work/shared/spec/qonto.md`` §9 and, where the facts are
uncertain, it is *stricter* than Qonto so that a connector that passes against it is likely to pass
against the real API. Mounted under ``/qonto`` (``QONTO_API_BASE=http://host:port/qonto``).

Choices where the spec is silent (all switchable through ``set_switches`` / ``POST /_sim/qonto/switches``):

- creates (clients and invoices) answer **200** (``create_status`` switch: 200 or 201);
- deletes and ``send``/``send_by_einvoice`` answer 204 with an empty body;
- invalid transitions answer 422 ``invalid_status_transition``;
- unit prices with more than 2 decimals are rounded half-up to cents *before* the line is computed
  (Qonto holds amounts in cents), then ``subtotal = qty × unit_price × (1 − discount)`` and
  ``total_vat = subtotal × vat_rate`` are each rounded half-up to cents; an invoice-level discount is
  spread over the lines so the invoice totals stay the sums of the lines;
- a client that cannot be invoiced gives 422 ``blank`` with the pointer the spec quotes
  (``/data/attributes/currency``, ``/data/attributes/locale``,
  ``/data/attributes/billing_address/<field>``) and a detail naming the client;
- the default ``sort_by`` of the invoice list is ``created_at:desc``; of the client list ``name:asc``;
- ``paid_at`` is taken as a date (``YYYY-MM-DD``, kept as midnight UTC) or a datetime and returned as an
  ISO datetime; "in the future" is judged against today in Europe/Paris on the sandbox clock;
- a staging token sent while staging mode is off gets 401 (production rejects it; switch
  ``reject_staging_token_in_production``);
- numbers are ``F-<year>-<seq:04d>``, sequential per organization; drafts show ``number: null`` (a requested
  ``number`` is reserved and applied at finalize) but do have an ``invoice_url`` (as in the spec example);
- ``quantity`` must be > 0 and ``unit_price.value`` ≥ 0; ``send`` is refused on drafts and canceled invoices;
- ``errors_as_object`` mode (422 only) answers ``{"errors": {"items.0.vat_rate": ["…"]}, "trace_id"}``.

The control surface lives under ``/_sim/qonto`` (no auth) and mirrors the public Python methods of
``QontoSim`` (see ``control_rules``); ``/qonto/app`` is a tiny "Qonto web app" for the demo.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import html
import json
import math
import random
import re
import threading
import time
import unicodedata
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox import demo
from sandbox.core import (
    Provider,
    Sandbox,
    SlidingWindowLimiter,
    iso,
    json_response,
    parse_iso,
    read_json,
)

STATUSES = ("draft", "unpaid", "paid", "canceled")
CREATABLE_STATUSES = ("draft", "unpaid")
FRENCH_VAT_RATES = frozenset(Decimal(r) for r in ("0", "0.021", "0.055", "0.085", "0.1", "0.2"))
CLIENT_KINDS = ("company", "individual", "freelancer")
LOCALES = ("fr", "en", "it", "de", "es")
ADDRESS_FIELDS = ("street_address", "city", "zip_code", "province_code", "country_code")
REQUIRED_ADDRESS_FIELDS = ("street_address", "city", "zip_code", "country_code")
IDEMPOTENCY_TTL = timedelta(minutes=30)
ONELOGIN_URL = "https://qonto.onelogin.com/login"
QONTO_BIC = "QNTOFRP1XXX"
PARIS = ZoneInfo("Europe/Paris")
LIST_CACHE_SIZE = 16  # filtered+sorted invoice lists kept per organization while nothing changes

_DECIMAL_RE = re.compile(r"^-?\d+(\.\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")
_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")
_EINVOICING_ADDRESS_RE = re.compile(r"^\d{9}(_\d{14})?(_[A-Za-z0-9-]+)?$")
_PHONE_CC_RE = re.compile(r"^\+\d{1,4}$")

_INVOICE_LIST_PARAMS = (
    "filter[status]",
    "filter[created_at_from]",
    "filter[created_at_to]",
    "filter[updated_at_from]",
    "filter[updated_at_to]",
    "filter[due_date]",
    "filter[due_date_from]",
    "filter[due_date_to]",
    "exclude_imported",
    "sort_by",
    "page",
    "per_page",
)
_CLIENT_LIST_PARAMS = (
    "filter[tax_identification_number]",
    "filter[vat_number]",
    "filter[email]",
    "filter[name]",
    "filter[updated_at_from]",
    "filter[updated_at_to]",
    "sort_by",
    "page",
    "per_page",
)

# Mentions Qonto fills in from the organization settings when the request leaves them out [assumed].
DEFAULT_DISCOUNT_CONDITIONS = "Pas d'escompte accordé pour paiement anticipé."
DEFAULT_LATE_PAYMENT_PENALTIES = (
    "En cas de non-paiement à la date d'échéance, des pénalités calculées à trois fois le taux "
    "d'intérêt légal seront appliquées."
)
DEFAULT_LEGAL_FIXED_COMPENSATION = (
    "Tout retard de paiement entraînera une indemnité forfaitaire pour frais de recouvrement de 40 €."
)

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
)


# --- errors ------------------------------------------------------------------------------------------
def api_error(
    code: str, detail: str, *, pointer: str | None = None, parameter: str | None = None
) -> dict[str, Any]:
    """One entry of Qonto's ``errors`` list."""
    err: dict[str, Any] = {"code": code, "detail": detail}
    source: dict[str, str] = {}
    if pointer is not None:
        source["pointer"] = pointer
    if parameter is not None:
        source["parameter"] = parameter
    if source:
        err["source"] = source
    return err


class QontoSimError(Exception):
    """A refused request (API) or a refused control action (Python API): status + Qonto errors."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e['code']}: {e['detail']}" for e in errors))
        self.status = status
        self.errors = errors

    @classmethod
    def one(
        cls,
        status: int,
        code: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
    ) -> QontoSimError:
        return cls(status, [api_error(code, detail, pointer=pointer, parameter=parameter)])


def _ptr(*parts: str | int) -> str:
    return "/data/attributes/" + "/".join(str(p) for p in parts)


# --- small helpers -----------------------------------------------------------------------------------
def sign_webhook(secret: str, body: bytes | str, t: int) -> str:
    """``X-Qonto-Signature`` value: ``t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`` (spec §6)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(secret.encode("utf-8"), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _fold(text: str) -> str:
    """Case- and accent-insensitive form of a text."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _decimal_string(value: Any) -> Decimal | None:
    """A decimal given as a JSON *string* ("1", "0.2", "1200.00"), else None (numbers are refused)."""
    if not isinstance(value, str) or not _DECIMAL_RE.match(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a valid decimal
        return None


def _to_cents(euros: Decimal) -> int:
    return int((euros * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _round_cents(cents: Decimal) -> int:
    return int(cents.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _format_cents(cents: int, non_normalised: bool = False) -> str:
    if non_normalised:
        return repr(cents / 100)  # "1200.0", "300.5": Qonto's values are not always normalised
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _parse_date(value: Any) -> date | None:
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _normalise_iban(iban: str) -> str:
    return re.sub(r"\s+", "", iban).upper()


def _eur_fr(cents: int) -> str:
    """1440.5 → "1 440,50 €" for the HTML page."""
    sign = "-" if cents < 0 else ""
    units = f"{abs(cents) // 100:,}".replace(",", "\u202f")
    return f"{sign}{units},{abs(cents) % 100:02d}\u00a0€"


# --- state -------------------------------------------------------------------------------------------
@dataclasses.dataclass(slots=True)
class BankAccount:
    id: str
    slug: str
    iban: str
    bic: str
    name: str
    currency: str = "EUR"
    status: str = "active"
    main: bool = False
    balance_cents: int = 0
    authorized_balance_cents: int = 0
    is_external_account: bool = False
    updated_at: datetime | None = None


@dataclasses.dataclass(slots=True)
class Client:
    id: str
    org_login: str
    data: dict[str, Any]  # the documented fields as sent (kind, name, email, billing_address…)
    created_at: datetime
    updated_at: datetime
    reachable: bool | None = None  # e_invoicing_reachable override (else: has an e_invoicing_address)

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "company")

    @property
    def display_name(self) -> str:
        name = self.data.get("name")
        if name:
            return str(name)
        return f"{self.data.get('first_name') or ''} {self.data.get('last_name') or ''}".strip()


@dataclasses.dataclass(slots=True)
class Invoice:
    id: str
    org_login: str
    organization_id: str
    client_id: str
    client: dict[str, Any]  # summary frozen when the invoice is written
    status: str
    issue_date: str
    due_date: str
    payment_iban: str
    items: list[dict[str, Any]]  # computed lines (JSON-ready, never mutated in place)
    subtotal_cents: int
    vat_cents: int
    total_cents: int
    created_at: datetime
    updated_at: datetime
    currency: str = "EUR"
    number: str | None = None
    requested_number: str | None = None
    purchase_order: str | None = None
    performance_start_date: str | None = None
    performance_end_date: str | None = None
    header: str | None = None
    footer: str | None = None
    terms_and_conditions: str | None = None
    discount_conditions: str | None = None
    late_payment_penalties: str | None = None
    legal_fixed_compensation: str | None = None
    contact_email: str | None = None
    discount: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    upload_id: str | None = None
    quote_id: str | None = None
    amount_paid_cents: int = 0
    finalized_at: datetime | None = None
    paid_at: datetime | None = None
    canceled_at: datetime | None = None
    deleted_at: datetime | None = None
    attachment_id: str | None = None
    attachment_ready_at: datetime | None = None
    einvoicing_status: str | None = None
    einvoicing_lifecycle_events: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    sent_emails: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    credit_notes_ids: list[str] = dataclasses.field(default_factory=list)


_INVOICE_DATETIMES = (
    "created_at",
    "updated_at",
    "finalized_at",
    "paid_at",
    "canceled_at",
    "deleted_at",
    "attachment_ready_at",
)


@dataclasses.dataclass
class Organization:
    id: str
    login: str
    secret_key: str
    legal_name: str
    created_at: datetime
    legal_number: str = "000000000"
    legal_form: str = "SAS"
    legal_country: str = "FR"
    legal_address: str = "1 rue de la Paix, 75002 Paris"
    legal_sector: str = "Conseil"
    legal_registration_date: str = "2020-01-15"
    legal_share_capital: int = 10000
    contract_signed_at: datetime | None = None
    locale: str = "fr"
    contact_email: str | None = None
    bank_accounts: list[BankAccount] = dataclasses.field(default_factory=list)
    clients: dict[str, Client] = dataclasses.field(default_factory=dict)
    invoices: dict[str, Invoice] = dataclasses.field(default_factory=dict)  # created_at order
    deleted_invoices: dict[str, Invoice] = dataclasses.field(default_factory=dict)  # tombstones
    next_number: int = 1
    numbers: set[str] = dataclasses.field(default_factory=set)  # assigned or requested numbers
    idempotency: dict[str, tuple[datetime, int, str]] = dataclasses.field(default_factory=dict)
    version: int = 0  # bumped on every invoice change (invalidates list_cache)
    list_cache: OrderedDict[tuple[Any, ...], tuple[int, list[Invoice]]] = dataclasses.field(
        default_factory=OrderedDict
    )


class _WindowCounter:
    """How many events per key in the last ``window_s`` seconds (the per-IP 401 allowance)."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._lock = threading.Lock()
        self._events: dict[str, deque[float]] = defaultdict(deque)

    def add(self, key: str) -> None:
        with self._lock:
            self._events[key].append(time.monotonic())

    def count(self, key: str) -> int:
        now = time.monotonic()
        with self._lock:
            q = self._events.get(key)
            if not q:
                return 0
            while q and q[0] <= now - self.window_s:
                q.popleft()
            return len(q)

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


# --- the simulator -----------------------------------------------------------------------------------
class QontoSim(Provider):
    """Qonto Business API v2 simulator (see the module docstring for the choices it makes)."""

    name = "qonto"
    prefix = "/qonto"
    rules = [
        Rule("/v2/organization", endpoint="api_get_organization", methods=["GET"]),
        Rule("/v2/bank_accounts", endpoint="api_list_bank_accounts", methods=["GET"]),
        Rule("/v2/clients", endpoint="api_list_clients", methods=["GET"]),
        Rule("/v2/clients", endpoint="api_create_client", methods=["POST"]),
        Rule("/v2/clients/<client_id>", endpoint="api_get_client", methods=["GET"]),
        Rule("/v2/clients/<client_id>", endpoint="api_update_client", methods=["PATCH"]),
        Rule("/v2/clients/<client_id>", endpoint="api_delete_client", methods=["DELETE"]),
        Rule("/v2/client_invoices", endpoint="api_list_invoices", methods=["GET"]),
        Rule("/v2/client_invoices", endpoint="api_create_invoice", methods=["POST"]),
        Rule("/v2/client_invoices/<invoice_id>", endpoint="api_get_invoice", methods=["GET"]),
        Rule("/v2/client_invoices/<invoice_id>", endpoint="api_update_invoice", methods=["PATCH"]),
        Rule("/v2/client_invoices/<invoice_id>", endpoint="api_delete_invoice", methods=["DELETE"]),
        Rule("/v2/client_invoices/<invoice_id>/finalize", endpoint="api_finalize", methods=["POST"]),
        Rule("/v2/client_invoices/<invoice_id>/mark_as_paid", endpoint="api_mark_as_paid", methods=["POST"]),
        Rule(
            "/v2/client_invoices/<invoice_id>/unmark_as_paid", endpoint="api_unmark_as_paid", methods=["POST"]
        ),
        Rule(
            "/v2/client_invoices/<invoice_id>/mark_as_canceled",
            endpoint="api_mark_as_canceled",
            methods=["POST"],
        ),
        Rule("/v2/client_invoices/<invoice_id>/send", endpoint="api_send", methods=["POST"]),
        Rule(
            "/v2/client_invoices/<invoice_id>/send_by_einvoice",
            endpoint="api_send_by_einvoice",
            methods=["POST"],
        ),
        Rule("/v2/attachments/<attachment_id>", endpoint="api_get_attachment", methods=["GET"]),
        # Not Qonto's API: the demo "web app" and the fake PDF behind attachment URLs (no auth).
        Rule("/app", endpoint="app_index", methods=["GET"]),
        Rule("/app/<login>", endpoint="app_organization", methods=["GET"]),
        Rule("/files/<attachment_id>", endpoint="app_file", methods=["GET"]),
    ]
    control_rules = [
        Rule("/", endpoint="ctl_summary", methods=["GET"]),
        Rule("/reset", endpoint="ctl_reset", methods=["POST"]),
        Rule("/state", endpoint="ctl_state", methods=["GET"]),
        Rule("/switches", endpoint="ctl_get_switches", methods=["GET"]),
        Rule("/switches", endpoint="ctl_set_switches", methods=["POST"]),
        Rule("/default_status", endpoint="ctl_default_status", methods=["POST"]),
        Rule("/organizations", endpoint="ctl_list_organizations", methods=["GET"]),
        Rule("/organizations", endpoint="ctl_seed_organization", methods=["POST"]),
        Rule("/organizations/<login>", endpoint="ctl_get_organization", methods=["GET"]),
        Rule("/organizations/<login>/bank_accounts", endpoint="ctl_add_bank_account", methods=["POST"]),
        Rule("/organizations/<login>/clients", endpoint="ctl_list_clients", methods=["GET"]),
        Rule("/organizations/<login>/clients", endpoint="ctl_seed_client", methods=["POST"]),
        Rule("/organizations/<login>/invoices", endpoint="ctl_list_invoices", methods=["GET"]),
        Rule("/organizations/<login>/bulk_invoices", endpoint="ctl_bulk_seed", methods=["POST"]),
        Rule("/organizations/<login>/touch", endpoint="ctl_touch", methods=["POST"]),
        Rule("/invoices/<invoice_id>", endpoint="ctl_get_invoice", methods=["GET"]),
        Rule("/invoices/<invoice_id>", endpoint="ctl_edit_draft", methods=["PATCH"]),
        Rule("/invoices/<invoice_id>", endpoint="ctl_delete_draft", methods=["DELETE"]),
        Rule("/invoices/<invoice_id>/edit", endpoint="ctl_edit_draft", methods=["POST"]),
        Rule("/invoices/<invoice_id>/delete", endpoint="ctl_delete_draft", methods=["POST"]),
        Rule("/invoices/<invoice_id>/finalize", endpoint="ctl_finalize", methods=["POST"]),
        Rule("/invoices/<invoice_id>/mark_as_paid", endpoint="ctl_mark_paid", methods=["POST"]),
        Rule("/invoices/<invoice_id>/unmark_as_paid", endpoint="ctl_unmark_paid", methods=["POST"]),
        Rule("/invoices/<invoice_id>/mark_as_canceled", endpoint="ctl_cancel", methods=["POST"]),
        Rule("/invoices/<invoice_id>/einvoicing_status", endpoint="ctl_einvoicing_status", methods=["POST"]),
    ]

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
        self._limit_10s = SlidingWindowLimiter(self.config.qonto_rate_limit_10s, 10)
        self._limit_10min = SlidingWindowLimiter(self.config.qonto_rate_limit_10min, 600)
        self._unauthorized = _WindowCounter(3600)
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

    def seed_demo(self) -> None:
        with self.lock:
            if demo.QONTO_LOGIN not in self.orgs:
                self.seed_organization(
                    demo.QONTO_LOGIN,
                    demo.QONTO_SECRET_KEY,
                    demo.QONTO_LEGAL_NAME,
                    ibans=[demo.QONTO_IBAN_MAIN, demo.QONTO_IBAN_SECOND],
                    legal_number="853215476",
                    legal_address="12 rue des Lilas, 69003 Lyon",
                    legal_sector="Agence de communication",
                )
            if demo.OTHER_QONTO_LOGIN not in self.orgs:
                self.seed_organization(
                    demo.OTHER_QONTO_LOGIN,
                    demo.OTHER_QONTO_SECRET_KEY,
                    demo.OTHER_QONTO_LEGAL_NAME,
                    ibans=[demo.OTHER_QONTO_IBAN],
                    legal_form="SARL",
                    legal_number="479205188",
                    legal_address="3 place Bellecour, 69002 Lyon",
                )

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
            return _INVOICE_LIST_PARAMS
        if endpoint == "api_list_clients":
            return _CLIENT_LIST_PARAMS
        if endpoint == "api_get_organization":
            return ("include_external_accounts",)
        if endpoint == "api_list_bank_accounts":
            return ("page", "per_page")
        return ()

    def before_request(self, request: Request, endpoint: str) -> Response | None:
        if endpoint.startswith("app_"):
            return None
        cfg = self.config
        ip = request.remote_addr or "unknown"
        token = request.headers.get("X-Qonto-Staging-Token")
        if cfg.qonto_staging_mode and (
            token is None or not hmac.compare_digest(token, cfg.qonto_staging_token)
        ):
            return self._onelogin_response()
        self._limit_10s.limit = cfg.qonto_rate_limit_10s
        self._limit_10min.limit = cfg.qonto_rate_limit_10min
        allowed, _, wait = self._limit_10s.hit(ip)
        if allowed:
            allowed, _, wait = self._limit_10min.hit(ip)
        if not allowed:
            return self._too_many(f"Rate limit exceeded for {ip}", wait)
        if self._unauthorized.count(ip) >= self.unauthorized_limit:
            return self._too_many("Too many unauthorized requests from this IP address", 60.0)
        if token is not None and not cfg.qonto_staging_mode and self.reject_staging_token_in_production:
            self._unauthorized.add(ip)
            return self._error_json(
                QontoSimError.one(401, "unauthorized", "X-Qonto-Staging-Token is not accepted in production")
            )
        org = self._authenticate(request.headers.get("Authorization"))
        if org is None:
            self._unauthorized.add(ip)
            return self._error_json(
                QontoSimError.one(
                    401,
                    "unauthorized",
                    "Invalid or missing API key: expected 'Authorization: <login>:<secret-key>'",
                )
            )
        request.environ["qonto.org"] = org.login
        return None

    def dump_state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "switches": self.switches(),
                "organizations": [self._org_state(org) for org in self.orgs.values()],
            }

    def load_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            self.reset()
            if data.get("switches"):
                self.set_switches(**data["switches"])
            for raw in data.get("organizations", []):
                self._load_org(raw)

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

    # === Python control API: organizations and clients ==================================================
    def seed_organization(
        self,
        login: str,
        secret_key: str,
        legal_name: str,
        ibans: list[str] | None = None,
        **attrs: Any,
    ) -> dict[str, Any]:
        """Create (or replace) an organization. The first IBAN is the main, active EUR account."""
        with self.lock:
            old = self.orgs.pop(login, None)
            if old is not None:
                self._forget_org(old)
            now = self.clock.tick()
            org = Organization(
                id=self.ids.uuid(),
                login=login,
                secret_key=secret_key,
                legal_name=legal_name,
                created_at=now,
                contract_signed_at=now - timedelta(days=400),
                contact_email=f"facturation@{login}.example",
            )
            for key, value in attrs.items():
                if key in {f.name for f in dataclasses.fields(Organization)} and key not in ("id", "login"):
                    setattr(org, key, value)
            self.orgs[login] = org
            for i, iban in enumerate(ibans or []):
                self._add_account(
                    org, iban, name="Compte principal" if i == 0 else f"Compte {i + 1}", main=i == 0
                )
            return self._organization_json(org)

    def add_bank_account(
        self,
        login: str,
        iban: str,
        *,
        name: str = "Compte secondaire",
        main: bool = False,
        currency: str = "EUR",
        status: str = "active",
    ) -> dict[str, Any]:
        with self.lock:
            org = self._org(login)
            account = self._add_account(org, iban, name=name, main=main, currency=currency, status=status)
            return self._account_json(org, account)

    def organization(self, login: str) -> dict[str, Any]:
        with self.lock:
            return self._organization_json(self._org(login))

    def seed_client(self, login: str, **fields: Any) -> dict[str, Any]:
        """Create a client as a Qonto user would (same validation as ``POST /v2/clients``).

        ``e_invoicing_reachable=True/False`` overrides the reachability Qonto would derive.
        """
        with self.lock:
            org = self._org(login)
            reachable = fields.pop("e_invoicing_reachable", None)
            client = self._create_client(org, fields)
            client.reachable = reachable
            return self._client_json(client)

    def list_clients(self, login: str) -> list[dict[str, Any]]:
        with self.lock:
            return [self._client_json(c) for c in self._org(login).clients.values()]

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

    def finalize(self, invoice_id: str) -> dict[str, Any]:
        with self.lock:
            inv = self._live_invoice(invoice_id)
            self._finalize(inv)
            return self._invoice_json(inv, control=True)

    def mark_paid(self, invoice_id: str, paid_at: str | None = None) -> dict[str, Any]:
        with self.lock:
            inv = self._live_invoice(invoice_id)
            self._mark_paid(inv, paid_at)
            return self._invoice_json(inv, control=True)

    def unmark_paid(self, invoice_id: str) -> dict[str, Any]:
        with self.lock:
            inv = self._live_invoice(invoice_id)
            self._unmark_paid(inv)
            return self._invoice_json(inv, control=True)

    def cancel(self, invoice_id: str) -> dict[str, Any]:
        with self.lock:
            inv = self._live_invoice(invoice_id)
            self._cancel(inv)
            return self._invoice_json(inv, control=True)

    def edit_draft(self, invoice_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        """Same rules as ``PATCH /v2/client_invoices/{id}`` (drafts only, full validation)."""
        with self.lock:
            inv = self._live_invoice(invoice_id)
            self._update(inv, changes)
            return self._invoice_json(inv, control=True)

    def delete_draft(self, invoice_id: str) -> dict[str, Any]:
        with self.lock:
            inv = self._live_invoice(invoice_id)
            self._delete(inv)
            return self._invoice_json(inv, control=True)

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

    def bulk_seed_invoices(
        self,
        login: str,
        n: int,
        *,
        purchase_order: str = "HubSpot deal {i}",
        status: str = "draft",
        client_id: str | None = None,
        start: int = 1,
        title: str = "Prestation",
        quantity: str = "1",
        unit_price: str = "100.00",
        vat_rate: str = "0.2",
        issue_date: str | None = None,
        due_days: int = 30,
    ) -> list[str]:
        """Create ``n`` invoices directly (no HTTP), for benchmarks. Returns their ids.

        ``purchase_order`` is formatted with ``{i}`` (``start``, ``start + 1``…) and ``{login}``.
        Without ``client_id`` a complete "Client Benchmark" client is created (once) and used.
        """
        if status not in STATUSES:
            raise QontoSimError.one(422, "not_in_list", f"status must be one of {', '.join(STATUSES)}")
        with self.lock:
            org = self._org(login)
            if client_id is None:
                client = next(
                    (c for c in org.clients.values() if c.data.get("name") == "Client Benchmark"), None
                )
                if client is None:
                    client = self._create_client(
                        org,
                        {
                            "kind": "company",
                            "name": "Client Benchmark",
                            "email": "compta@client-benchmark.example",
                            "currency": "EUR",
                            "locale": "FR",
                            "billing_address": {
                                "street_address": "1 avenue du Test",
                                "city": "Paris",
                                "zip_code": "75001",
                                "country_code": "FR",
                            },
                        },
                    )
            else:
                client = self._client_of(org, client_id)
            item = {
                "title": title,
                "quantity": quantity,
                "unit_price": {"value": unit_price, "currency": "EUR"},
                "vat_rate": vat_rate,
            }
            errors: list[dict[str, Any]] = []
            parsed_item = self._parse_item(item, 0, errors)
            if parsed_item is None:
                raise QontoSimError(422, errors)
            lines, sub, vat, total = self._compute_lines([parsed_item], None, errors)
            main = self._main_account(org)
            today = issue_date or self.clock.now().astimezone(PARIS).date().isoformat()
            due = (date.fromisoformat(today) + timedelta(days=due_days)).isoformat()
            summary = self._client_summary(client)
            ids: list[str] = []
            for i in range(start, start + n):
                now = self.clock.tick()
                inv = Invoice(
                    id=self.ids.uuid(),
                    org_login=org.login,
                    organization_id=org.id,
                    client_id=client.id,
                    client=summary,
                    status="draft",
                    issue_date=today,
                    due_date=due,
                    payment_iban=main.iban if main else "",
                    items=lines,  # shared: lines are never mutated in place
                    subtotal_cents=sub,
                    vat_cents=vat,
                    total_cents=total,
                    created_at=now,
                    updated_at=now,
                    purchase_order=purchase_order.format(i=i, login=login),
                    discount_conditions=DEFAULT_DISCOUNT_CONDITIONS,
                    late_payment_penalties=DEFAULT_LATE_PAYMENT_PENALTIES,
                    legal_fixed_compensation=DEFAULT_LEGAL_FIXED_COMPENSATION,
                    contact_email=org.contact_email,
                )
                org.invoices[inv.id] = inv
                self._invoices[inv.id] = inv
                if status != "draft":
                    self._force_status(inv, status, now)
                ids.append(inv.id)
            org.version += 1
            return ids

    def touch_invoices(
        self,
        login: str,
        ids: list[str] | None = None,
        fraction: float | None = None,
        status: str | None = None,
        seed: int | None = None,
    ) -> list[str]:
        """Bump ``updated_at`` (and optionally force ``status``) of some invoices, as Qonto users would.

        Either the given ``ids`` or a deterministic random ``fraction`` of the organization's invoices.
        A forced status fills in what goes with it (number, finalized_at, paid_at). Returns the ids.
        """
        if status is not None and status not in STATUSES:
            raise QontoSimError.one(422, "not_in_list", f"status must be one of {', '.join(STATUSES)}")
        with self.lock:
            org = self._org(login)
            if ids is not None:
                chosen = [self._invoice_of(org, i) for i in ids]
            else:
                pool = list(org.invoices.values())
                k = round(len(pool) * float(fraction if fraction is not None else 0.05))
                rng = random.Random(self.config.seed if seed is None else seed)
                chosen = rng.sample(pool, min(k, len(pool)))
            for inv in chosen:
                now = self.clock.tick()
                if status is not None:
                    self._force_status(inv, status, now)
                inv.updated_at = now
            org.version += 1
            return [inv.id for inv in chosen]

    # === API handlers: organization =====================================================================
    def api_get_organization(self, request: Request) -> Response:
        return self._api(request, lambda org: json_response({"organization": self._organization_json(org)}))

    def api_list_bank_accounts(self, request: Request) -> Response:
        def run(org: Organization) -> Response:
            accounts = [self._account_json(org, a) for a in self._sorted_accounts(org)]
            page, per_page = self._page_params(request.args)
            chunk, meta = self._paginate(accounts, page, per_page)
            return json_response({"bank_accounts": chunk, "meta": meta})

        return self._api(request, run)

    # === API handlers: clients ==========================================================================
    def api_list_clients(self, request: Request) -> Response:
        return self._api(request, lambda org: self._list_clients_response(org, request.args))

    def api_create_client(self, request: Request) -> Response:
        def run(org: Organization) -> Response:
            replay = self._idempotent_replay(org, request)
            if replay is not None:
                return replay
            client = self._create_client(org, self._json_body(request))
            return self._created(org, request, {"client": self._client_json(client)})

        return self._api(request, run)

    def api_get_client(self, request: Request, client_id: str) -> Response:
        return self._api(
            request, lambda org: json_response({"client": self._client_json(self._client_of(org, client_id))})
        )

    def api_update_client(self, request: Request, client_id: str) -> Response:
        def run(org: Organization) -> Response:
            client = self._client_of(org, client_id)
            body = self._json_body(request)
            client.data = self._clean_client(body, existing=client.data)
            client.updated_at = self.clock.tick()
            return json_response({"client": self._client_json(client)})

        return self._api(request, run)

    def api_delete_client(self, request: Request, client_id: str) -> Response:
        def run(org: Organization) -> Response:
            client = self._client_of(org, client_id)
            del org.clients[client.id]
            self._clients.pop(client.id, None)
            return Response(status=204)

        return self._api(request, run)

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

    # === the demo web app ===============================================================================
    def app_index(self, request: Request) -> Response:
        with self.lock:
            rows = "".join(
                f"<tr><td><a href='/qonto/app/{quote(org.login)}'>{html.escape(org.login)}</a></td>"
                f"<td>{html.escape(org.legal_name)}</td><td class='num'>{len(org.invoices)}</td>"
                f"<td class='num'>{len(org.clients)}</td></tr>"
                for org in self.orgs.values()
            )
        body = (
            "<h1>Qonto (simulateur)</h1><p>Choisissez une organisation.</p>"
            "<table><thead><tr><th>Identifiant</th><th>Raison sociale</th><th>Factures</th><th>Clients</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
        return _html_page("Qonto (simulateur)", body)

    def app_organization(self, request: Request, login: str) -> Response:
        limit = 500
        with self.lock:
            org = self.orgs.get(login)
            if org is None:
                return _html_page(
                    "Introuvable", f"<h1>Organisation inconnue : {html.escape(login)}</h1>", 404
                )
            invoices = list(org.invoices.values())[-limit:][::-1]
            total = len(org.invoices)
            next_url = f"/qonto/app/{quote(org.login)}"
            rows = "".join(self._app_row(inv, next_url) for inv in invoices)
            title = f"{org.legal_name} ({org.login})"
        msg = request.args.get("msg")
        flash = f"<p class='flash'>{html.escape(msg)}</p>" if msg else ""
        more = f"<p>Les {limit} plus récentes sur {total}.</p>" if total > limit else ""
        body = (
            f"<p><a href='/qonto/app'>← Organisations</a></p><h1>{html.escape(title)}</h1>{flash}"
            f"<p>Factures clients : {total}. <a href='{next_url}'>Rafraîchir</a></p>{more}"
            "<table><thead><tr><th>Numéro</th><th>Client</th><th>Commande</th><th>HT</th><th>TVA</th>"
            "<th>TTC</th><th>Statut</th><th>Mise à jour</th><th>Actions</th></tr></thead>"
            f"<tbody>{rows or '<tr><td colspan=9>Aucune facture.</td></tr>'}</tbody></table>"
        )
        return _html_page(title, body)

    def app_file(self, request: Request, attachment_id: str) -> Response:
        with self.lock:
            inv = self._invoices.get(self._attachments.get(attachment_id, ""))
            if inv is None or self._visible_attachment(inv) is None:
                return Response("not found", status=404, content_type="text/plain")
            return Response(self._fake_pdf(inv), content_type="application/pdf")

    def _app_row(self, inv: Invoice, next_url: str) -> str:
        labels = {"draft": "Brouillon", "unpaid": "À payer", "paid": "Payée", "canceled": "Annulée"}
        nxt = urlencode({"next": next_url})

        def button(action: str, label: str, extra: str = "") -> str:
            return (
                f"<form method='post' action='/_sim/qonto/invoices/{quote(inv.id)}/{action}?{nxt}'>"
                f"{extra}<button type='submit'>{html.escape(label)}</button></form>"
            )

        actions: list[str] = []
        if inv.status == "draft":
            actions += [button("finalize", "Finaliser"), button("delete", "Supprimer le brouillon")]
        elif inv.status == "unpaid":
            actions += [
                button(
                    "mark_as_paid", "Marquer payée", "<input type='date' name='paid_at' title='Payée le'>"
                ),
                button("mark_as_canceled", "Annuler"),
            ]
        elif inv.status == "paid":
            actions.append(button("unmark_as_paid", "Marquer non payée"))
        number = html.escape(inv.number) if inv.status != "draft" and inv.number else "<em>Brouillon</em>"
        return (
            f"<tr class='{html.escape(inv.status)}'><td>{number}</td>"
            f"<td>{html.escape(str(inv.client.get('name') or ''))}</td>"
            f"<td>{html.escape(inv.purchase_order or '')}</td>"
            f"<td class='num'>{_eur_fr(inv.subtotal_cents)}</td><td class='num'>{_eur_fr(inv.vat_cents)}</td>"
            f"<td class='num'>{_eur_fr(inv.total_cents)}</td>"
            f"<td>{html.escape(labels.get(inv.status, inv.status))}</td>"
            f"<td>{html.escape(iso(inv.updated_at) or '')}</td>"
            f"<td class='actions'>{''.join(actions)}</td></tr>"
        )

    # === control routes =================================================================================
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

    def _onelogin_response(self) -> Response:
        page = (
            "<!DOCTYPE html><html><head><title>OneLogin</title></head><body>"
            "<h1>Qonto staging</h1><p>Sign in with OneLogin to continue.</p>"
            f"<a href='{ONELOGIN_URL}'>Sign in</a></body></html>"
        )
        if self.config.qonto_staging_failure == "html":
            return Response(page, status=200, content_type="text/html; charset=utf-8")
        return Response(
            page, status=302, headers={"Location": ONELOGIN_URL}, content_type="text/html; charset=utf-8"
        )

    def _too_many(self, detail: str, wait_s: float) -> Response:
        resp = self._error_json(QontoSimError.one(429, "too_many_requests", detail))
        if self.rate_limit_retry_after:
            resp.headers["Retry-After"] = str(max(1, math.ceil(wait_s)))
        return resp

    def _authenticate(self, header: str | None) -> Organization | None:
        """Only ``<login>:<secret-key>``: no Basic, no Bearer, no Base64."""
        if not header or ":" not in header:
            return None
        login, secret = header.split(":", 1)
        if " " in login or not login or not secret:  # "Basic x:y", "Bearer x:y"…
            return None
        with self.lock:
            org = self.orgs.get(login)
        if org is None or not hmac.compare_digest(secret.encode(), org.secret_key.encode()):
            return None
        return org

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

    def _page_params(self, args: MultiDict[str, str]) -> tuple[int, int]:
        errors: list[dict[str, Any]] = []
        page = per_page = 0
        try:
            page = int(args.get("page", "1"))
            if page < 1:
                raise ValueError
        except ValueError:
            errors.append(api_error("invalid", "page must be an integer ≥ 1", parameter="page"))
        try:
            per_page = int(args.get("per_page", "100"))
            if not 1 <= per_page <= 100:
                raise ValueError
        except ValueError:
            errors.append(
                api_error("invalid", "per_page must be an integer between 1 and 100", parameter="per_page")
            )
        if errors:
            raise QontoSimError(422, errors)
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

    def _forget_org(self, org: Organization) -> None:
        for inv_id in list(org.invoices) + list(org.deleted_invoices):
            inv = self._invoices.pop(inv_id, None) or self._tombstones.pop(inv_id, None)
            if inv is not None and inv.attachment_id:
                self._attachments.pop(inv.attachment_id, None)
        for client_id in org.clients:
            self._clients.pop(client_id, None)

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

    def _add_account(
        self,
        org: Organization,
        iban: str,
        *,
        name: str,
        main: bool,
        currency: str = "EUR",
        status: str = "active",
    ) -> BankAccount:
        if main:
            for account in org.bank_accounts:
                account.main = False
        account = BankAccount(
            id=self.ids.uuid(),
            slug=f"{org.login}-bank-account-{len(org.bank_accounts) + 1}",
            iban=_normalise_iban(iban),
            bic=QONTO_BIC,
            name=name,
            currency=currency,
            status=status,
            main=main,
            balance_cents=1_000_000 + 12_345 * len(org.bank_accounts),
            authorized_balance_cents=1_000_000 + 12_345 * len(org.bank_accounts),
            updated_at=self.clock.tick(),
        )
        org.bank_accounts.append(account)
        return account

    def _sorted_accounts(self, org: Organization) -> list[BankAccount]:
        return sorted(org.bank_accounts, key=lambda a: not a.main)  # stable: main first

    def _main_account(self, org: Organization) -> BankAccount | None:
        for account in self._sorted_accounts(org):
            if account.status == "active" and account.currency == "EUR":
                return account
        return None

    # === internals: serialisation =======================================================================
    def _organization_json(self, org: Organization) -> dict[str, Any]:
        return {
            "id": org.id,
            "slug": org.login,
            "legal_name": org.legal_name,
            "legal_number": org.legal_number,
            "legal_form": org.legal_form,
            "legal_country": org.legal_country,
            "legal_address": org.legal_address,
            "legal_sector": org.legal_sector,
            "legal_registration_date": org.legal_registration_date,
            "legal_share_capital": org.legal_share_capital,
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
        return {"value": _format_cents(cents, self.config.qonto_non_normalised_amounts), "currency": "EUR"}

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
            "header": inv.header,
            "footer": inv.footer,
            "terms_and_conditions": inv.terms_and_conditions,
            "discount_conditions": inv.discount_conditions,
            "late_payment_penalties": inv.late_payment_penalties,
            "legal_fixed_compensation": inv.legal_fixed_compensation,
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
        text = f"Facture {inv.number or ''} - {_format_cents(inv.total_cents)} EUR".encode(
            "latin-1", "replace"
        )
        return (
            b"%PDF-1.4\n% Qonto sandbox\n1 0 obj << /Title (" + text + b") >> endobj\ntrailer << >>\n%%EOF\n"
        )

    # === internals: clients =============================================================================
    def _list_clients_response(self, org: Organization, args: MultiDict[str, str]) -> Response:
        errors: list[dict[str, Any]] = []
        exact = {
            key: args[f"filter[{key}]"].casefold()
            for key in ("tax_identification_number", "vat_number", "email")
            if f"filter[{key}]" in args
        }
        name = args.get("filter[name]")
        if name is not None and len(name.strip()) < 2:
            errors.append(
                api_error("invalid", "filter[name] needs at least 2 characters", parameter="filter[name]")
            )
        upd_from = _dt_param(args, "filter[updated_at_from]", errors)
        upd_to = _dt_param(args, "filter[updated_at_to]", errors)
        sort_by = args.get("sort_by", "name:asc")
        field, _, direction = sort_by.partition(":")
        if field not in ("created_at", "updated_at", "name") or direction not in ("asc", "desc"):
            errors.append(
                api_error(
                    "invalid",
                    "sort_by must be created_at, updated_at or name with :asc or :desc",
                    parameter="sort_by",
                )
            )
        try:
            page, per_page = self._page_params(args)
        except QontoSimError as exc:
            errors += exc.errors
        if errors:
            raise QontoSimError(422, errors)
        folded = _fold(name.strip()) if name else None
        rows: list[Client] = []
        for c in org.clients.values():
            if any(str(c.data.get(k) or "").casefold() != v for k, v in exact.items()):
                continue
            if folded is not None and folded not in _fold(c.display_name):
                continue
            if upd_from is not None and c.updated_at < upd_from:
                continue
            if upd_to is not None and c.updated_at > upd_to:
                continue
            rows.append(c)
        if field == "name":
            rows.sort(key=lambda c: (_fold(c.display_name), c.created_at), reverse=direction == "desc")
        else:
            rows.sort(key=lambda c: getattr(c, field), reverse=direction == "desc")
        chunk, meta = self._paginate(rows, page, per_page)
        return json_response({"clients": [self._client_json(c) for c in chunk], "meta": meta})

    def _create_client(self, org: Organization, body: Any) -> Client:
        data = self._clean_client(body, existing=None)
        now = self.clock.tick()
        client = Client(id=self.ids.uuid(), org_login=org.login, data=data, created_at=now, updated_at=now)
        org.clients[client.id] = client
        self._clients[client.id] = client
        return client

    def _clean_client(self, body: Any, existing: dict[str, Any] | None) -> dict[str, Any]:
        """Validate a flat client body (create, or PATCH over ``existing``). Returns the new data."""
        if not isinstance(body, dict):
            raise QontoSimError.one(422, "invalid_body", "The body must be a JSON object", pointer="/data")
        if isinstance(body.get("client"), dict):
            raise QontoSimError.one(
                422, "invalid_body", "The body must be flat: no 'client' wrapper", pointer=_ptr("client")
            )
        errors: list[dict[str, Any]] = []
        data = dict(existing or {})
        # "type" is the legacy alias of "kind"; when both are sent, "kind" wins.
        kind_key = "kind" if body.get("kind") is not None else "type"
        kind = body.get(kind_key)
        if kind is not None:
            if kind not in CLIENT_KINDS:
                errors.append(
                    api_error(
                        "not_in_list",
                        f"{kind_key} must be one of {', '.join(CLIENT_KINDS)}",
                        pointer=_ptr(kind_key),
                    )
                )
            else:
                data["kind"] = kind
        elif existing is None:
            errors.append(api_error("blank", "kind is required", pointer=_ptr("kind")))
        limits = {
            "name": 250,
            "first_name": 60,
            "last_name": 60,
            "vat_number": 20,
            "tax_identification_number": 30,
            "email": 250,
            "currency": 3,
            "locale": 5,
            "e_invoicing_address": 100,
        }
        for key, limit in limits.items():
            if key not in body:
                continue
            value = body[key]
            if value is None or value == "":
                data.pop(key, None)
                continue
            if not isinstance(value, str):
                errors.append(api_error("invalid", f"{key} must be a string", pointer=_ptr(key)))
            elif len(value) > limit:
                errors.append(
                    api_error(
                        "too_long", f"{key} is too long (maximum {limit} characters)", pointer=_ptr(key)
                    )
                )
            elif key == "email" and not _EMAIL_RE.match(value):
                errors.append(api_error("invalid", "email is not a valid email address", pointer=_ptr(key)))
            elif key == "currency" and not _CURRENCY_RE.match(value):
                errors.append(api_error("invalid", "currency must be an ISO 4217 code", pointer=_ptr(key)))
            elif key == "locale" and value.lower() not in LOCALES:
                errors.append(
                    api_error("not_in_list", f"locale must be one of {', '.join(LOCALES)}", pointer=_ptr(key))
                )
            elif key == "e_invoicing_address" and not _EINVOICING_ADDRESS_RE.match(value):
                errors.append(
                    api_error(
                        "invalid",
                        "e_invoicing_address must be a SIREN, SIREN_SIRET or SIREN_SIRET_routingCode",
                        pointer=_ptr(key),
                    )
                )
            else:
                data[key] = value
        if "extra_emails" in body:
            extra = body["extra_emails"]
            if extra is None:
                data.pop("extra_emails", None)
            elif not isinstance(extra, list) or not all(
                isinstance(e, str) and _EMAIL_RE.match(e) for e in extra
            ):
                errors.append(
                    api_error(
                        "invalid", "extra_emails must be a list of emails", pointer=_ptr("extra_emails")
                    )
                )
            elif len(extra) > 100:
                errors.append(
                    api_error(
                        "too_long", "extra_emails has more than 100 entries", pointer=_ptr("extra_emails")
                    )
                )
            else:
                data["extra_emails"] = list(extra)
        for key in ("billing_address", "delivery_address"):
            if key not in body:
                continue
            address = body[key]
            if address is None:
                data.pop(key, None)
                continue
            if not isinstance(address, dict):
                errors.append(api_error("invalid", f"{key} must be an object", pointer=_ptr(key)))
                continue
            clean: dict[str, str] = {}
            for field in ADDRESS_FIELDS:
                value = address.get(field)
                if value is None:
                    continue
                if not isinstance(value, str):
                    errors.append(api_error("invalid", f"{field} must be a string", pointer=_ptr(key, field)))
                elif field == "country_code" and not _COUNTRY_RE.match(value):
                    errors.append(
                        api_error(
                            "invalid", "country_code must be ISO 3166-1 alpha-2", pointer=_ptr(key, field)
                        )
                    )
                elif len(value) > 250:
                    errors.append(api_error("too_long", f"{field} is too long", pointer=_ptr(key, field)))
                else:
                    clean[field] = value
            if clean.get("province_code") and clean.get("country_code", "").upper() != "IT":
                errors.append(
                    api_error(
                        "invalid",
                        "province_code is for Italian addresses only",
                        pointer=_ptr(key, "province_code"),
                    )
                )
            data[key] = clean
        if "phone" in body:
            phone = body["phone"]
            if phone is None:
                data.pop("phone", None)
            elif (
                not isinstance(phone, dict)
                or not isinstance(phone.get("number"), str)
                or not isinstance(phone.get("country_code"), str)
                or not _PHONE_CC_RE.match(phone["country_code"])
            ):
                errors.append(
                    api_error(
                        "invalid", "phone must be {country_code: '+33', number: '…'}", pointer=_ptr("phone")
                    )
                )
            else:
                data["phone"] = {"country_code": phone["country_code"], "number": phone["number"]}
        if not errors:
            kind = data.get("kind", "company")
            if kind == "company" and not data.get("name"):
                errors.append(api_error("blank", "name is required for a company", pointer=_ptr("name")))
            if kind in ("individual", "freelancer"):
                for key in ("first_name", "last_name"):
                    if not data.get(key):
                        errors.append(
                            api_error("blank", f"{key} is required for an {kind}", pointer=_ptr(key))
                        )
            if (
                kind == "freelancer"
                and (data.get("billing_address") or {}).get("country_code", "").upper() != "IT"
            ):
                errors.append(
                    api_error(
                        "not_in_list", "kind 'freelancer' is for Italian clients only", pointer=_ptr("kind")
                    )
                )
        if errors:
            raise QontoSimError(422, errors)
        return data

    # === internals: invoices ============================================================================
    def _list_invoices_response(self, org: Organization, args: MultiDict[str, str]) -> Response:
        errors: list[dict[str, Any]] = []
        statuses: frozenset[str] | None = None
        if "filter[status]" in args:
            # Qonto's list page documents filter[status] as one of draft/unpaid/paid/canceled, and
            # shared/spec/qonto.md §4.4 records a comma-separated list [doc]. Nothing documents a
            # repeated parameter (only the *supplier* invoices list says "provided multiple times"),
            # and a Rails-style server would keep only the last one: refused here, loudly.
            if len(args.getlist("filter[status]")) > 1:
                errors.append(
                    api_error(
                        "invalid",
                        "filter[status] given several times: send one value or a comma-separated list",
                        parameter="filter[status]",
                    )
                )
            wanted = [s.strip() for s in args["filter[status]"].split(",") if s.strip()]
            bad = [s for s in wanted if s not in STATUSES]
            if bad or not wanted:
                errors.append(
                    api_error(
                        "not_in_list",
                        f"filter[status] values must be among {', '.join(STATUSES)}",
                        parameter="filter[status]",
                    )
                )
            statuses = frozenset(wanted)
        created_from = _dt_param(args, "filter[created_at_from]", errors)
        created_to = _dt_param(args, "filter[created_at_to]", errors)
        updated_from = _dt_param(args, "filter[updated_at_from]", errors)
        updated_to = _dt_param(args, "filter[updated_at_to]", errors)
        due_eq = _date_param(args, "filter[due_date]", errors)
        due_from = _date_param(args, "filter[due_date_from]", errors)
        due_to = _date_param(args, "filter[due_date_to]", errors)
        sort_by = args.get("sort_by", "created_at:desc")
        if sort_by not in ("created_at:asc", "created_at:desc", "updated_at:asc", "updated_at:desc"):
            errors.append(
                api_error("invalid", "sort_by must be created_at:asc or created_at:desc", parameter="sort_by")
            )
        try:
            page, per_page = self._page_params(args)
        except QontoSimError as exc:
            errors += exc.errors
        if errors:
            raise QontoSimError(422, errors)
        key = (
            statuses,
            created_from,
            created_to,
            updated_from,
            updated_to,
            due_eq,
            due_from,
            due_to,
            sort_by,
        )
        cached = org.list_cache.get(key)
        if cached is not None and cached[0] == org.version:
            org.list_cache.move_to_end(key)
            rows = cached[1]
        else:
            rows = [
                inv
                for inv in org.invoices.values()
                if (statuses is None or inv.status in statuses)
                and (created_from is None or inv.created_at >= created_from)
                and (created_to is None or inv.created_at <= created_to)
                and (updated_from is None or inv.updated_at >= updated_from)
                and (updated_to is None or inv.updated_at <= updated_to)
                and (due_eq is None or inv.due_date == due_eq)
                and (due_from is None or inv.due_date >= due_from)
                and (due_to is None or inv.due_date <= due_to)
            ]
            field, _, direction = sort_by.partition(":")
            if field == "updated_at":
                rows.sort(key=lambda inv: (inv.updated_at, inv.created_at), reverse=direction == "desc")
            elif direction == "desc":  # org.invoices is kept in created_at order
                rows.reverse()
            org.list_cache[key] = (org.version, rows)
            while len(org.list_cache) > LIST_CACHE_SIZE:
                org.list_cache.popitem(last=False)
        chunk, meta = self._paginate(rows, page, per_page)
        return json_response(
            {"client_invoices": [self._invoice_json(inv, detail=False) for inv in chunk], "meta": meta}
        )

    def _touch(self, inv: Invoice) -> datetime:
        """Every change bumps updated_at strictly and invalidates the organization's list cache."""
        inv.updated_at = self.clock.tick()
        org = self.orgs.get(inv.org_login)
        if org is not None:
            org.version += 1
        return inv.updated_at

    def _create_invoice(self, org: Organization, body: Any) -> Invoice:
        fields = self._validate_invoice(org, body)
        number = fields.pop("requested_number")
        if number is not None and number in org.numbers:
            raise QontoSimError.one(
                409,
                "invoice_number_already_exists",
                f"An invoice with number {number!r} already exists",
                pointer=_ptr("number"),
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

    def _validate_invoice(self, org: Organization, body: Any) -> dict[str, Any]:
        """Strict validation of a flat invoice body. Returns Invoice fields (+ status, requested_number)."""
        if not isinstance(body, dict):
            raise QontoSimError.one(422, "invalid_body", "The body must be a JSON object", pointer="/data")
        if "client_invoice" in body:
            raise QontoSimError.one(
                422,
                "invalid_body",
                "The body must be flat: send the invoice attributes without a 'client_invoice' wrapper",
                pointer=_ptr("client_invoice"),
            )
        errors: list[dict[str, Any]] = []
        # client
        client: Client | None = None
        client_id = body.get("client_id")
        if not client_id:
            errors.append(api_error("blank", "client_id is required", pointer=_ptr("client_id")))
        elif not isinstance(client_id, str) or client_id not in org.clients:
            errors.append(
                api_error("not_found", f"Client {client_id!r} not found", pointer=_ptr("client_id"))
            )
        else:
            client = org.clients[client_id]
            cname = client.display_name
            if not client.data.get("currency"):
                errors.append(
                    api_error(
                        "blank",
                        f"Client {cname!r} has no currency: update the client",
                        pointer=_ptr("currency"),
                    )
                )
            elif str(client.data["currency"]).upper() != "EUR":
                errors.append(
                    api_error(
                        "invalid",
                        f"Client {cname!r} currency {client.data['currency']} does not match "
                        "the invoice currency EUR",
                        pointer=_ptr("currency"),
                    )
                )
            if not client.data.get("locale"):
                errors.append(
                    api_error(
                        "blank", f"Client {cname!r} has no locale: update the client", pointer=_ptr("locale")
                    )
                )
            address = client.data.get("billing_address") or {}
            for field in REQUIRED_ADDRESS_FIELDS:
                if not address.get(field):
                    errors.append(
                        api_error(
                            "blank",
                            f"Client {cname!r} billing address has no {field}: update the client",
                            pointer=_ptr("billing_address", field),
                        )
                    )
        # dates
        issue = _parse_date(body.get("issue_date"))
        due = _parse_date(body.get("due_date"))
        for key, parsed in (("issue_date", issue), ("due_date", due)):
            if body.get(key) in (None, ""):
                errors.append(api_error("blank", f"{key} is required", pointer=_ptr(key)))
            elif parsed is None:
                errors.append(
                    api_error("invalid", f"{key} must be a date formatted YYYY-MM-DD", pointer=_ptr(key))
                )
        if issue and due and due < issue:
            errors.append(
                api_error("invalid", "due_date must be on or after issue_date", pointer=_ptr("due_date"))
            )
        perf_start = _parse_date(body.get("performance_start_date"))
        perf_end = _parse_date(body.get("performance_end_date"))
        for key, parsed in (("performance_start_date", perf_start), ("performance_end_date", perf_end)):
            if body.get(key) not in (None, "") and parsed is None:
                errors.append(
                    api_error("invalid", f"{key} must be a date formatted YYYY-MM-DD", pointer=_ptr(key))
                )
        if body.get("performance_end_date") and not body.get("performance_start_date"):
            errors.append(
                api_error(
                    "blank",
                    "performance_start_date is required with performance_end_date",
                    pointer=_ptr("performance_start_date"),
                )
            )
        if perf_start and perf_end and perf_end < perf_start:
            errors.append(
                api_error(
                    "invalid",
                    "performance_end_date must be on or after performance_start_date",
                    pointer=_ptr("performance_end_date"),
                )
            )
        # currency
        currency = body.get("currency")
        if currency in (None, ""):
            errors.append(api_error("blank", "currency is required", pointer=_ptr("currency")))
        elif currency != "EUR":
            errors.append(api_error("not_in_list", "Only EUR is allowed", pointer=_ptr("currency")))
        # payment methods
        iban = ""
        pm = body.get("payment_methods")
        if pm is not None and not isinstance(pm, dict):
            errors.append(
                api_error(
                    "invalid", "payment_methods must be an object {iban}", pointer=_ptr("payment_methods")
                )
            )
        else:
            raw_iban = (pm or {}).get("iban")
            if not raw_iban or not isinstance(raw_iban, str) or not raw_iban.strip():
                errors.append(
                    api_error("invalid_iban", "IBAN is empty", pointer=_ptr("payment_methods", "iban"))
                )
            else:
                iban = _normalise_iban(raw_iban)
                ok = any(
                    a.iban == iban and a.status == "active" and a.currency == "EUR" for a in org.bank_accounts
                )
                if not ok:
                    errors.append(
                        api_error(
                            "invalid_iban",
                            "IBAN is not one of the organization's active EUR bank accounts",
                            pointer=_ptr("payment_methods", "iban"),
                        )
                    )
        # status and number
        status = body.get("status")
        if status is not None and status not in CREATABLE_STATUSES:
            errors.append(
                api_error("not_in_list", "status must be 'draft' or 'unpaid'", pointer=_ptr("status"))
            )
        number = body.get("number")
        if number is not None and (not isinstance(number, str) or not number.strip() or len(number) > 40):
            errors.append(
                api_error(
                    "invalid", "number must be a non-empty string of ≤ 40 characters", pointer=_ptr("number")
                )
            )
            number = None
        # free texts
        texts: dict[str, str | None] = {}
        for key in (
            "purchase_order",
            "header",
            "footer",
            "terms_and_conditions",
            "discount_conditions",
            "late_payment_penalties",
            "legal_fixed_compensation",
            "contact_email",
            "upload_id",
            "quote_id",
        ):
            value = body.get(key)
            if value is not None and not isinstance(value, str):
                errors.append(api_error("invalid", f"{key} must be a string", pointer=_ptr(key)))
                value = None
            texts[key] = value
        settings = body.get("settings")
        if settings is not None:
            if not isinstance(settings, dict):
                errors.append(api_error("invalid", "settings must be an object", pointer=_ptr("settings")))
                settings = None
            else:
                share = settings.get("legal_capital_share")
                if isinstance(share, dict) and share.get("currency") not in (None, "EUR"):
                    errors.append(
                        api_error(
                            "not_in_list",
                            "Only EUR is allowed",
                            pointer=_ptr("settings", "legal_capital_share", "currency"),
                        )
                    )
                vat_number = settings.get("vat_number")
                if isinstance(vat_number, str) and len(vat_number) > 20:
                    errors.append(
                        api_error(
                            "too_long",
                            "vat_number is too long (maximum 20)",
                            pointer=_ptr("settings", "vat_number"),
                        )
                    )
        invoice_discount = _parse_discount(body.get("discount"), ("discount",), errors)
        # items
        items = body.get("items")
        parsed_items: list[dict[str, Any]] = []
        if items is None or items == []:
            errors.append(api_error("blank", "items must contain at least one item", pointer=_ptr("items")))
        elif not isinstance(items, list):
            errors.append(api_error("invalid", "items must be a list", pointer=_ptr("items")))
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

    def _parse_item(self, item: Any, i: int, errors: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not isinstance(item, dict):
            errors.append(api_error("invalid", "each item must be an object", pointer=_ptr("items", i)))
            return None
        n = len(errors)
        title = item.get("title")
        if not title or not isinstance(title, str) or not title.strip():
            errors.append(api_error("blank", "title is required", pointer=_ptr("items", i, "title")))
        elif len(title) > 40:
            errors.append(
                api_error(
                    "too_long", "title is too long (maximum 40 characters)", pointer=_ptr("items", i, "title")
                )
            )
        description = item.get("description")
        if description is not None and not isinstance(description, str):
            errors.append(
                api_error("invalid", "description must be a string", pointer=_ptr("items", i, "description"))
            )
        elif description is not None and len(description) > 1800:
            errors.append(
                api_error(
                    "too_long",
                    "description is too long (maximum 1800 characters)",
                    pointer=_ptr("items", i, "description"),
                )
            )
        unit = item.get("unit")
        if unit is not None and (not isinstance(unit, str) or len(unit) > 20):
            errors.append(
                api_error(
                    "too_long", "unit must be a string of ≤ 20 characters", pointer=_ptr("items", i, "unit")
                )
            )
        qty = _decimal_string(item.get("quantity"))
        if qty is None:
            errors.append(
                api_error(
                    "invalid",
                    'quantity must be a decimal string such as "1"',
                    pointer=_ptr("items", i, "quantity"),
                )
            )
        elif qty <= 0:
            errors.append(
                api_error("invalid", "quantity must be greater than 0", pointer=_ptr("items", i, "quantity"))
            )
        price = item.get("unit_price")
        price_value: Decimal | None = None
        if not isinstance(price, dict):
            errors.append(
                api_error(
                    "invalid",
                    'unit_price must be {"value": "…", "currency": "EUR"}',
                    pointer=_ptr("items", i, "unit_price"),
                )
            )
        else:
            price_value = _decimal_string(price.get("value"))
            if price_value is None:
                errors.append(
                    api_error(
                        "invalid",
                        'unit_price.value must be a decimal string such as "1200.00"',
                        pointer=_ptr("items", i, "unit_price", "value"),
                    )
                )
            elif price_value < 0:
                errors.append(
                    api_error(
                        "invalid",
                        "unit_price.value must not be negative",
                        pointer=_ptr("items", i, "unit_price", "value"),
                    )
                )
            if price.get("currency") != "EUR":
                errors.append(
                    api_error(
                        "not_in_list",
                        "Only EUR is allowed",
                        pointer=_ptr("items", i, "unit_price", "currency"),
                    )
                )
        rate = _decimal_string(item.get("vat_rate"))
        if rate is None:
            errors.append(
                api_error(
                    "invalid",
                    'vat_rate must be a decimal string fraction such as "0.2"',
                    pointer=_ptr("items", i, "vat_rate"),
                )
            )
        elif not Decimal(0) <= rate <= Decimal(1):
            errors.append(
                api_error(
                    "invalid",
                    'vat_rate is a fraction between 0 and 1: "0.2" means 20 %',
                    pointer=_ptr("items", i, "vat_rate"),
                )
            )
        elif self.config.qonto_french_vat_only and rate not in FRENCH_VAT_RATES:
            errors.append(
                api_error(
                    "not_in_list",
                    "vat_rate must be one of 0, 0.021, 0.055, 0.085, 0.1, 0.2",
                    pointer=_ptr("items", i, "vat_rate"),
                )
            )
        reason = item.get("vat_exemption_reason")
        if reason is not None and not isinstance(reason, str):
            errors.append(
                api_error(
                    "invalid",
                    "vat_exemption_reason must be a string",
                    pointer=_ptr("items", i, "vat_exemption_reason"),
                )
            )
        discount = _parse_discount(item.get("discount"), ("items", i, "discount"), errors)
        if len(errors) > n or qty is None or price_value is None or rate is None:
            return None
        return {
            "title": title,
            "description": description,
            "quantity": item["quantity"],
            "unit": unit,
            "unit_price_value": price["value"] if isinstance(price, dict) else None,
            "unit_price_cents": _to_cents(price_value),
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
                    errors.append(
                        api_error(
                            "invalid",
                            "discount is larger than the line amount",
                            pointer=_ptr("items", p["_index"], "discount", "value"),
                        )
                    )
            nets.append(net)
        if invoice_discount is not None:
            kind, value = invoice_discount
            gross = sum(nets, Decimal(0))
            if kind == "percentage":
                nets = [n * (1 - value) for n in nets]
            elif value > gross:
                errors.append(
                    api_error(
                        "invalid",
                        "discount is larger than the invoice amount",
                        pointer=_ptr("discount", "value"),
                    )
                )
            elif gross > 0:
                nets = [n - value * n / gross for n in nets]  # spread pro rata over the lines
        if errors:
            return [], 0, 0, 0
        lines: list[dict[str, Any]] = []
        for p, net in zip(parsed, nets, strict=True):
            subtotal = _to_cents(net)
            vat = _round_cents(Decimal(subtotal) * p["_rate"])
            line = {k: v for k, v in p.items() if not k.startswith("_")}
            line.update(subtotal_cents=subtotal, total_vat_cents=vat, total_amount_cents=subtotal + vat)
            lines.append(line)
        sub = sum(line["subtotal_cents"] for line in lines)
        vat_total = sum(line["total_vat_cents"] for line in lines)
        return lines, sub, vat_total, sub + vat_total

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
            "header": inv.header,
            "footer": inv.footer,
            "terms_and_conditions": inv.terms_and_conditions,
            "discount_conditions": inv.discount_conditions,
            "late_payment_penalties": inv.late_payment_penalties,
            "legal_fixed_compensation": inv.legal_fixed_compensation,
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

    # --- lifecycle (each raises QontoSimError when Qonto would refuse) ---------------------------------
    def _refuse(self, inv: Invoice, action: str, allowed: str) -> QontoSimError:
        return QontoSimError.one(
            422,
            "invalid_status_transition",
            f"Cannot {action} a client invoice whose status is {inv.status} (only {allowed})",
            pointer=_ptr("status"),
        )

    def _update(self, inv: Invoice, patch: Any) -> None:
        if inv.status != "draft":
            raise self._refuse(inv, "update", "draft")
        if not isinstance(patch, dict):
            raise QontoSimError.one(422, "invalid_body", "The body must be a JSON object", pointer="/data")
        if "client_invoice" in patch:
            raise QontoSimError.one(
                422,
                "invalid_body",
                "The body must be flat: no 'client_invoice' wrapper",
                pointer=_ptr("client_invoice"),
            )
        org = self._org(inv.org_login)
        merged = self._invoice_body(inv)
        merged.update({k: v for k, v in patch.items() if k != "status"})
        fields = self._validate_invoice(org, merged)
        fields.pop("status")
        number = fields.pop("requested_number")
        if number != inv.requested_number:
            if number is not None and number in org.numbers:
                raise QontoSimError.one(
                    409,
                    "invoice_number_already_exists",
                    f"An invoice with number {number!r} already exists",
                    pointer=_ptr("number"),
                )
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
        day = _parse_date(paid_at)
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
                422, "invalid", "paid_at must be a date YYYY-MM-DD", pointer=_ptr("paid_at")
            )
        if future:
            raise QontoSimError.one(
                422, "invalid", "paid_at cannot be in the future", pointer=_ptr("paid_at")
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
        if not isinstance(body, dict):
            raise QontoSimError.one(422, "invalid_body", "The body must be a JSON object", pointer="/data")
        errors: list[dict[str, Any]] = []
        send_to = body.get("send_to")
        if not isinstance(send_to, list) or not send_to:
            errors.append(api_error("blank", "send_to must list at least one email", pointer=_ptr("send_to")))
        elif not all(isinstance(e, str) and _EMAIL_RE.match(e) for e in send_to):
            errors.append(api_error("invalid", "send_to must contain emails", pointer=_ptr("send_to")))
        if not isinstance(body.get("email_title"), str) or not body["email_title"].strip():
            errors.append(api_error("blank", "email_title is required", pointer=_ptr("email_title")))
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
                pointer=_ptr("client", "e_invoicing_reachable"),
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

    # === internals: state dump ==========================================================================
    def _org_state(self, org: Organization) -> dict[str, Any]:
        return {
            "id": org.id,
            "login": org.login,
            "secret_key": org.secret_key,
            "legal_name": org.legal_name,
            "created_at": iso(org.created_at),
            "legal_number": org.legal_number,
            "legal_form": org.legal_form,
            "legal_country": org.legal_country,
            "legal_address": org.legal_address,
            "legal_sector": org.legal_sector,
            "legal_registration_date": org.legal_registration_date,
            "legal_share_capital": org.legal_share_capital,
            "contract_signed_at": iso(org.contract_signed_at),
            "locale": org.locale,
            "contact_email": org.contact_email,
            "next_number": org.next_number,
            "numbers": sorted(org.numbers),
            "bank_accounts": [
                {**dataclasses.asdict(a), "updated_at": iso(a.updated_at)} for a in org.bank_accounts
            ],
            "clients": [
                {
                    "id": c.id,
                    "data": c.data,
                    "created_at": iso(c.created_at),
                    "updated_at": iso(c.updated_at),
                    "reachable": c.reachable,
                }
                for c in org.clients.values()
            ],
            "invoices": [_invoice_state(inv) for inv in org.invoices.values()],
            "deleted_invoices": [_invoice_state(inv) for inv in org.deleted_invoices.values()],
            "idempotency": {k: [iso(exp), st, text] for k, (exp, st, text) in org.idempotency.items()},
        }

    def _load_org(self, raw: dict[str, Any]) -> None:
        def dt(value: Any) -> datetime | None:
            return parse_iso(value) if value else None

        org = Organization(
            id=raw["id"],
            login=raw["login"],
            secret_key=raw["secret_key"],
            legal_name=raw["legal_name"],
            created_at=dt(raw.get("created_at")) or self.clock.now(),
        )
        for key in (
            "legal_number",
            "legal_form",
            "legal_country",
            "legal_address",
            "legal_sector",
            "legal_registration_date",
            "legal_share_capital",
            "locale",
            "contact_email",
            "next_number",
        ):
            if key in raw:
                setattr(org, key, raw[key])
        org.contract_signed_at = dt(raw.get("contract_signed_at"))
        org.numbers = set(raw.get("numbers", []))
        for a in raw.get("bank_accounts", []):
            org.bank_accounts.append(BankAccount(**{**a, "updated_at": dt(a.get("updated_at"))}))
        for c in raw.get("clients", []):
            client = Client(
                id=c["id"],
                org_login=org.login,
                data=dict(c["data"]),
                created_at=dt(c["created_at"]) or self.clock.now(),
                updated_at=dt(c["updated_at"]) or self.clock.now(),
                reachable=c.get("reachable"),
            )
            org.clients[client.id] = client
            self._clients[client.id] = client
        invoices = sorted(
            (_invoice_from_state(r) for r in raw.get("invoices", [])), key=lambda i: i.created_at
        )
        for inv in invoices:
            org.invoices[inv.id] = inv
            self._invoices[inv.id] = inv
            if inv.attachment_id:
                self._attachments[inv.attachment_id] = inv.id
        for r in raw.get("deleted_invoices", []):
            inv = _invoice_from_state(r)
            org.deleted_invoices[inv.id] = inv
            self._tombstones[inv.id] = inv
        for key, (exp, st, text) in raw.get("idempotency", {}).items():
            org.idempotency[key] = (parse_iso(exp), int(st), text)
        self.orgs[org.login] = org


# --- module helpers ----------------------------------------------------------------------------------
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


def _dt_param(args: MultiDict[str, str], name: str, errors: list[dict[str, Any]]) -> datetime | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_iso(value)
    except ValueError:
        errors.append(api_error("invalid", f"{name} must be an ISO 8601 datetime", parameter=name))
        return None


def _date_param(args: MultiDict[str, str], name: str, errors: list[dict[str, Any]]) -> str | None:
    value = args.get(name)
    if value is None or value == "":
        return None
    if _parse_date(value) is None:
        errors.append(api_error("invalid", f"{name} must be a date formatted YYYY-MM-DD", parameter=name))
        return None
    return value


def _parse_discount(
    raw: Any, where: tuple[str | int, ...], errors: list[dict[str, Any]]
) -> tuple[str, Decimal] | None:
    """A discount: ``{"type": "percentage", "value": "0.1"}`` (a fraction) or ``"absolute"`` (euros)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.append(api_error("invalid", "discount must be an object {type, value}", pointer=_ptr(*where)))
        return None
    kind = raw.get("type")
    if kind not in ("percentage", "absolute"):
        errors.append(
            api_error(
                "not_in_list",
                "discount type must be 'percentage' or 'absolute'",
                pointer=_ptr(*where, "type"),
            )
        )
        return None
    value = _decimal_string(raw.get("value"))
    if value is None:
        errors.append(
            api_error("invalid", "discount value must be a decimal string", pointer=_ptr(*where, "value"))
        )
        return None
    if value < 0 or (kind == "percentage" and value > 1):
        errors.append(
            api_error(
                "invalid",
                "a percentage discount is a fraction between 0 and 1; an absolute one is ≥ 0",
                pointer=_ptr(*where, "value"),
            )
        )
        return None
    return kind, value


def _invoice_state(inv: Invoice) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Invoice):
        value = getattr(inv, f.name)
        out[f.name] = iso(value) if f.name in _INVOICE_DATETIMES else value
    return out


def _invoice_from_state(raw: dict[str, Any]) -> Invoice:
    names = {f.name for f in dataclasses.fields(Invoice)}
    values = {k: v for k, v in raw.items() if k in names}
    for key in _INVOICE_DATETIMES:
        if values.get(key):
            values[key] = parse_iso(values[key])
    return Invoice(**values)


def _redirect(location: str, message: str) -> Response:
    sep = "&" if "?" in location else "?"
    return Response(status=303, headers={"Location": f"{location}{sep}{urlencode({'msg': message})}"})


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1d1d1b;background:#fafaf7}
h1{font-size:1.4rem}a{color:#5b3cc4}table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e4e2dc;padding:.45rem .6rem;text-align:left;font-size:.9rem}
td{vertical-align:middle}th{background:#f1efe9}td.num{text-align:right;white-space:nowrap}
td.actions form{display:inline-block;margin:0 .2rem}
button{border:1px solid #5b3cc4;background:#fff;color:#5b3cc4;border-radius:4px;padding:.2rem .5rem}
button{cursor:pointer}button:hover{background:#5b3cc4;color:#fff}
.flash{background:#eef7ee;border:1px solid #9c9;padding:.5rem;border-radius:4px}
tr.canceled td{color:#888}tr.paid td:nth-child(7){color:#1a7f37;font-weight:600}
input[type=date]{font-size:.8rem;margin-right:.2rem}
"""


def _html_page(title: str, body: str, status: int = 200) -> Response:
    page = (
        f"<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )
    return Response(page, status=status, content_type="text/html; charset=utf-8")


__all__ = ["QontoSim", "QontoSimError", "api_error", "sign_webhook"]
