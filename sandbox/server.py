"""The sandbox WSGI application: each simulator under its prefix, and the ``/_sim`` control API.

Layout (with the default ``--port 8010``):

- ``/hubspot``      HubSpot API          → ``HUBSPOT_API_BASE=http://127.0.0.1:8010/hubspot``
- ``/hubspot-app``  HubSpot web app      → ``HUBSPOT_AUTH_BASE=http://127.0.0.1:8010/hubspot-app``
                    (OAuth consent page, demo deal page with our card)
- ``/qonto``        Qonto Business API   → ``QONTO_API_BASE=http://127.0.0.1:8010/qonto``
- ``/stripe``       Stripe API + hosted checkout → ``STRIPE_API_BASE=http://127.0.0.1:8010/stripe``
- ``/_sim``         control API (no auth; never part of a real provider)
"""

from __future__ import annotations

import dataclasses
import json
import socket
import struct
from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.core import (
    DropConnection,
    FaultRule,
    Provider,
    Sandbox,
    SandboxConfig,
    json_response,
    parse_iso,
    read_json,
)


def build_sandbox(config: SandboxConfig | None = None) -> Sandbox:
    """A sandbox with the three simulators registered and, if configured, the demo seeded."""
    from sandbox.hubspot import HubSpotApi, HubSpotWebApp
    from sandbox.qonto import QontoSim
    from sandbox.stripe_sim import StripeSim

    sandbox = Sandbox(config)
    hubspot = sandbox.register(HubSpotApi(sandbox))
    sandbox.register(HubSpotWebApp(sandbox, api=hubspot))  # type: ignore[arg-type]
    sandbox.register(QontoSim(sandbox))
    sandbox.register(StripeSim(sandbox))
    if sandbox.config.state_file:
        try:
            with open(sandbox.config.state_file, encoding="utf-8") as fh:
                sandbox.load_state(json.load(fh))
            return sandbox
        except FileNotFoundError:
            pass
    if sandbox.config.demo:
        sandbox.seed_demo()
    return sandbox


def base_urls(config: SandboxConfig) -> dict[str, str]:
    base = config.base_url
    return {
        "HUBSPOT_API_BASE": f"{base}/hubspot",
        "HUBSPOT_AUTH_BASE": f"{base}/hubspot-app",
        "QONTO_API_BASE": f"{base}/qonto",
        "QONTO_APP_BASE": f"{base}/qonto/app",
        "STRIPE_API_BASE": f"{base}/stripe",
    }


class SandboxApp:
    """WSGI entry point."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        path = request.path
        try:
            response = self.route(request, path)
        except DropConnection:
            _drop(environ)
            return []
        return response(environ, start_response)

    def route(self, request: Request, path: str) -> Response:
        if path == "/_sim" or path.startswith("/_sim/"):
            return self.control(request, path[len("/_sim") :] or "/")
        for provider in sorted(self.sandbox.providers.values(), key=lambda p: -len(p.prefix)):
            if path == provider.prefix or path.startswith(provider.prefix + "/"):
                return provider.dispatch(request, path[len(provider.prefix) :] or "/")
        if path == "/":
            return json_response({"sandbox": True, "base_urls": base_urls(self.sandbox.config)})
        return json_response({"error": f"nothing is served at {path}"}, 404)

    # --- control API -------------------------------------------------------------------------
    def control(self, request: Request, path: str) -> Response:
        sb = self.sandbox
        parts = [p for p in path.split("/") if p]
        if parts and parts[0] in sb.providers:
            return sb.providers[parts[0]].dispatch_control(request, "/" + "/".join(parts[1:]))
        try:
            body = read_json(request) or {}
        except ValueError:
            return json_response({"error": "body is not JSON"}, 400)
        key = (request.method, "/" + "/".join(parts))
        if key == ("GET", "/"):
            return json_response(
                {
                    "base_urls": base_urls(sb.config),
                    "config": dataclasses.asdict(sb.config),
                    "providers": sorted(sb.providers),
                    "counts": sb.log.counts(),
                    "clock": sb.clock.now().isoformat(),
                }
            )
        if key == ("POST", "/reset"):
            sb.reset()
            return json_response({"reset": True})
        if key == ("GET", "/requests"):
            provider = request.args.get("provider")
            entries = [dataclasses.asdict(e) for e in sb.log.entries(provider)]
            return json_response({"requests": entries, "counts": sb.log.counts()})
        if key == ("DELETE", "/requests"):
            sb.log.clear()
            return json_response({"cleared": True})
        if key == ("GET", "/faults"):
            return json_response({"faults": sb.faults.list()})
        if key == ("POST", "/faults"):
            try:
                rule = sb.faults.add(FaultRule(**body))
            except TypeError as exc:
                return json_response({"error": str(exc)}, 400)
            return json_response({"fault": dataclasses.asdict(rule)}, 201)
        if key == ("DELETE", "/faults"):
            sb.faults.clear(request.args.get("provider"))
            return json_response({"cleared": True})
        if key == ("POST", "/latency"):
            # {"ms": 100} for every provider, or {"provider": "qonto", "ms": 100}
            ms = int(body.get("ms", 0))
            if body.get("provider"):
                sb.latency_ms[body["provider"]] = ms
            else:
                sb.config.latency_ms = ms
                sb.latency_ms.clear()
            return json_response({"latency_ms": sb.config.latency_ms, "per_provider": sb.latency_ms})
        if key == ("GET", "/clock"):
            return json_response({"now": sb.clock.now().isoformat()})
        if key == ("POST", "/clock"):
            if "advance_s" in body:
                sb.clock.advance(float(body["advance_s"]))
            if "freeze_at" in body:
                sb.clock.freeze(parse_iso(body["freeze_at"]) if body["freeze_at"] else None)
            if body.get("unfreeze"):
                sb.clock.unfreeze()
            return json_response({"now": sb.clock.now().isoformat()})
        if key == ("GET", "/state"):
            return json_response(sb.dump_state())
        if key == ("POST", "/dump"):
            target = body.get("path") or sb.config.state_file
            if not target:
                return json_response({"error": "no path given and no --state file configured"}, 400)
            with open(target, "w", encoding="utf-8") as fh:
                json.dump(sb.dump_state(), fh, indent=1, default=str)
            return json_response({"dumped": target})
        return json_response({"error": f"no control route {request.method} {path}"}, 404)


def _drop(environ: dict[str, Any]) -> None:
    """Close the client socket abruptly (RST) so the client sees a connection reset."""
    sock: socket.socket | None = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # close() alone keeps the fd open while the handler's rfile/wfile still reference it, and
        # werkzeug then answers 500 on it; shutdown() really ends the connection.
        sock.shutdown(socket.SHUT_RDWR)
        sock.close()
    except OSError:
        pass


__all__ = ["Provider", "SandboxApp", "base_urls", "build_sandbox"]
