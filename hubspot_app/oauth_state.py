"""The OAuth ``state`` round-trip, bound to the browser session.

``state_issue`` makes a random nonce, keeps only its SHA-256 (with its expiry and where to go
afterwards) in the session, and returns the nonce signed and timestamped with Django's signing
(salted), which HubSpot echoes back. ``state_consume`` accepts it once: the signature must be
ours, younger than ``STATE_TTL_S``, and its hash must be pending in *this* session — a state
from another browser, a replayed one, or one already used is refused. A few states may be
pending at once (two tabs started an install).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from django.core import signing
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

SESSION_KEY = "hubspot_oauth_states"
STATE_SALT = "hubspot_app.oauth-state"
STATE_TTL_S = 10 * 60
MAX_PENDING = 5


class StateError(Exception):
    """Why a returned state is refused: ``missing``, ``invalid``, ``expired`` or ``unknown``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def _pending(request: HttpRequest, now: float) -> dict[str, Any]:
    states = request.session.get(SESSION_KEY)
    if not isinstance(states, dict):
        return {}
    return {k: v for k, v in states.items() if isinstance(v, dict) and float(v.get("exp", 0)) > now}


def state_issue(request: HttpRequest, *, next_url: str = "") -> str:
    """A new state for this session; ``next_url`` must already be a safe local path (or "")."""
    now = time.time()
    nonce = secrets.token_urlsafe(32)
    states = _pending(request, now)
    # Keep the most recent few only, so an abandoned flow cannot grow the session.
    for key in sorted(states, key=lambda k: states[k]["exp"])[: max(0, len(states) - MAX_PENDING + 1)]:
        del states[key]
    states[_digest(nonce)] = {"exp": now + STATE_TTL_S, "next": next_url}
    request.session[SESSION_KEY] = states
    return signing.dumps(nonce, salt=STATE_SALT)


def state_consume(request: HttpRequest, state: str | None) -> str:
    """The ``next`` path of a valid pending state, which is used up; else ``StateError``."""
    if not state:
        raise StateError("missing")
    try:
        nonce = signing.loads(state, salt=STATE_SALT, max_age=STATE_TTL_S)
    except signing.SignatureExpired as exc:
        raise StateError("expired") from exc
    except signing.BadSignature as exc:
        raise StateError("invalid") from exc
    if not isinstance(nonce, str):
        raise StateError("invalid")
    now = time.time()
    states = request.session.get(SESSION_KEY)
    entry = states.pop(_digest(nonce), None) if isinstance(states, dict) else None
    if isinstance(states, dict):
        request.session[SESSION_KEY] = states  # saved: the state is now used up
    if not isinstance(entry, dict):
        raise StateError("unknown")  # already used, or started in another browser
    if float(entry.get("exp", 0)) <= now:
        raise StateError("expired")
    return str(entry.get("next") or "")


def safe_next(value: str | None) -> str:
    """``value`` if it is a path on this site (no scheme, no host, no ``//``), else ""."""
    if not value or len(value) > 500:
        return ""
    value = value.strip()
    if not value.startswith("/") or value.startswith(("//", "/\\")) or any(ord(c) < 32 for c in value):
        return ""
    if not url_has_allowed_host_and_scheme(value, allowed_hosts=set(), require_https=False):
        return ""
    return value
