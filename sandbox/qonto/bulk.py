"""Python API for benchmarks: many invoices at once, and changes as Qonto users would make them."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sandbox.qonto.clients import Clients
from sandbox.qonto.errors import QontoSimError
from sandbox.qonto.invoices import Invoices
from sandbox.qonto.model import (
    DEFAULT_DISCOUNT_CONDITIONS,
    DEFAULT_LATE_PAYMENT_PENALTIES,
    DEFAULT_LEGAL_FIXED_COMPENSATION,
    PARIS,
    STATUSES,
)
from sandbox.qonto.organization import Organizations
from sandbox.qonto.state import Invoice


class Bulk(Invoices, Clients, Organizations):
    """Bulk seeding and touching."""

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
