"""How the benchmarks report: one ``Row`` per scenario (result, target, the floor the calls allow,
our calls against a naive client's), the floors, and the table ``make bench`` prints."""

from __future__ import annotations

import dataclasses
import math
from typing import Any


@dataclasses.dataclass
class Sizes:
    tenants: int
    invoices: int
    big: int
    changed_fraction: float = 0.05


@dataclasses.dataclass
class Row:
    scenario: str
    result: float
    unit: str
    target: float | None
    floor: float
    calls: int
    naive_calls: int
    detail: dict[str, Any]

    @property
    def ok(self) -> bool | None:
        return None if self.target is None else self.result <= self.target

    @property
    def floor_ratio(self) -> float | None:
        return self.result / self.floor if self.floor else None

    @property
    def naive_ratio(self) -> float | None:
        return self.naive_calls / self.calls if self.calls else None

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "result": round(self.result, 2),
            "unit": self.unit,
            "target": self.target,
            "met": self.ok,
            "floor": round(self.floor, 2),
            "ratio_to_floor": None if self.floor_ratio is None else round(self.floor_ratio, 2),
            "calls": self.calls,
            "naive_calls": self.naive_calls,
            "naive_over_ours": None if self.naive_ratio is None else round(self.naive_ratio, 1),
            **self.detail,
        }


def latency_floor(per_tenant_calls: list[int], latency_s: float, workers: int) -> float:
    """The least time the calls take when each tenant's calls run one after the other, tenants in
    parallel on ``workers`` processes: max(longest tenant, total call time / workers)."""
    if not per_tenant_calls:
        return 0.0
    return max(max(per_tenant_calls) * latency_s, sum(per_tenant_calls) * latency_s / workers)


def rate_floor(calls: int, per_10s: int) -> float:
    """A sliding window of ``per_10s`` per 10 s: the first window is free, each further one costs 10 s."""
    return max(0, math.ceil(calls / per_10s) - 1) * 10.0


def print_table(rows: list[Row]) -> None:
    header = ("scenario", "result", "target", "met", "floor", "×floor", "calls", "naive", "naive/ours")
    table = [header]
    for r in rows:
        table.append(
            (
                r.scenario,
                f"{r.result:.1f} {r.unit}",
                "—" if r.target is None else f"≤ {r.target:.0f} {r.unit}",
                "—" if r.ok is None else ("yes" if r.ok else "NO (missed)"),
                f"{r.floor:.1f} {r.unit}",
                "—" if r.floor_ratio is None else f"{r.floor_ratio:.1f}",
                str(r.calls),
                str(r.naive_calls),
                "—" if r.naive_ratio is None else f"{r.naive_ratio:.0f}×",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print()
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for r in rows:
        if "hubspot_calls_max_10s" in r.detail:
            from bench.card import print_card_budget

            print_card_budget(r)
        elif "budgets_met" in r.detail:
            d = r.detail
            print(
                f"{r.scenario} budgets: {d['qonto_log_calls']} Qonto calls for {d['qonto_pages_needed']} "
                f"pages needed (max {d['qonto_calls_max_per_tenant']} per tenant); "
                f"{d['hubspot_log_calls']} HubSpot calls for {d['tenants_with_changes']} tenants with "
                f"changes, {d['hubspot_calls_for_tenants_without_changes']} for the others "
                f"→ {'met' if d['budgets_met'] else 'MISSED'}"
            )
    print(
        "floor: time the calls need at the injected latency (each tenant's calls in sequence, tenants "
        "in parallel on the workers) and under the rate limits; for memory, the worker's RSS before "
        "the run. naive: one Qonto GET and one HubSpot PATCH per invoice."
    )
    print()
