"""HubSpot's request signatures v1, v2 and v3 (hubspot.md §4) and signed webhook batches.

Tests use these to exercise the product's verifiers; the web app signs card fetches with them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from typing import Any

import requests

from sandbox.core import SandboxConfig

_V3_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_V3_RE = re.compile("|".join(_V3_DECODED), re.IGNORECASE)


def _text(body: str | bytes) -> str:
    return body.decode("utf-8") if isinstance(body, bytes) else body


def sign_v1(secret: str, body: str | bytes) -> str:
    """v1: SHA-256 of ``secret + body`` as lowercase hex (webhooks)."""
    return hashlib.sha256(f"{secret}{_text(body)}".encode()).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: str | bytes) -> str:
    """v2: SHA-256 of ``secret + METHOD + uri + body`` as lowercase hex."""
    return hashlib.sha256(f"{secret}{method}{uri}{_text(body)}".encode()).hexdigest()


def sign_v3(secret: str, method: str, uri: str, body: str | bytes, timestamp: str | int) -> str:
    """v3: base64 HMAC-SHA256 (key = client secret) of ``METHOD + uri + body + timestamp``.

    Like HubSpot's SDK this signs ``uri`` as given; callers signing a URL the way HubSpot does
    pass it through ``v3_signing_uri`` first.
    """
    mac = hmac.new(secret.encode(), f"{method}{uri}{_text(body)}{timestamp}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def v3_signing_uri(url: str) -> str:
    """The URL HubSpot signs in v3: the escapes ``%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B``
    decoded (so ``userEmail=a%40b.fr`` is signed as ``userEmail=a@b.fr``)."""
    return _V3_RE.sub(lambda m: _V3_DECODED[m.group(0).upper()], url)


def v3_headers(
    secret: str, method: str, url: str, body: str | bytes, timestamp_ms: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    return {
        "X-HubSpot-Signature-v3": sign_v3(secret, method.upper(), v3_signing_uri(url), body, ts),
        "X-HubSpot-Request-Timestamp": ts,
    }


def post_webhook(
    url: str,
    events: list[dict[str, Any]],
    *,
    client_secret: str = SandboxConfig.hubspot_client_secret,
    timeout: float = 10.0,
    timestamp_ms: int | None = None,
) -> requests.Response:
    """POST a webhook batch (a JSON array) signed v1 (``X-HubSpot-Signature``) and v3, as HubSpot does."""
    body = json.dumps(events, separators=(",", ":"), ensure_ascii=False)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "HubSpot Webhooks (sandbox)",
        "X-HubSpot-Signature": sign_v1(client_secret, body),
        "X-HubSpot-Signature-Version": "v1",
        **v3_headers(client_secret, "POST", url, body, timestamp_ms),
    }
    return requests.post(
        url, data=body.encode("utf-8"), headers=headers, timeout=timeout, allow_redirects=False
    )
