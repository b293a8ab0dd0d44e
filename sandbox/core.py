"""Shared machinery of the local provider simulators.

Everything here is provider-agnostic: a controllable clock, seeded id generation, a request log
with per-route counters, scriptable faults and latency, a sliding-window rate limiter, JSON
helpers and the ``Provider`` base class that each simulator (HubSpot, Qonto, Stripe) extends.

The sandbox is a development and test tool. Production code never imports it.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import random
import re
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response


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


class Clock:
    """Wall clock plus a controllable offset, or frozen at a given instant.

    ``tick()`` returns a timestamp strictly greater than the previous ``tick()`` (by at least
    one microsecond), so ``updated_at`` always moves on every change even within one instant.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta()
        self._frozen: datetime | None = None
        self._last_tick: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def tick(self) -> datetime:
        with self._lock:
            now = self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset
            if self._last_tick is not None and now <= self._last_tick:
                now = self._last_tick + timedelta(microseconds=1)
            self._last_tick = now
            return now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    def freeze(self, at: datetime | None = None) -> None:
        with self._lock:
            self._frozen = (at or datetime.now(UTC) + self._offset).astimezone(UTC)

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
            self._frozen = None

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta()
            self._frozen = None
            self._last_tick = None

    def epoch(self) -> int:
        return int(self.now().timestamp())


class IdGen:
    """Deterministic ids from a seed: the same seed and the same calls give the same ids."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(seed)
        self._counters: dict[str, int] = defaultdict(int)

    def reset(self) -> None:
        with self._lock:
            self._rng = random.Random(self._seed)
            self._counters.clear()

    def uuid(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self, prefix: str = "", length: int = 24) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        with self._lock:
            return prefix + "".join(self._rng.choice(alphabet) for _ in range(length))

    def hex(self, length: int = 32) -> str:
        with self._lock:
            return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def sequence(self, name: str, start: int = 1) -> int:
        """1, 2, 3… per name (plus ``start - 1``)."""
        with self._lock:
            self._counters[name] += 1
            return start - 1 + self._counters[name]


@dataclasses.dataclass
class FaultRule:
    """A scripted fault for requests matching ``provider`` / ``method`` / ``path`` (a regex).

    kind:
      - ``status``: answer ``status`` with ``body`` (JSON) and ``headers`` instead of the handler;
      - ``latency``: sleep ``delay_ms`` then run the handler normally;
      - ``commit_then_fail``: run the handler (its effects are kept) then answer ``status``
        (default 500) or, with ``status`` = 0, drop the connection without an answer;
      - ``reset``: drop the connection before running the handler.
    ``count`` is how many matching requests it hits (``None``: until cleared).
    """

    provider: str
    kind: str = "status"
    status: int = 500
    path: str = ".*"
    method: str | None = None
    count: int | None = 1
    delay_ms: int = 0
    body: Any = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    id: int = 0

    def matches(self, provider: str, method: str, path: str) -> bool:
        if self.provider != provider:
            return False
        if self.method and self.method.upper() != method.upper():
            return False
        return re.search(self.path, path) is not None


class DropConnection(Exception):
    """Raised to make the server close the socket without answering (a connection reset)."""


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def take(self, provider: str, method: str, path: str) -> FaultRule | None:
        """The first matching rule, consuming one of its ``count``."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(provider, method, path):
                    if rule.count is not None:
                        rule.count -= 1
                        if rule.count <= 0:
                            self._rules.remove(rule)
                    return copy.copy(rule)
            return None

    def clear(self, provider: str | None = None) -> None:
        with self._lock:
            self._rules = [r for r in self._rules if provider is not None and r.provider != provider]

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dataclasses.asdict(r) for r in self._rules]


@dataclasses.dataclass
class LoggedRequest:
    provider: str
    method: str
    path: str
    route: str  # the matched rule, e.g. "/v2/client_invoices/<id>", or "" when none matched
    query: dict[str, list[str]]
    status: int
    at: str
    portal: str | None = None  # HubSpot portal / Qonto organisation / Stripe account the call was for
    unknown_params: list[str] = dataclasses.field(default_factory=list)
    headers: dict[str, str] = dataclasses.field(default_factory=dict)  # secrets redacted
    body: Any = None


class RequestLog:
    """Every provider request, and counters per (provider, method, route)."""

    _REDACT = ("authorization", "x-qonto-staging-token", "stripe-signature", "x-hubspot-signature-v3")

    def __init__(self, max_entries: int = 50_000) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=max_entries)
        self._counts: dict[tuple[str, str, str], int] = defaultdict(int)

    def record(self, entry: LoggedRequest) -> None:
        entry.headers = {
            k: ("<redacted>" if k.lower() in self._REDACT else v) for k, v in entry.headers.items()
        }
        with self._lock:
            self._entries.append(entry)
            self._counts[(entry.provider, entry.method, entry.route)] += 1

    def entries(self, provider: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [e for e in self._entries if provider is None or e.provider == provider]

    def count(self, provider: str | None = None, method: str | None = None, route: str | None = None) -> int:
        with self._lock:
            return sum(
                n
                for (p, m, r), n in self._counts.items()
                if (provider is None or p == provider)
                and (method is None or m == method.upper())
                and (route is None or r == route)
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {f"{p} {m} {r}": n for (p, m, r), n in sorted(self._counts.items())}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._counts.clear()


class SlidingWindow:
    """How many events per key in the last ``window_s`` seconds (exact sliding window)."""

    def __init__(self, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _live(self, key: str, now: float) -> deque[float]:
        """The key's events still in the window (the caller holds the lock)."""
        q = self._hits[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def add(self, key: str) -> None:
        with self._lock:
            self._hits[key].append(self._clock())

    def count(self, key: str) -> int:
        now = self._clock()
        with self._lock:
            return len(self._live(key, now))

    def reset(self) -> None:
        with self._lock:
            self._hits.clear()


class SlidingWindowLimiter(SlidingWindow):
    """At most ``limit`` hits per ``window_s`` per key (exact sliding window)."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(window_s, clock)
        self.limit = limit

    def hit(self, key: str) -> tuple[bool, int, float]:
        """Record a hit. Returns (allowed, remaining, seconds until a slot frees)."""
        now = self._clock()
        with self._lock:
            q = self._live(key, now)
            if len(q) >= self.limit:
                return False, 0, max(0.0, q[0] + self.window_s - now)
            q.append(now)
            return True, self.limit - len(q), 0.0


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data, ensure_ascii=False),
        status=status,
        headers=headers or {},
        content_type="application/json; charset=utf-8",
    )


def read_json(request: Request) -> Any:
    """The request body as JSON, or raises ``ValueError``."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    return json.loads(raw.decode("utf-8"))


def iso(dt: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, microseconds kept only when non-zero."""
    if dt is None:
        return None
    dt = dt.astimezone(UTC)
    text = dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    """Parse ISO 8601 (``Z`` or offset; a naive value is taken as UTC). Raises ``ValueError``."""
    dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "+"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


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
            response: Response = getattr(self, endpoint)(request, **values)
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
        return getattr(self, str(rule.endpoint))(request, **values)


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
