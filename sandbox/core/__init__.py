"""Shared machinery of the local provider simulators.

Everything here is provider-agnostic: the switches (``config``), a controllable clock and seeded
id generation (``clock``), a request log with per-route counters (``log``), scriptable faults
(``faults``), sliding-window limiters (``limits``), JSON and ISO 8601 helpers (``wire``), and the
``Provider`` base class that each simulator (HubSpot, Qonto, Stripe) extends, with ``Sandbox``,
the container that shares all of it between them (``provider``).

The sandbox is a development and test tool. Production code never imports it.
"""

from __future__ import annotations

from sandbox.core.clock import Clock, IdGen
from sandbox.core.config import SandboxConfig
from sandbox.core.faults import DropConnection, FaultRule, Faults
from sandbox.core.limits import SlidingWindow, SlidingWindowLimiter
from sandbox.core.log import LoggedRequest, RequestLog
from sandbox.core.provider import Provider, Reply, Sandbox
from sandbox.core.wire import iso, json_response, parse_iso, read_json

__all__ = [
    "Clock",
    "DropConnection",
    "FaultRule",
    "Faults",
    "IdGen",
    "LoggedRequest",
    "Provider",
    "Reply",
    "RequestLog",
    "Sandbox",
    "SandboxConfig",
    "SlidingWindow",
    "SlidingWindowLimiter",
    "iso",
    "json_response",
    "parse_iso",
    "read_json",
]
