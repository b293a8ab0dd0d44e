"""The organization and its bank accounts (``GET /v2/organization``, ``GET /v2/bank_accounts``)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox import demo
from sandbox.core import json_response
from sandbox.qonto.model import QONTO_BIC, normalise_iban
from sandbox.qonto.serialize import Serializers
from sandbox.qonto.state import BankAccount, Organization


class Organizations(Serializers):
    """Organizations: API, Python API and the demo seed."""

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

    # === Python control API =============================================================================
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

    def _forget_org(self, org: Organization) -> None:
        for inv_id in list(org.invoices) + list(org.deleted_invoices):
            inv = self._invoices.pop(inv_id, None) or self._tombstones.pop(inv_id, None)
            if inv is not None and inv.attachment_id:
                self._attachments.pop(inv.attachment_id, None)
        for client_id in org.clients:
            self._clients.pop(client_id, None)

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
            iban=normalise_iban(iban),
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
