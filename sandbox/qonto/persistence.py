"""Dump the simulator's state to JSON and load it back (``--state`` file, ``/_sim/state``)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sandbox.core import iso, parse_iso
from sandbox.qonto.base import QontoBase
from sandbox.qonto.state import INVOICE_DATETIMES, LEGAL_FIELDS, BankAccount, Client, Invoice, Organization


class Persistence(QontoBase):
    """State dump and load."""

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

    def _org_state(self, org: Organization) -> dict[str, Any]:
        return {
            "id": org.id,
            "login": org.login,
            "secret_key": org.secret_key,
            "legal_name": org.legal_name,
            "created_at": iso(org.created_at),
            **{name: getattr(org, name) for name in LEGAL_FIELDS},
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
        for key in (*LEGAL_FIELDS, "locale", "contact_email", "next_number"):
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


def _invoice_state(inv: Invoice) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Invoice):
        value = getattr(inv, f.name)
        out[f.name] = iso(value) if f.name in INVOICE_DATETIMES else value
    return out


def _invoice_from_state(raw: dict[str, Any]) -> Invoice:
    names = {f.name for f in dataclasses.fields(Invoice)}
    values = {k: v for k, v in raw.items() if k in names}
    for key in INVOICE_DATETIMES:
        if values.get(key):
            values[key] = parse_iso(values[key])
    return Invoice(**values)
