"""``python -m sandbox --port 8010``: start the HubSpot, Qonto and Stripe simulators.

Prints the base URLs to export so the product talks to the sandbox instead of the real APIs.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from typing import Any

from werkzeug.serving import make_server

from sandbox.core import SandboxConfig
from sandbox.server import SandboxApp, base_urls, build_sandbox


def parse_args(argv: list[str] | None = None) -> SandboxConfig:
    defaults = SandboxConfig()
    p = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    p.add_argument("--host", default=defaults.host)
    p.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", defaults.port)))
    p.add_argument("--seed", type=int, default=defaults.seed, help="seed of the deterministic ids")
    p.add_argument(
        "--latency-ms",
        type=int,
        default=int(os.environ.get("SANDBOX_LATENCY_MS", defaults.latency_ms)),
        help="added to every provider request (also SANDBOX_LATENCY_MS)",
    )
    p.add_argument(
        "--state", dest="state_file", default=None, help="JSON file to load at start and dump at exit"
    )
    p.add_argument("--no-demo", dest="demo", action="store_false", help="start empty, without the demo data")
    p.add_argument(
        "--connector-url",
        dest="connector_base_url",
        default=os.environ.get("SANDBOX_CONNECTOR_URL", defaults.connector_base_url),
        help="where our product runs (card calls and Stripe webhooks go there)",
    )
    p.add_argument(
        "--hubspot-client-id", default=os.environ.get("HUBSPOT_CLIENT_ID", defaults.hubspot_client_id)
    )
    p.add_argument(
        "--hubspot-client-secret",
        default=os.environ.get("HUBSPOT_CLIENT_SECRET", defaults.hubspot_client_secret),
    )
    p.add_argument("--hubspot-app-id", default=os.environ.get("HUBSPOT_APP_ID", defaults.hubspot_app_id))
    p.add_argument(
        "--stripe-webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET", defaults.stripe_webhook_secret),
    )
    p.add_argument("--stripe-webhook-url", default=None)
    p.add_argument(
        "--qonto-default-status",
        choices=["unpaid", "draft"],
        default=defaults.qonto_default_status,
        help="status of an invoice created without 'status' (default: unpaid, the stricter)",
    )
    p.add_argument("--qonto-staging", dest="qonto_staging_mode", action="store_true")
    args = p.parse_args(argv)
    values: dict[str, Any] = vars(args)
    config = SandboxConfig(**values)
    config.hubspot_redirect_uris = (f"{config.connector_base_url}/hubspot/oauth/callback",)
    return config


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    config = parse_args(argv)
    sandbox = build_sandbox(config)
    server = make_server(config.host, config.port, SandboxApp(sandbox), threaded=True)
    config.port = server.socket.getsockname()[1]
    print(f"Sandbox running on {config.base_url} (control API: {config.base_url}/_sim)", flush=True)
    for key, value in base_urls(config).items():
        print(f"{key}={value}", flush=True)

    def _stop(*_: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if config.state_file:
            with open(config.state_file, "w", encoding="utf-8") as fh:
                json.dump(sandbox.dump_state(), fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
