"""The deal as HubSpot has it, read at most once per few seconds per deal (the card's cache).

A card is opened by many people, reloaded after every click and polled: reading HubSpot each time
costs 2–3 calls of ~100 ms each and would exhaust the portal's 110 calls / 10 s. So the snapshot
(deal, line items, primary company) is kept per (tenant, deal) in the shared cache (Redis) for
``CARD_SNAPSHOT_TTL_S`` seconds, and:

- only one process reads HubSpot for a deal at a time: concurrent misses wait (≤ 2 s) for the
  first reader's result instead of all calling HubSpot (single flight, a Redis ``add`` as lock);
- our own writes (an invoice requested, the deal's properties written back, the sync's batch
  write-back) and the card's *Actualiser* drop it, so what we changed is read fresh;
- the key carries the tenant's primary key: a tenant never reads another's snapshot.

The invoice click and the worker always read HubSpot fresh (``fresh=True``): amounts must not be
30 seconds old when an invoice is built.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache

from connector.invoicing.snapshot import CompanySnapshot, DealSnapshot, LineItemSnapshot
from connector.models import Tenant
from connector.ratelimit import hubspot_limiter
from hubspot_app.client import HubSpotClient
from hubspot_app.crm import read_deal_snapshot

logger = logging.getLogger(__name__)

LOCK_S = 10  # longest a reader may hold the single-flight lock (3 calls with timeouts and retries)
WAIT_S = 2.0  # how long a concurrent miss waits for the first reader before reading itself
POLL_S = 0.02
VERSION = 1  # bump when DealSnapshot's shape changes


def _key(tenant_id: int, deal_id: str) -> str:
    # The deal id comes from the card's URL: hashed, so no input ever shapes a cache key.
    digest = hashlib.sha256(deal_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"card:snapshot:v{VERSION}:{tenant_id}:{digest}"


def _to_cache(snapshot: DealSnapshot, read_at: float) -> dict[str, Any]:
    return {"read_at": read_at, "deal": dataclasses.asdict(snapshot)}


def _from_cache(data: dict[str, Any]) -> tuple[DealSnapshot, float]:
    deal = dict(data["deal"])
    company = deal.pop("company")
    lines = deal.pop("line_items")
    snapshot = DealSnapshot(
        **deal,
        company=CompanySnapshot(**company) if company else None,
        line_items=tuple(LineItemSnapshot(**line) for line in lines),
    )
    return snapshot, float(data["read_at"])


def _read_hubspot(tenant: Tenant, deal_id: str) -> DealSnapshot:
    client = HubSpotClient(tenant, before_request=hubspot_limiter(tenant.portal_id).acquire)
    return read_deal_snapshot(client, deal_id, siret_property=tenant.siret_property)


@dataclasses.dataclass(frozen=True)
class CachedSnapshot:
    snapshot: DealSnapshot
    read_at: float  # epoch seconds when HubSpot was read
    cached: bool  # True when served from the cache


def deal_snapshot_get(*, tenant: Tenant, deal_id: str, fresh: bool = False) -> CachedSnapshot:
    """The deal's snapshot, from the cache when it is recent, else read from HubSpot (≤ 3 calls)."""
    key = _key(tenant.pk, deal_id)
    if not fresh:
        hit = _get(key)
        if hit is not None:
            return CachedSnapshot(*hit, cached=True)
        lock = f"{key}:reading"
        if not cache.add(lock, 1, LOCK_S):
            # Someone is reading this deal now: take their result rather than call HubSpot again.
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                time.sleep(POLL_S)
                hit = _get(key)
                if hit is not None:
                    return CachedSnapshot(*hit, cached=True)
        try:
            return _store(tenant, deal_id, key)
        finally:
            cache.delete(lock)
    return _store(tenant, deal_id, key)


def _get(key: str) -> tuple[DealSnapshot, float] | None:
    data = cache.get(key)
    if not data:
        return None
    try:
        return _from_cache(data)
    except (KeyError, TypeError):  # an entry of an older shape: read again
        return None


def _store(tenant: Tenant, deal_id: str, key: str) -> CachedSnapshot:
    snapshot = _read_hubspot(tenant, deal_id)
    read_at = time.time()
    cache.set(key, _to_cache(snapshot, read_at), settings.CARD_SNAPSHOT_TTL_S)
    return CachedSnapshot(snapshot, read_at, cached=False)


def deal_snapshot_forget(*, tenant_id: int, deal_ids: Iterable[str]) -> None:
    """Drop the cached snapshots of these deals (after we wrote to them, or on *Actualiser*)."""
    keys = [_key(tenant_id, str(d)) for d in deal_ids]
    if keys:
        cache.delete_many(keys)
