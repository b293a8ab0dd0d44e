"""Clients (``/v2/clients``): strict validation of flat bodies, create, read, update, delete."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response
from sandbox.qonto.errors import QontoSimError, add_error, json_object, wrapped_body
from sandbox.qonto.listing import Listing
from sandbox.qonto.model import (
    ADDRESS_FIELDS,
    CLIENT_KINDS,
    COUNTRY_RE,
    CURRENCY_RE,
    EINVOICING_ADDRESS_RE,
    EMAIL_RE,
    LOCALES,
    PHONE_CC_RE,
)
from sandbox.qonto.state import Client, Organization


class Clients(Listing):
    """Clients: API and Python API."""

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

    def _create_client(self, org: Organization, body: Any) -> Client:
        data = self._clean_client(body, existing=None)
        now = self.clock.tick()
        client = Client(id=self.ids.uuid(), org_login=org.login, data=data, created_at=now, updated_at=now)
        org.clients[client.id] = client
        self._clients[client.id] = client
        return client

    def _clean_client(self, body: Any, existing: dict[str, Any] | None) -> dict[str, Any]:
        """Validate a flat client body (create, or PATCH over ``existing``). Returns the new data."""
        body = json_object(body)
        if isinstance(body.get("client"), dict):
            raise wrapped_body("client", "The body must be flat: no 'client' wrapper")
        errors: list[dict[str, Any]] = []
        data = dict(existing or {})
        # "type" is the legacy alias of "kind"; when both are sent, "kind" wins.
        kind_key = "kind" if body.get("kind") is not None else "type"
        kind = body.get(kind_key)
        if kind is not None:
            if kind not in CLIENT_KINDS:
                add_error(
                    errors, "not_in_list", f"{kind_key} must be one of {', '.join(CLIENT_KINDS)}", kind_key
                )
            else:
                data["kind"] = kind
        elif existing is None:
            add_error(errors, "blank", "kind is required", "kind")
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
                add_error(errors, "invalid", f"{key} must be a string", key)
            elif len(value) > limit:
                add_error(errors, "too_long", f"{key} is too long (maximum {limit} characters)", key)
            elif key == "email" and not EMAIL_RE.match(value):
                add_error(errors, "invalid", "email is not a valid email address", key)
            elif key == "currency" and not CURRENCY_RE.match(value):
                add_error(errors, "invalid", "currency must be an ISO 4217 code", key)
            elif key == "locale" and value.lower() not in LOCALES:
                add_error(errors, "not_in_list", f"locale must be one of {', '.join(LOCALES)}", key)
            elif key == "e_invoicing_address" and not EINVOICING_ADDRESS_RE.match(value):
                add_error(
                    errors,
                    "invalid",
                    "e_invoicing_address must be a SIREN, SIREN_SIRET or SIREN_SIRET_routingCode",
                    key,
                )
            else:
                data[key] = value
        if "extra_emails" in body:
            extra = body["extra_emails"]
            if extra is None:
                data.pop("extra_emails", None)
            elif not isinstance(extra, list) or not all(
                isinstance(e, str) and EMAIL_RE.match(e) for e in extra
            ):
                add_error(errors, "invalid", "extra_emails must be a list of emails", "extra_emails")
            elif len(extra) > 100:
                add_error(errors, "too_long", "extra_emails has more than 100 entries", "extra_emails")
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
                add_error(errors, "invalid", f"{key} must be an object", key)
                continue
            clean: dict[str, str] = {}
            for field in ADDRESS_FIELDS:
                value = address.get(field)
                if value is None:
                    continue
                if not isinstance(value, str):
                    add_error(errors, "invalid", f"{field} must be a string", key, field)
                elif field == "country_code" and not COUNTRY_RE.match(value):
                    add_error(errors, "invalid", "country_code must be ISO 3166-1 alpha-2", key, field)
                elif len(value) > 250:
                    add_error(errors, "too_long", f"{field} is too long", key, field)
                else:
                    clean[field] = value
            if clean.get("province_code") and clean.get("country_code", "").upper() != "IT":
                add_error(
                    errors, "invalid", "province_code is for Italian addresses only", key, "province_code"
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
                or not PHONE_CC_RE.match(phone["country_code"])
            ):
                add_error(errors, "invalid", "phone must be {country_code: '+33', number: '…'}", "phone")
            else:
                data["phone"] = {"country_code": phone["country_code"], "number": phone["number"]}
        if not errors:
            kind = data.get("kind", "company")
            if kind == "company" and not data.get("name"):
                add_error(errors, "blank", "name is required for a company", "name")
            if kind in ("individual", "freelancer"):
                for key in ("first_name", "last_name"):
                    if not data.get(key):
                        add_error(errors, "blank", f"{key} is required for an {kind}", key)
            if (
                kind == "freelancer"
                and (data.get("billing_address") or {}).get("country_code", "").upper() != "IT"
            ):
                add_error(errors, "not_in_list", "kind 'freelancer' is for Italian clients only", "kind")
        if errors:
            raise QontoSimError(422, errors)
        return data
