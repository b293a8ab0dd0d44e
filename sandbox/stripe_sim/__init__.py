"""Stripe simulator: the v1 endpoints the connector calls, a hosted Checkout, a Customer Portal
and signed webhooks, all in memory and offline.

Mounted under ``/stripe``: the product's ``StripeClient(api_key, base_addresses={"api":
"http://host:port/stripe"})`` calls ``/stripe/v1/...`` (the SDK concatenates the base address and
the path, so the path prefix is kept). Objects follow API version ``2026-10-28.endive``:
billing periods live on subscription items, invoices point to their subscription through
``parent.subscription_details``.

Browser pages (no API key): ``/stripe/checkout/<cs_id>`` (hosted Checkout),
``/stripe/portal/<bps_id>`` (Customer Portal) and ``/stripe/invoice/<in_id>`` (hosted invoice).

Webhooks are signed like Stripe's (``Stripe-Signature: t=…,v1=…``) and posted from one background
thread, in order, to ``config.effective_stripe_webhook_url``; every attempt is recorded. Test
switches (order, old timestamps, duplicates, pause) are in ``StripeSimSettings``.

Python control API (tests): ``complete_checkout``, ``decline_checkout``, ``expire_checkout``,
``fail_payment``, ``renew``, ``pay_invoice``, ``cancel``, ``uncancel``, ``switch_plan``,
``end_period``, ``set_status``, ``mark_unpaid``, ``send_event``, ``resend``, ``deliveries``,
``retry_failed_deliveries``, ``flush``, ``configure``. The same under ``/_sim/stripe/...``.

Layout: ``app`` assembles ``StripeSim`` from one mixin per resource over ``base`` (API key,
parameters, idempotency, lookups, list pages, ``expand``): ``prices`` (catalog), ``customers``,
``checkout``, ``subscriptions``, ``invoices``, ``lifecycle`` (what happens to a subscription over
time), ``portal`` (Customer Portal), ``webhooks`` (events, signed deliveries), ``hosted`` and
``pages`` (browser pages), ``control`` (``/_sim/stripe``); ``params`` parses Stripe's form
encoding, ``model`` holds the contract's constants, ``errors`` Stripe's error envelope.
"""

from __future__ import annotations

from sandbox.stripe_sim.app import StripeSim
from sandbox.stripe_sim.errors import StripeSimError
from sandbox.stripe_sim.model import API_VERSION, StripeSimSettings, add_interval
from sandbox.stripe_sim.params import parse_stripe_params
from sandbox.stripe_sim.webhooks import sign_payload

__all__ = [
    "API_VERSION",
    "StripeSim",
    "StripeSimError",
    "StripeSimSettings",
    "add_interval",
    "parse_stripe_params",
    "sign_payload",
]
