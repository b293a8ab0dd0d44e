"""What a deployment's ``PUBLIC_BASE_URL`` must look like (pure, stdlib only).

It is the URL HubSpot and Stripe call us on, so it is the base of three things that break if it is
wrong: the OAuth ``redirect_uri`` (must equal the app's ``redirectUrls`` exactly), the card's v3
signature (HubSpot signs ``https://<host>/<path>?<query>`` as *it* called it; we rebuild that
string from ``PUBLIC_BASE_URL`` + the request path, spec/hubspot.md §4), and the CSRF trusted
origin. HubSpot only calls public HTTPS URLs (``hubspot.fetch`` and OAuth redirects) [doc].

Used by ``config.settings.production`` (refuses to boot) and by the ``check --deploy`` check
``hubspot_app.E001`` (see ``hubspot_app/checks.py``).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"localhost", "0.0.0.0"})  # noqa: S104 (a name to refuse, not to bind)


def is_local_host(host: str) -> bool:
    """Loopback, unspecified, private or ``*.localhost``: HubSpot can never reach it."""
    host = host.strip("[]").lower()
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_unspecified or ip.is_private or ip.is_link_local


def public_base_url_errors(url: str) -> list[str]:
    """Why ``url`` cannot be a production ``PUBLIC_BASE_URL`` (empty list: it can)."""
    if not url:
        return ["PUBLIC_BASE_URL is empty: set the public https:// URL HubSpot and Stripe call."]
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        return [f"PUBLIC_BASE_URL {url!r} is not a URL."]
    errors = []
    if parts.scheme != "https":
        errors.append(
            f"PUBLIC_BASE_URL must start with https:// (got {parts.scheme or 'no scheme'}://): HubSpot "
            "signs the https URL it calls and only redirects OAuth to https."
        )
    if not host:
        errors.append(f"PUBLIC_BASE_URL {url!r} has no host name.")
    elif is_local_host(host):
        errors.append(f"PUBLIC_BASE_URL host {host!r} is local: HubSpot cannot call it.")
    if parts.username or parts.password:
        errors.append("PUBLIC_BASE_URL must not carry a user name or password.")
    if parts.query or parts.fragment:
        errors.append("PUBLIC_BASE_URL must not carry a query string or fragment.")
    return errors
