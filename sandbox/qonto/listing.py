"""Listing clients and invoices: filters, sorts, pagination and the per-organization list cache."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from sandbox.core import json_response, parse_iso
from sandbox.qonto.errors import QontoSimError, api_error
from sandbox.qonto.model import LIST_CACHE_SIZE, STATUSES, fold, parse_date
from sandbox.qonto.serialize import Serializers
from sandbox.qonto.state import Client, Organization


class Listing(Serializers):
    """``GET /v2/clients`` and ``GET /v2/client_invoices`` bodies."""

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
        page, per_page = self._page_params(args, errors)
        if errors:
            raise QontoSimError(422, errors)
        folded = fold(name.strip()) if name else None
        rows: list[Client] = []
        for c in org.clients.values():
            if any(str(c.data.get(k) or "").casefold() != v for k, v in exact.items()):
                continue
            if folded is not None and folded not in fold(c.display_name):
                continue
            if upd_from is not None and c.updated_at < upd_from:
                continue
            if upd_to is not None and c.updated_at > upd_to:
                continue
            rows.append(c)
        if field == "name":
            rows.sort(key=lambda c: (fold(c.display_name), c.created_at), reverse=direction == "desc")
        else:
            rows.sort(key=lambda c: getattr(c, field), reverse=direction == "desc")
        chunk, meta = self._paginate(rows, page, per_page)
        return json_response({"clients": [self._client_json(c) for c in chunk], "meta": meta})

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
        page, per_page = self._page_params(args, errors)
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
    if parse_date(value) is None:
        errors.append(api_error("invalid", f"{name} must be a date formatted YYYY-MM-DD", parameter=name))
        return None
    return value
