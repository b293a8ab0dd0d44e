"""The one back-off rule for task retries (invoice creation, write-back, HubSpot setup)."""

from __future__ import annotations

import random


def backoff(
    retries: int, retry_after: float | None = None, *, first: float = 2.0, cap: float = 300.0
) -> float:
    """Seconds before try ``retries + 1``: exponential from ``first`` up to ``cap``, never shorter
    than what the provider asked for (``retry_after``), plus up to 25 % jitter so workers that
    failed together do not retry together. Keep ``cap`` well under the broker's visibility
    timeout (1 h), or Redis would deliver the task twice."""
    delay = min(cap, first * 2**retries)
    return max(retry_after or 0.0, delay) + random.uniform(0, delay / 4)  # noqa: S311 - jitter only
