"""Credit notes (avoirs): ``/v2/credit_notes`` and the Qonto user's "Créer un avoir".

Facts reproduced (shared/spec/qonto.md §4.5):

- ``POST /v2/credit_notes`` [doc]: flat body with ``invoice_id``, ``issue_date``, ``reason``,
  ``currency``, ``items`` (same item rules as invoices, quantities sent positive), optional
  ``number``; the cumulative total of an invoice's credit notes cannot exceed the invoice's; when
  it reaches it, the invoice is canceled; not allowed on partial (deposit/balance) invoices;
- ``GET /v2/credit_notes`` [doc]: ``{"credit_notes": [...], "meta": {...}}``, paginated like every
  list, filters ``filter[created_at_from]`` / ``filter[created_at_to]``, ``sort_by`` on
  ``created_at``; ``GET /v2/credit_notes/{id}`` → ``{"credit_note": {...}}``;
- the object [doc]: ``id``, ``invoice_id``, ``invoice_issue_date``, ``number``, ``issue_date``,
  ``total_amount`` / ``vat_amount`` (+ ``_cents``), ``currency``, ``items``, ``client``,
  ``created_at``, ``finalized_at``, ``invoice_url``, ``attachment_id``, ``einvoicing_status``;
  no ``status`` and no ``updated_at``: final once created [seen]; the invoice lists it in
  ``credit_notes_ids``.

Choices where the facts are silent (stricter than Qonto, switchable):

- only finalized invoices (``unpaid`` or ``paid``) can be credited: a draft is deleted instead,
  a canceled one has nothing left [assumed];
- a *partial* credit note adds its id to the invoice's ``credit_notes_ids`` but does **not** bump
  the invoice's ``updated_at`` (switch ``credit_note_touches_invoice``): a connector must list
  credit notes, not wait for the invoice to change; the cancellation a full one causes is a
  status change and does bump it;
- amounts come back positive as in Qonto's example [doc]; switch
  ``credit_note_negative_amounts`` negates the items' quantities and amounts, as a public
  source says Qonto's server does [seen];
- numbers are ``AV-<year>-<seq:04d>`` per organization; the default sort is ``created_at:desc``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request, Response

from sandbox.core import iso, json_response, parse_iso
from sandbox.qonto.control import Control
from sandbox.qonto.errors import QontoSimError, api_error, attr_pointer
from sandbox.qonto.model import PARIS, format_cents, parse_date
from sandbox.qonto.state import Invoice, Organization

CREDIT_NOTE_LIST_PARAMS = (
    "filter[created_at_from]",
    "filter[created_at_to]",
    "sort_by",
    "page",
    "per_page",
)
REASON_MAX = 500  # [seen]


@dataclasses.dataclass(slots=True)
class CreditNote:
    id: str
    org_login: str
    invoice_id: str
    invoice_issue_date: str
    number: str
    issue_date: str
    reason: str
    items: list[dict[str, Any]]  # computed lines, as for invoices (positive amounts)
    subtotal_cents: int
    vat_cents: int
    total_cents: int
    client: dict[str, Any]
    created_at: datetime
    currency: str = "EUR"
    terms_and_conditions: str | None = None
    contact_email: str | None = None


def credit_note_state(note: CreditNote) -> dict[str, Any]:
    out = dataclasses.asdict(note)
    out["created_at"] = iso(note.created_at)
    return out


def credit_note_from_state(raw: dict[str, Any]) -> CreditNote:
    names = {f.name for f in dataclasses.fields(CreditNote)}
    values = {k: v for k, v in raw.items() if k in names}
    values["created_at"] = parse_iso(values["created_at"])
    return CreditNote(**values)


class CreditNotes(Control):
    """Credit-note endpoints, the control routes and the Python API."""

    def _credit_notes_of(self, org: Organization) -> dict[str, CreditNote]:
        return org.credit_notes

    # === state dump =====================================================================================
    def _org_state(self, org: Organization) -> dict[str, Any]:
        out = super()._org_state(org)
        out["credit_notes"] = [credit_note_state(n) for n in self._credit_notes_of(org).values()]
        return out

    def _load_org(self, raw: dict[str, Any]) -> None:
        super()._load_org(raw)
        org = self.orgs[raw["login"]]
        for item in raw.get("credit_notes", []):
            note = credit_note_from_state(item)
            org.credit_notes[note.id] = note

    def _credited_cents(self, org: Organization, invoice_id: str) -> int:
        return sum(n.total_cents for n in self._credit_notes_of(org).values() if n.invoice_id == invoice_id)

    # === creation (API and control) =====================================================================
    def _create_credit_note(self, org: Organization, body: Any) -> CreditNote:
        if not isinstance(body, dict):
            raise QontoSimError.one(422, "invalid_body", "The body must be a JSON object", pointer="/data")
        if "credit_note" in body:
            raise QontoSimError.one(
                422,
                "invalid_body",
                "The body must be flat: no 'credit_note' wrapper",
                pointer=attr_pointer("credit_note"),
            )
        errors: list[dict[str, Any]] = []
        inv = org.invoices.get(str(body.get("invoice_id") or ""))
        if inv is None:
            errors.append(
                api_error(
                    "not_found", "invoice_id is not an invoice of yours", pointer=attr_pointer("invoice_id")
                )
            )
        currency = body.get("currency")
        if currency != "EUR" or (inv is not None and currency != inv.currency):
            errors.append(
                api_error(
                    "not_in_list",
                    "currency must be the invoice's (EUR)",
                    pointer=attr_pointer("currency"),
                )
            )
        issue = parse_date(body.get("issue_date"))
        if issue is None:
            errors.append(
                api_error(
                    "invalid", "issue_date must be a date YYYY-MM-DD", pointer=attr_pointer("issue_date")
                )
            )
        elif inv is not None and issue.isoformat() < inv.issue_date:
            errors.append(
                api_error(
                    "invalid",
                    "issue_date cannot be before the invoice's issue date",
                    pointer=attr_pointer("issue_date"),
                )
            )
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            errors.append(api_error("blank", "reason is required", pointer=attr_pointer("reason")))
        elif len(reason) > REASON_MAX:
            errors.append(
                api_error(
                    "too_long",
                    f"reason is too long (maximum {REASON_MAX} characters)",
                    pointer=attr_pointer("reason"),
                )
            )
        items = body.get("items")
        parsed: list[dict[str, Any]] = []
        if not isinstance(items, list) or not items:
            errors.append(
                api_error("blank", "items must contain at least one item", pointer=attr_pointer("items"))
            )
        else:
            for i, item in enumerate(items):
                line = self._parse_item(item, i, errors)
                if line is not None:
                    parsed.append(line)
        number = body.get("number")
        if number is not None and (not isinstance(number, str) or not number.strip()):
            errors.append(api_error("invalid", "number must be a string", pointer=attr_pointer("number")))
        elif number is not None and any(n.number == number for n in self._credit_notes_of(org).values()):
            raise QontoSimError.one(
                409,
                "credit_note_number_already_exists",
                f"A credit note with number {number!r} already exists",
                pointer=attr_pointer("number"),
            )
        if errors:
            raise QontoSimError(422, errors)
        assert inv is not None
        assert issue is not None
        if inv.status not in ("unpaid", "paid"):
            raise QontoSimError.one(
                422,
                "invalid_status_transition",
                f"Cannot create a credit note for a client invoice whose status is {inv.status} "
                "(only unpaid or paid; delete a draft instead)",
                pointer=attr_pointer("invoice_id"),
            )
        if self._invoice_type(inv) != "standard":
            raise QontoSimError.one(
                422,
                "invalid",
                "Credit notes cannot be created for partial (deposit or balance) invoices",
                pointer=attr_pointer("invoice_id"),
            )
        lines, subtotal, vat, total = self._compute_lines(parsed, None, errors)
        if errors:
            raise QontoSimError(422, errors)
        left = inv.total_cents - self._credited_cents(org, inv.id)
        if total > left:
            raise QontoSimError.one(
                422,
                "credit_notes_exceed_invoice_amount",
                f"The credit notes of an invoice cannot exceed its total: {format_cents(left)} EUR left "
                f"to credit, {format_cents(total)} EUR asked",
                pointer=attr_pointer("items"),
            )
        now = self.clock.tick()
        year = now.astimezone(PARIS).year
        note = CreditNote(
            id=self.ids.uuid(),
            org_login=org.login,
            invoice_id=inv.id,
            invoice_issue_date=inv.issue_date,
            number=number or f"AV-{year}-{len(self._credit_notes_of(org)) + 1:04d}",
            issue_date=issue.isoformat(),
            reason=str(reason),
            items=lines,
            subtotal_cents=subtotal,
            vat_cents=vat,
            total_cents=total,
            client=dict(inv.client),
            created_at=now,
            terms_and_conditions=body.get("terms_and_conditions"),
            contact_email=body.get("contact_email"),
        )
        self._credit_notes_of(org)[note.id] = note
        inv.credit_notes_ids = [*inv.credit_notes_ids, note.id]
        if total == left:
            # Credit notes adding up to the invoice's total cancel it [doc]: a status change.
            inv.status = "canceled"
            inv.canceled_at = self._touch(inv)
        elif self.credit_note_touches_invoice:
            self._touch(inv)
        else:
            org.version += 1  # the invoice's JSON changed (credit_notes_ids): drop cached lists
        return note

    def _invoice_type(self, inv: Invoice) -> str:
        return "standard"  # the simulator only makes standard invoices

    # === JSON ===========================================================================================
    def _credit_note_json(self, note: CreditNote) -> dict[str, Any]:
        money = self._money
        sign = -1 if self.credit_note_negative_amounts else 1
        items = []
        for line in note.items:
            item = self._item_json(line)
            if sign < 0:
                item["quantity"] = f"-{line['quantity']}"
                for key in ("subtotal", "total_vat", "total_amount"):
                    item[key] = money(-line[f"{key}_cents"])
                    item[f"{key}_cents"] = -line[f"{key}_cents"]
            items.append(item)
        return {
            "id": note.id,
            "invoice_id": note.invoice_id,
            "attachment_id": None,
            "issue_date": note.issue_date,
            "invoice_issue_date": note.invoice_issue_date,
            "number": note.number,
            "terms_and_conditions": note.terms_and_conditions,
            "header": None,
            "footer": None,
            "vat_amount": money(note.vat_cents),
            "vat_amount_cents": note.vat_cents,
            "total_amount": money(note.total_cents),
            "total_amount_cents": note.total_cents,
            "currency": note.currency,
            "created_at": iso(note.created_at),
            "finalized_at": iso(note.created_at),
            "contact_email": note.contact_email,
            "invoice_url": f"https://pay.qonto.com/credit_notes/{note.id}",
            "einvoicing_status": None,
            "items": items,
            "client": dict(note.client),
        }

    def _list_credit_notes_response(self, org: Organization, args: MultiDict[str, str]) -> Response:
        errors: list[dict[str, Any]] = []
        bounds: dict[str, datetime | None] = {}
        for name in ("filter[created_at_from]", "filter[created_at_to]"):
            value = args.get(name)
            bounds[name] = None
            if value:
                try:
                    bounds[name] = parse_iso(value)
                except ValueError:
                    errors.append(
                        api_error("invalid", f"{name} must be an ISO 8601 datetime", parameter=name)
                    )
        sort_by = args.get("sort_by", "created_at:desc")
        if sort_by not in ("created_at:asc", "created_at:desc"):
            errors.append(
                api_error("invalid", "sort_by must be created_at:asc or created_at:desc", parameter="sort_by")
            )
        try:
            page, per_page = self._page_params(args)
        except QontoSimError as exc:
            errors += exc.errors
        if errors:
            raise QontoSimError(422, errors)
        low, high = bounds["filter[created_at_from]"], bounds["filter[created_at_to]"]
        rows = [
            n
            for n in self._credit_notes_of(org).values()
            if (low is None or n.created_at >= low) and (high is None or n.created_at <= high)
        ]
        rows.sort(key=lambda n: n.created_at, reverse=sort_by.endswith("desc"))
        chunk, meta = self._paginate(rows, page, per_page)
        return json_response({"credit_notes": [self._credit_note_json(n) for n in chunk], "meta": meta})

    def known_params(self, endpoint: str) -> Any:
        if endpoint == "api_list_credit_notes":
            return CREDIT_NOTE_LIST_PARAMS
        return super().known_params(endpoint)

    # === API handlers ===================================================================================
    def api_list_credit_notes(self, request: Request) -> Response:
        return self._api(request, lambda org: self._list_credit_notes_response(org, request.args))

    def api_get_credit_note(self, request: Request, credit_note_id: str) -> Response:
        def run(org: Organization) -> Response:
            note = self._credit_notes_of(org).get(credit_note_id)
            if note is None:
                raise QontoSimError.one(404, "not_found", "Credit note not found")
            return json_response({"credit_note": self._credit_note_json(note)})

        return self._api(request, run)

    def api_create_credit_note(self, request: Request) -> Response:
        def run(org: Organization) -> Response:
            replay = self._idempotent_replay(org, request)
            if replay is not None:
                return replay
            note = self._create_credit_note(org, self._json_body(request))
            return self._created(org, request, {"credit_note": self._credit_note_json(note)})

        return self._api(request, run)

    # === Python control API (what a Qonto user does in the app) =========================================
    def create_credit_note(
        self,
        invoice_id: str,
        *,
        amount: str | None = None,
        vat_rate: str | None = None,
        reason: str = "Avoir",
        issue_date: str | None = None,
        number: str | None = None,
    ) -> dict[str, Any]:
        """ "Créer un avoir": the whole invoice (``amount=None``: its lines, which cancels it), or a
        partial one of ``amount`` euros excl. VAT at ``vat_rate`` (default: the first line's)."""
        with self.lock:
            inv = self._live_invoice(invoice_id)
            org = self._org(inv.org_login)
            if amount in (None, ""):
                items = [self._credit_line(line) for line in inv.items]
            else:
                rate = vat_rate or (inv.items[0]["vat_rate"] if inv.items else "0.2")
                items = [
                    {
                        "title": "Avoir partiel",
                        "quantity": "1",
                        "unit": "unit",
                        "unit_price": {"value": f"{Decimal(str(amount)):.2f}", "currency": "EUR"},
                        "vat_rate": rate,
                    }
                ]
            today = self.clock.now().astimezone(PARIS).date().isoformat()
            body: dict[str, Any] = {
                "invoice_id": inv.id,
                "issue_date": max(issue_date or today, inv.issue_date),
                "reason": reason,
                "currency": inv.currency,
                "items": items,
            }
            if number:
                body["number"] = number
            note = self._create_credit_note(org, body)
            return self._credit_note_json(note)

    def _credit_line(self, line: dict[str, Any]) -> dict[str, Any]:
        item: dict[str, Any] = {
            "title": line["title"],
            "quantity": line["quantity"],
            "unit_price": {"value": format_cents(line["unit_price_cents"]), "currency": "EUR"},
            "vat_rate": line["vat_rate"],
        }
        for key in ("description", "unit", "discount", "vat_exemption_reason"):
            if line.get(key):
                item[key] = line[key]
        return item

    def list_credit_notes(self, login: str) -> list[dict[str, Any]]:
        with self.lock:
            org = self._org(login)
            return [self._credit_note_json(n) for n in self._credit_notes_of(org).values()]

    # === control routes =================================================================================
    def ctl_create_credit_note(self, request: Request, invoice_id: str) -> Response:
        def run(body: dict[str, Any]) -> dict[str, Any]:
            note = self.create_credit_note(
                invoice_id,
                amount=body.get("amount") or None,
                vat_rate=body.get("vat_rate") or None,
                reason=body.get("reason") or "Avoir",
                issue_date=body.get("issue_date") or None,
                number=body.get("number") or None,
            )
            return {"credit_note": note}

        return self._control(request, run, status=201, done="Avoir créé")

    def ctl_list_credit_notes(self, request: Request, login: str) -> Response:
        return self._control(request, lambda body: {"credit_notes": self.list_credit_notes(login)})
