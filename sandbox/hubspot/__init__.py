"""HubSpot simulator: the API under ``/hubspot`` and the web app under ``/hubspot-app``.

``HubSpotApi`` (``app``) reproduces what the connector uses from ``api.hubapi.com``
(``spec/hubspot.md`` §10): OAuth tokens (code exchange, refresh, introspect, revoke) in ``oauth``,
the install lifecycle in ``install``, CRM objects (deals, companies, line items, notes, contacts)
in ``objects`` / ``batch`` / ``search`` over ``records``, associations v4 (and the legacy v3
shape) in ``associations`` over ``graph``, the properties API in ``properties``, the tax-rate
library in ``tax_rates``, and the 110 requests / 10 s limiter per (app, portal) plus search's own
5 requests / s in ``limits``. ``routes`` serves the v3 and ``2026-03`` path families from the
same handlers.

``HubSpotWebApp`` (``web``) stands in for ``app.hubspot.com``: the OAuth consent page, an index of
the demo deals, and a deal page whose right sidebar renders our card from the card API through a
proxy (``card_fetch``) that signs each call the way ``hubspot.fetch`` does (v3 signature,
``appId`` and the card's ``portalId`` / ``userId`` / ``userEmail`` / ``dealId`` in the query string).

``signatures`` (``sign_v1`` / ``sign_v2`` / ``sign_v3``, ``v3_signing_uri``, ``post_webhook``) lets
tests exercise the product's verifiers. Everything is in memory, guarded by one lock shared by
both providers, and can be dumped to / loaded from JSON.
"""

from __future__ import annotations

from sandbox.hubspot.app import HubSpotApi
from sandbox.hubspot.scopes import APP_SCOPES, DECLARED_SCOPES
from sandbox.hubspot.signatures import post_webhook, sign_v1, sign_v2, sign_v3, v3_headers, v3_signing_uri
from sandbox.hubspot.web import HubSpotWebApp

__all__ = [
    "APP_SCOPES",
    "DECLARED_SCOPES",
    "HubSpotApi",
    "HubSpotWebApp",
    "post_webhook",
    "sign_v1",
    "sign_v2",
    "sign_v3",
    "v3_headers",
    "v3_signing_uri",
]
