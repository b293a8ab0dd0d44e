"""Qonto's webhook signature (spec §6), for tests of a webhook receiver."""

from __future__ import annotations

import hashlib
import hmac


def sign_webhook(secret: str, body: bytes | str, t: int) -> str:
    """``X-Qonto-Signature`` value: ``t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`` (spec §6)."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(secret.encode("utf-8"), f"{t}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"
