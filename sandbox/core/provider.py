"""``Provider``, the base class of each simulated provider (routing, the request log, faults,
latency), and ``Sandbox``, the simulators sharing one clock, id generator, log and fault table.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.core.clock import Clock, IdGen
from sandbox.core.config import SandboxConfig
from sandbox.core.faults import DropConnection, Faults
from sandbox.core.log import LoggedRequest, RequestLog
from sandbox.core.wire import iso, json_response, read_json


class Reply(Exception):
    """Raised by a handler (or a helper it calls) to answer ``response`` at once.

    Lets handlers check their input in straight lines (``t = self._object_type(...)``) instead of
    returning early after every check. Caught around every handler, before the faults that act
    on the handler's answer (``commit_then_fail``).
    """

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class Provider:
    """Base of one simulated provider, mounted under ``/<prefix>`` by the server.

    Subclasses set ``name``, ``prefix`` and ``rules`` (werkzeug ``Rule`` objects whose
    ``endpoint`` is the name of a handler method taking ``(request, **url_values)`` and
    returning a ``Response``). ``control_rules`` are mounted under ``/_sim/<name>`` and are
    neither logged, counted, delayed nor faulted. State is guarded by ``self.lock``.
    """

    name = "provider"
    prefix = "/provider"
    rules: list[Rule] = []
    control_rules: list[Rule] = []

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.config = sandbox.config
        self.clock = sandbox.clock
        self.ids = sandbox.ids
        self.lock = threading.RLock()
        # Unbound copies: a Rule binds to one Map, and a process may run several sandboxes.
        self.url_map = Map([r.empty() for r in self.rules], strict_slashes=False)
        self.control_map = Map([r.empty() for r in self.control_rules], strict_slashes=False)

    # --- hooks for subclasses -------------------------------------------------------------
    def reset(self) -> None:
        """Forget all state (then the server re-seeds the demo if configured)."""

    def seed_demo(self) -> None:
        """Load the demo data set."""

    def dump_state(self) -> dict[str, Any]:
        return {}

    def load_state(self, data: dict[str, Any]) -> None:
        """Restore what ``dump_state`` returned."""

    def portal_of(self, request: Request) -> str | None:
        """Which tenant a request is for (for the request log)."""
        return None

    def error_response(self, status: int, message: str) -> Response:
        """The provider's own error body for generic failures (404 route, 405, fault)."""
        return json_response({"message": message}, status)

    def before_request(self, request: Request, endpoint: str) -> Response | None:
        """Auth and rate limits. Return a response to stop the request."""
        return None

    def known_params(self, endpoint: str) -> Iterable[str] | None:
        """Query parameters a route understands (others are recorded as unknown), or None."""
        return None

    # --- dispatch ---------------------------------------------------------------------------
    def dispatch(self, request: Request, path: str) -> Response:
        adapter = self.url_map.bind("sandbox", path_info=path, url_scheme="http")
        route = ""
        status = 500
        body: Any = None
        try:
            try:
                rule, values = adapter.match(path, method=request.method, return_rule=True)
                route = rule.rule
                endpoint = str(rule.endpoint)
            except NotFound:
                return self._finish(request, path, "", self.error_response(404, "Not Found"))
            except MethodNotAllowed:
                return self._finish(request, path, "", self.error_response(405, "Method Not Allowed"))
            if self.sandbox.latency_ms.get(self.name, self.config.latency_ms):
                time.sleep(self.sandbox.latency_ms.get(self.name, self.config.latency_ms) / 1000)
            fault = self.sandbox.faults.take(self.name, request.method, path)
            if fault is not None and fault.kind == "latency":
                time.sleep(fault.delay_ms / 1000)
                fault = None
            if fault is not None and fault.kind == "reset":
                self._finish(request, path, route, Response(status=0))
                raise DropConnection()
            if fault is not None and fault.kind == "status":
                resp = (
                    json_response(fault.body, fault.status, fault.headers)
                    if fault.body is not None
                    else self.error_response(fault.status, "Injected fault")
                )
                for k, v in fault.headers.items():
                    resp.headers[k] = v
                return self._finish(request, path, route, resp)
            stop = self.before_request(request, endpoint)
            if stop is not None:
                return self._finish(request, path, route, stop)
            response = self.call(endpoint, request, values)
            if fault is not None and fault.kind == "commit_then_fail":
                if fault.status == 0:
                    self._finish(request, path, route, Response(status=0))
                    raise DropConnection()
                return self._finish(request, path, route, self.error_response(fault.status, "Injected fault"))
            return self._finish(request, path, route, response)
        except DropConnection:
            raise
        except HTTPException as exc:  # pragma: no cover - handlers return responses
            status = exc.code or 500
            body = str(exc)
            return self._finish(request, path, route, self.error_response(status, body))

    def _finish(self, request: Request, path: str, route: str, response: Response) -> Response:
        known = self.known_params_for_route(route)
        unknown = [k for k in request.args if known is not None and k not in known]
        try:
            body = read_json(request) if request.mimetype == "application/json" else None
        except ValueError:
            body = None
        if body is None and request.mimetype == "application/x-www-form-urlencoded":
            body = {k: v for k, v in request.form.items() if "secret" not in k and "token" not in k}
        self.sandbox.log.record(
            LoggedRequest(
                provider=self.name,
                method=request.method,
                path=path,
                route=route,
                query={k: request.args.getlist(k) for k in request.args},
                status=response.status_code,
                at=iso(self.clock.now()) or "",
                portal=self.portal_of(request),
                unknown_params=unknown,
                headers=dict(request.headers.items()),
                body=body,
            )
        )
        return response

    def known_params_for_route(self, route: str) -> Iterable[str] | None:
        for rule in self.url_map.iter_rules():
            if rule.rule == route:
                return self.known_params(str(rule.endpoint))
        return None

    def dispatch_control(self, request: Request, path: str) -> Response:
        adapter = self.control_map.bind("sandbox", path_info=path, url_scheme="http")
        try:
            rule, values = adapter.match(path, method=request.method, return_rule=True)
        except NotFound:
            return json_response({"error": f"no control route {path}"}, 404)
        except MethodNotAllowed:
            return json_response({"error": "method not allowed"}, 405)
        return self.call(str(rule.endpoint), request, values)

    def call(self, endpoint: str, request: Request, values: Mapping[str, Any]) -> Response:
        """Run one handler method; a ``Reply`` it raises is its answer."""
        try:
            response: Response = getattr(self, endpoint)(request, **values)
        except Reply as reply:
            return reply.response
        return response


class Sandbox:
    """The three simulators sharing one clock, id generator, request log and fault table."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.clock = Clock()
        self.ids = IdGen(self.config.seed)
        self.log = RequestLog()
        self.faults = Faults()
        self.latency_ms: dict[str, int] = {}
        self.providers: dict[str, Provider] = {}

    def register(self, provider: Provider) -> Provider:
        self.providers[provider.name] = provider
        return provider

    def reset(self) -> None:
        self.clock.reset()
        self.ids.reset()
        self.log.clear()
        self.faults.clear()
        self.latency_ms.clear()
        for p in self.providers.values():
            with p.lock:
                p.reset()
        if self.config.demo:
            self.seed_demo()

    def seed_demo(self) -> None:
        for p in self.providers.values():
            with p.lock:
                p.seed_demo()

    def dump_state(self) -> dict[str, Any]:
        out: dict[str, Any] = {"clock_offset_s": (self.clock.now() - datetime.now(UTC)).total_seconds()}
        for name, p in self.providers.items():
            with p.lock:
                out[name] = p.dump_state()
        return out

    def load_state(self, data: dict[str, Any]) -> None:
        for name, p in self.providers.items():
            if name in data:
                with p.lock:
                    p.load_state(data[name])
