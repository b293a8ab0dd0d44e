"""HubSpot request signatures (v1, v2, v3) and the v3 verification every card call passes.

v3 = base64(HMAC-SHA256(client_secret, METHOD + URI + raw body + timestamp)), where URI is the
full public URL as HubSpot called it, with a fixed set of percent-escapes decoded, and the
timestamp (epoch ms) is at most five minutes old. See spec/hubspot.md §4.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

MAX_AGE_MS = 5 * 60 * 1000

# HubSpot decodes these escapes in the URI before signing (spec §4).
_DECODE = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip


def normalize_uri(uri: str) -> str:
    for escaped, char in _DECODE.items():
        uri = uri.replace(escaped, char).replace(escaped.lower(), char)
    return uri


def sign_v1(secret: str, body: str) -> str:
    return hashlib.sha256(f"{secret}{body}".encode()).hexdigest()


def sign_v2(secret: str, method: str, uri: str, body: str) -> str:
    return hashlib.sha256(f"{secret}{method}{uri}{body}".encode()).hexdigest()


def sign_v3(secret: str, method: str, uri: str, body: bytes | str, timestamp: str) -> str:
    raw = body.encode() if isinstance(body, str) else body
    message = method.upper().encode() + normalize_uri(uri).encode() + raw + timestamp.encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class SignatureError(Exception):
    """Why a request was refused (for logs; the caller answers one generic 401)."""


class SignatureMismatchError(SignatureError):
    """Fresh and well-formed, but not signed for this URL and body with our secret."""


def verify_v3(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now_ms: int | None = None,
) -> None:
    """Raise ``SignatureError`` unless the v3 signature is valid and fresh."""
    if not secret:
        raise SignatureError("no client secret configured")
    if not signature or not timestamp:
        raise SignatureError("missing signature or timestamp header")
    try:
        ts = int(timestamp)
    except ValueError as exc:
        raise SignatureError("timestamp is not an integer") from exc
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if now_ms - ts > MAX_AGE_MS:
        raise SignatureError("timestamp older than five minutes")
    if ts - now_ms > MAX_AGE_MS:
        raise SignatureError("timestamp in the future")
    expected = sign_v3(secret, method, uri, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise SignatureMismatchError("signature mismatch")
