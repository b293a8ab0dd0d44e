"""State, provider hooks and the helpers every HubSpot resource shares: HubSpot's error bodies,
scope checks, id allocation and the batch envelope.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import Provider, Reply, Sandbox, SlidingWindowLimiter, json_response, read_json
from sandbox.hubspot.model import ID_BASES, bearer_token, hs_time, paging_args, resolve_type
from sandbox.hubspot.routes import KNOWN_PARAMS


class HubSpotBase(Provider):
    """What every resource mixin of ``HubSpotApi`` builds on: the state and its helpers."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.state: dict[str, Any] = self._empty_state()
        self.limiter = SlidingWindowLimiter(self.config.hubspot_rate_limit, 10.0)
        self.search_limiter = SlidingWindowLimiter(self.config.hubspot_search_rate_limit, 1.0)

    @staticmethod
    def _empty_state() -> dict[str, Any]:
        return {
            "portals": {},
            "codes": {},
            "access_tokens": {},
            "refresh_tokens": {},
            "counters": {},
            "settings": {"rotate_refresh_tokens": False, "notes_require_contacts_scope": True},
        }

    def reset(self) -> None:
        with self.lock:
            self.state = self._empty_state()
        self.limiter.reset()
        self.search_limiter.reset()

    def dump_state(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy(self.state)

    def load_state(self, data: dict[str, Any]) -> None:
        with self.lock:
            state = self._empty_state()
            state.update(copy.deepcopy(data))
            self.state = state

    def known_params(self, endpoint: str) -> Iterable[str] | None:
        return KNOWN_PARAMS.get(endpoint)

    def portal_of(self, request: Request) -> str | None:
        token = bearer_token(request)
        with self.lock:
            if token and token in self.state["access_tokens"]:
                return str(self.state["access_tokens"][token]["portal"])
            match = re.search(r"/oauth/v1/(access|refresh)-tokens/([^/]+)$", request.path)
            if match:
                store = "access_tokens" if match.group(1) == "access" else "refresh_tokens"
                entry = self.state[store].get(match.group(2))
                return str(entry["portal"]) if entry else None
            if request.mimetype == "application/x-www-form-urlencoded":
                form = request.form
                for key, store in (
                    ("refresh_token", "refresh_tokens"),
                    ("token", "access_tokens"),
                    ("token", "refresh_tokens"),
                ):
                    entry = self.state[store].get(form.get(key, ""))
                    if entry:
                        return str(entry["portal"])
                code = self.state["codes"].get(form.get("code", ""))
                if code:
                    return str(code["portal"])
        return None

    def error_response(self, status: int, message: str) -> Response:
        category = {
            400: "VALIDATION_ERROR",
            401: "INVALID_AUTHENTICATION",
            403: "MISSING_SCOPES",
            404: "OBJECT_NOT_FOUND",
            405: "METHOD_NOT_ALLOWED",
            409: "CONFLICT",
            429: "RATE_LIMITS",
        }.get(status, "INTERNAL_ERROR" if status >= 500 else "ERROR")
        return self._error(status, message, category)

    def _error(self, status: int, message: str, category: str, **extra: Any) -> Response:
        body: dict[str, Any] = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
        }
        body.update({k: v for k, v in extra.items() if v is not None})
        return json_response(body, status)

    def _validation(self, message: str, **extra: Any) -> Response:
        return self._error(400, message, "VALIDATION_ERROR", **extra)

    def _not_found(self, message: str = "resource not found") -> Response:
        return self._error(404, message, "OBJECT_NOT_FOUND")

    def _bad_type(self, raw: str) -> Response:
        return self._validation(f"Unable to infer object type from: {raw}")

    def _json(self, request: Request) -> Any:
        """The JSON body (``None`` when empty); a body that is not JSON ends the request with a 400."""
        try:
            return read_json(request)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Reply(self._validation(f"Invalid input JSON: {exc}")) from None

    def _json_object(self, request: Request, message: str) -> dict[str, Any]:
        """The JSON body, which must be an object (else a 400 with ``message``)."""
        body = self._json(request)
        if not isinstance(body, dict):
            raise Reply(self._validation(message))
        return body

    def _batch_inputs(
        self, request: Request, limit: int, *, count_in_context: bool = False
    ) -> tuple[dict[str, Any], list[Any]]:
        """A batch body and its ``inputs`` (at most ``limit`` of them)."""
        body = self._json(request)
        if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
            raise Reply(self._validation("The request body must have an inputs list"))
        inputs: list[Any] = body["inputs"]
        if len(inputs) > limit:
            if count_in_context:  # the objects API words it so, with the count in the context
                raise Reply(
                    self._validation(
                        f"Batch input limit exceeded: {len(inputs)} inputs were sent, the limit is {limit}.",
                        context={"inputs": [str(len(inputs))]},
                    )
                )
            raise Reply(
                self._validation(f"Batch input limit exceeded: {len(inputs)} inputs, the limit is {limit}.")
            )
        return body, inputs

    def _paging(self, request: Request, *, default: int, maximum: int) -> tuple[int, int]:
        """(limit, offset) from ``limit`` / ``after``, or a 400."""
        limit, offset, bad = paging_args(request.args, default=default, maximum=maximum)
        if bad:
            raise Reply(self._validation(bad))
        return limit, offset

    def _auth(self, request: Request) -> dict[str, Any]:
        return dict(request.environ["hs.auth"])

    def _portal(self, request: Request) -> dict[str, Any]:
        return self.state["portals"][request.environ["hs.auth"]["portal"]]

    def _require(self, request: Request, any_of: Iterable[str]) -> None:
        """The token must hold one of ``any_of``, else the request ends with HubSpot's 403."""
        wanted = list(any_of)
        granted = set(request.environ["hs.auth"]["scopes"])
        if granted.intersection(wanted):
            return
        raise Reply(
            self._error(
                403,
                "This app hasn't been granted all required scopes to make this call. Read more about "
                "required scopes here: https://developers.hubspot.com/scopes.",
                "MISSING_SCOPES",
                context={"missingScopes": wanted},
                errors=[
                    {
                        "message": "One or more of the following scopes are required.",
                        "context": {"requiredGranularScopes": wanted},
                    }
                ],
                links={"scopes": "https://developers.hubspot.com/scopes"},
            )
        )

    def _object_type(self, request: Request, raw: str, *, write: bool = False, schema: bool = False) -> str:
        """The object type a path names, once the token has the scope to read (or write) its records,
        or with ``schema`` its property definitions."""
        otype = resolve_type(raw)
        if otype is None:
            raise Reply(self._bad_type(raw))
        if schema:
            self._require(
                request, self._schema_write_scopes(otype) if write else self._schema_read_scopes(otype)
            )
        else:
            self._require(request, self._write_scopes(otype) if write else self._read_scopes(otype))
        return otype

    @staticmethod
    def _read_scopes(otype: str) -> tuple[str, ...]:
        if otype == "notes":
            return ("crm.objects.contacts.read", "crm.objects.contacts.write")
        return (f"crm.objects.{otype}.read",)

    def _write_scopes(self, otype: str) -> tuple[str, ...]:
        if otype == "notes":
            # HubSpot documents only the contacts scopes for notes; the lenient switch also
            # accepts the deal write scope (spec §5.8 [assumed]).
            if self.state["settings"].get("notes_require_contacts_scope", True):
                return ("crm.objects.contacts.write",)
            return ("crm.objects.contacts.write", "crm.objects.deals.write")
        return (f"crm.objects.{otype}.write",)

    @staticmethod
    def _schema_read_scopes(otype: str) -> tuple[str, ...]:
        base = "contacts" if otype == "notes" else otype
        return (f"crm.schemas.{base}.read", f"crm.schemas.{base}.write", f"crm.objects.{base}.read")

    @staticmethod
    def _schema_write_scopes(otype: str) -> tuple[str, ...]:
        base = "contacts" if otype == "notes" else otype
        return (f"crm.schemas.{base}.write",)

    def _next_id(self, kind: str) -> str:
        counters = self.state["counters"]
        portals = self.state["portals"].values()
        while True:
            counters[kind] = counters.get(kind, 0) + 1
            oid = str(ID_BASES[kind] - 1 + counters[kind])
            # Ids are unique across portals, and never reuse one given explicitly (demo, tests).
            if kind == "tax_rates":
                if not any(oid in p["tax_rates"] for p in portals):
                    return oid
            elif not any(oid in p["objects"][kind] for p in portals):
                return oid

    def _get_portal(self, portal_id: int | str) -> dict[str, Any]:
        portal = self.state["portals"].get(str(portal_id))
        if portal is None:
            raise KeyError(f"no HubSpot portal {portal_id}")
        return portal

    @staticmethod
    def _list_arg(request: Request, name: str) -> list[str] | None:
        raw = request.args.getlist(name)
        if not raw:
            return None
        out = [part.strip() for value in raw for part in value.split(",") if part.strip()]
        return out or None

    def _batch_answer(
        self, results: list[dict[str, Any]], errors: list[dict[str, Any]], started: str, ok_status: int = 200
    ) -> Response:
        out: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "requestedAt": started,
            "startedAt": started,
            "completedAt": hs_time(self.clock.now()),
        }
        if errors:
            out["numErrors"] = len(errors)
            out["errors"] = errors
            return json_response(out, 207)
        return json_response(out, ok_status)
