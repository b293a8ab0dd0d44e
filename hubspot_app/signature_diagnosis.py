"""Why HubSpot's signed card calls are refused when the secret is right: the URL differs.

HubSpot signs the URL *it* called (spec/hubspot.md §4). We verify against ``PUBLIC_BASE_URL`` +
the path Django sees. Behind a TLS proxy, another host name, or a proxy that strips a path prefix,
the two differ and every call is a 401, though nothing is forged. On a refused signature we try
the URLs the request could have been signed for, built from what reached us: scheme, ``Host`` /
``X-Forwarded-Host``, ``X-Forwarded-Prefix``, and the prefix of ``PUBLIC_BASE_URL``. **This only
diagnoses: the request stays refused.** We record the last refusal (scheme, host and path, never
the query, the signature or a secret) so that ``connector_doctor`` can say "HubSpot signed
https://x/prefix/api/… but we checked https://x/api/…".
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from hubspot_app.signature import sign_v3

LAST_REFUSAL_KEY = "hubspot:card-signature:last-refusal"
KEEP_SECONDS = 7 * 24 * 3600
MAX_CANDIDATES = 24  # a refused call costs at most this many HMACs


def _no_query(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _header(request: HttpRequest, meta_key: str) -> str:
    # The first value of a comma-separated proxy header, trimmed and bounded (never trusted).
    return str(request.META.get(meta_key, "")).split(",")[0].strip()[:255]


def candidate_urls(request: HttpRequest, public_base_url: str) -> list[str]:
    """URLs HubSpot may have signed for this request, the one we checked first."""
    full_path = request.get_full_path()
    base = urlsplit(public_base_url)
    base_prefix = base.path.rstrip("/")
    schemes = dict.fromkeys(
        s for s in (base.scheme, _header(request, "HTTP_X_FORWARDED_PROTO").lower(), "https", "http") if s
    )
    hosts = dict.fromkeys(
        h
        for h in (base.netloc, _header(request, "HTTP_X_FORWARDED_HOST"), _header(request, "HTTP_HOST"))
        if h
    )
    # (``get_full_path`` already holds Django's own SCRIPT_NAME.)
    prefixes = dict.fromkeys(
        p.rstrip("/") for p in (base_prefix, _header(request, "HTTP_X_FORWARDED_PREFIX"), "")
    )
    paths = [f"{prefix}{full_path}" for prefix in prefixes]
    if base_prefix and full_path.startswith(base_prefix + "/"):
        paths.append(full_path)  # the proxy kept the prefix, which PUBLIC_BASE_URL also adds
    checked = f"{public_base_url}{full_path}"
    urls = [checked]
    for scheme in schemes:
        for host in hosts:
            for path in paths:
                url = f"{scheme}://{host}{path}"
                if url not in urls:
                    urls.append(url)
    return urls[:MAX_CANDIDATES]


@dataclasses.dataclass(frozen=True)
class Refusal:
    at: str
    method: str
    checked: str  # scheme://host/path we verified against (no query)
    signed_as: str | None  # what HubSpot signed, when one candidate verifies (no query)
    arrived_as: str  # scheme://host/path as it reached Django (proxy headers applied, no query)
    forwarded: dict[str, str]
    resolved_at: str | None = None  # a signed call was accepted since

    @property
    def differences(self) -> list[str]:
        """Which parts differ between what HubSpot signed and what we checked."""
        if not self.signed_as:
            return []
        signed, checked = urlsplit(self.signed_as), urlsplit(self.checked)
        found = []
        if signed.scheme != checked.scheme:
            found.append("scheme")
        if signed.netloc != checked.netloc:
            found.append("host")
        if signed.path != checked.path:
            found.append("path prefix")
        return found


def record_refusal(
    *, request: HttpRequest, public_base_url: str, secret: str, body: bytes, timestamp: str, signature: str
) -> Refusal:
    """Find what the refused request was signed for (if anything we can build) and keep it."""
    urls = candidate_urls(request, public_base_url)
    method = request.method or "GET"
    signed_as = None
    for url in urls[1:]:
        if hmac.compare_digest(sign_v3(secret, method, url, body, timestamp).encode(), signature.encode()):
            signed_as = _no_query(url)
            break
    forwarded = {
        name: value
        for name, key in (
            ("X-Forwarded-Proto", "HTTP_X_FORWARDED_PROTO"),
            ("X-Forwarded-Host", "HTTP_X_FORWARDED_HOST"),
            ("X-Forwarded-Prefix", "HTTP_X_FORWARDED_PREFIX"),
            ("Host", "HTTP_HOST"),
        )
        if (value := _header(request, key))
    }
    host = forwarded.get("X-Forwarded-Host") or forwarded.get("Host") or "?"
    refusal = Refusal(
        at=timezone.now().isoformat(),
        method=method,
        checked=_no_query(urls[0]),
        signed_as=signed_as,
        arrived_as=f"{request.scheme}://{host}{request.path}",
        forwarded=forwarded,
    )
    cache.set(LAST_REFUSAL_KEY, dataclasses.asdict(refusal), KEEP_SECONDS)
    return refusal


def record_success() -> None:
    """A signed call was accepted: the last refusal, if any, no longer describes the deployment."""
    data = cache.get(LAST_REFUSAL_KEY)
    if data and not data.get("resolved_at"):
        cache.set(LAST_REFUSAL_KEY, {**data, "resolved_at": timezone.now().isoformat()}, KEEP_SECONDS)


def last_refusal() -> Refusal | None:
    data: Any = cache.get(LAST_REFUSAL_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return Refusal(**data)
    except TypeError:
        return None
