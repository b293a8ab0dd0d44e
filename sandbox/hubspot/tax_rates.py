"""The tax-rate library (``/tax-rates/v1|2026-03/tax-rates``) that line items point to."""

from __future__ import annotations

import copy
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import json_response
from sandbox.hubspot.base import HubSpotBase
from sandbox.hubspot.model import hs_time, paged


class TaxRates(HubSpotBase):
    """Tax rates: list, get, and ``add_tax_rate`` for tests."""

    def tax_rates_list(self, request: Request, **_: str) -> Response:
        self._require(request, ["tax_rates.read"])
        limit, offset = self._paging(request, default=100, maximum=100)
        with self.lock:
            rates = list(self._portal(request)["tax_rates"].values())
        return json_response(paged(copy.deepcopy(rates[offset : offset + limit]), len(rates), offset, limit))

    def tax_rates_get(self, request: Request, rate_id: str, **_: str) -> Response:
        self._require(request, ["tax_rates.read"])
        with self.lock:
            rate = self._portal(request)["tax_rates"].get(rate_id)
            if rate is None:
                return self._not_found(f"tax rate {rate_id} not found")
            return json_response(copy.deepcopy(rate))

    def add_tax_rate(
        self,
        portal_id: int,
        name: str,
        percentage: float | int,
        *,
        rate_id: str | None = None,
        active: bool = True,
    ) -> dict[str, Any]:
        with self.lock:
            portal = self._get_portal(portal_id)
            rid = str(rate_id) if rate_id is not None else self._next_id("tax_rates")
            ts = hs_time(self.clock.now())
            pct: float | int = int(percentage) if float(percentage).is_integer() else float(percentage)
            rate = {
                "id": rid,
                "name": name,
                "label": name,
                "percentageRate": pct,
                "active": active,
                "createdAt": ts,
                "updatedAt": ts,
            }
            portal["tax_rates"][rid] = rate
            return dict(rate)
