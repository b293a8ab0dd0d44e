"""Every switch of the simulators, in one dataclass (``python -m sandbox --help`` sets most of them)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class SandboxConfig:
    """Every switch of the simulators. Defaults are the *stricter* choice where specs disagree."""

    host: str = "127.0.0.1"
    port: int = 8010
    seed: int = 42
    latency_ms: int = 0  # added to every provider request (not to /_sim control calls)
    state_file: str | None = None  # load at start, dump at exit and on POST /_sim/dump
    demo: bool = True  # seed the demo portal, organisation and prices
    # Where our product runs (the HubSpot deal page signs card calls to it; Stripe posts to it).
    connector_base_url: str = "http://127.0.0.1:8000"
    # HubSpot app credentials shared with the product (HUBSPOT_CLIENT_ID / _SECRET / _APP_ID).
    hubspot_client_id: str = "sandbox-client-id"
    hubspot_client_secret: str = "sandbox-client-secret-0000-000000000000"
    hubspot_app_id: str = "424242"
    hubspot_redirect_uris: tuple[str, ...] = ("http://127.0.0.1:8000/hubspot/oauth/callback",)
    hubspot_rate_limit: int = 110  # per (app, portal) per 10 s
    hubspot_search_rate_limit: int = 5  # per portal per second
    # Qonto switches.
    qonto_default_status: str = "unpaid"  # status of an invoice created without "status"
    qonto_staging_mode: bool = False  # require X-Qonto-Staging-Token
    qonto_staging_token: str = "sandbox-staging-token"
    qonto_staging_failure: str = "redirect"  # "redirect" (302 to OneLogin) or "html" (200 text/html)
    qonto_french_vat_only: bool = True  # vat_rate must be one of the French rates
    qonto_omit_next_page: bool = False  # omit meta.next_page on the last page
    qonto_non_normalised_amounts: bool = False  # emit "1200.0"-style values
    qonto_errors_as_object: bool = False  # "errors" as an object instead of a list
    qonto_rate_limit_10s: int = 1000  # per client IP
    qonto_rate_limit_10min: int = 10000  # per client IP
    qonto_attachment_delay_s: float = 10.0  # attachment_id appears this long after finalize
    # Stripe switches.
    stripe_secret_key: str = "sk_test_sandbox"
    stripe_webhook_secret: str = "whsec_sandbox_secret"
    stripe_webhook_url: str | None = None  # default: connector_base_url + /billing/stripe/webhook

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def effective_stripe_webhook_url(self) -> str:
        return self.stripe_webhook_url or f"{self.connector_base_url}/billing/stripe/webhook"
