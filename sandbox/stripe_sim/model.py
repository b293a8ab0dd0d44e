"""Constants of the Stripe contract the simulator follows (API version ``2026-10-28.endive``), the
test switches, and value helpers (rendering stored objects, billing intervals).
"""

from __future__ import annotations

import calendar
import dataclasses
from datetime import UTC, datetime
from typing import Any

API_VERSION = "2026-10-28.endive"
FRENCH_VAT_RATE = 0.20
EU_COUNTRIES = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
DEFAULT_CHECKOUT_EVENT_ORDER = ("checkout.session.completed", "customer.subscription.created", "invoice.paid")
SUBSCRIPTION_STATUSES = frozenset(
    {"active", "canceled", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid"}
)
RETRY_DELAY_S = 3 * 86400  # next_payment_attempt after a failed attempt (Smart Retries, roughly)
PORTAL_CONFIGURATION_ID = "bpc_sandbox_default"
ID_PREFIXES = {
    "cus_": "customer",
    "cs_": "checkout.session",
    "sub_": "subscription",
    "in_": "invoice",
    "price_": "price",
    "prod_": "product",
    "bps_": "billing_portal.session",
    "evt_": "event",
}
OBJECT_NAMES = {
    "customer": "customer",
    "checkout.session": "checkout session",
    "subscription": "subscription",
    "invoice": "invoice",
    "price": "price",
    "product": "product",
    "billing_portal.session": "billing portal session",
    "event": "event",
}


@dataclasses.dataclass
class StripeSimSettings:
    """Test switches of the simulator (``configure(**kw)`` or ``POST /_sim/stripe/settings``)."""

    # Order of the events of one action: "default", "reverse", or a list of event types (listed
    # types first, in that order; the others keep their relative order after them).
    webhook_order: str | list[str] = "default"
    webhook_delay_s: int = 0  # sign with a timestamp this many seconds old (300 s tolerance)
    webhook_duplicate: bool = False  # deliver every event twice (same id, same payload)
    webhooks_paused: bool = False  # queue deliveries without sending them until unpaused
    webhook_url: str | None = None  # overrides config.effective_stripe_webhook_url
    webhook_timeout_s: float = 10.0
    # Portal: a switch to a shorter interval (annual → monthly) waits for the period end, like the
    # portal's ``schedule_at_period_end.conditions=[shortening_interval]``.
    portal_downgrade_at_period_end: bool = True


def render(value: Any) -> Any:
    """A deep copy without the simulator's private ``_keys``."""
    if isinstance(value, dict):
        return {k: render(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [render(v) for v in value]
    return value


def add_interval(ts: int, interval: str, count: int = 1, anchor_day: int | None = None) -> int:
    """``ts`` plus ``count`` days/weeks/months/years, months clamped like Stripe (Jan 31 → Feb 28)."""
    dt = datetime.fromtimestamp(ts, UTC)
    if interval == "day":
        return ts + 86400 * count
    if interval == "week":
        return ts + 7 * 86400 * count
    months = count * (12 if interval == "year" else 1)
    month_index = dt.month - 1 + months
    year, month = dt.year + month_index // 12, month_index % 12 + 1
    day = min(anchor_day or dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())
