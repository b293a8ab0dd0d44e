"""Logging plumbing: request/task context on every line, and no secret ever printed.

- ``ContextFilter`` adds ``request_id`` and ``tenant`` (from context variables set by the request
  middleware and by tasks) to every record.
- ``SecretMaskingFilter`` rewrites the message, its arguments and every ``extra`` field: values of
  sensitive keys (token, secret, key, password, authorization, signature…), Authorization header
  values, well-known credential shapes (Stripe keys, webhook secrets, HubSpot refresh tokens) and
  any value registered at runtime with ``register_secret`` (e.g. a tenant's Qonto key while a
  client uses it) become ``[masked]``.
- ``JsonFormatter`` prints one JSON object per line (production).
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

MASK = "[masked]"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
tenant_var: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="-")

_SENSITIVE_KEY = re.compile(
    r"(pass(word)?|secret|token|api[_-]?key|private[_-]?key|authorization|signature|cookie|session[_-]?id|"
    r"encryption[_-]?key|credential)",
    re.IGNORECASE,
)
_PATTERNS = [
    # "Authorization: Bearer abc", "authorization=login:secret", '"Authorization": "..."'
    re.compile(r"""(?i)(authorization["']?\s*[:=]\s*["']?)([^"',}\s]+(?:\s+[^"',}\s]+)?)"""),
    re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/=-]{8,})"),
    re.compile(r"()\b((?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9_]{6,})"),
    re.compile(r"()\b(whsec_[A-Za-z0-9_]{6,})"),
    re.compile(r"()\b((?:na|eu|ap)\d-[0-9a-f]{4}-[0-9a-f-]{20,})"),
    # key=value pairs in URLs or text: ?access_token=…, client_secret=…, refresh_token=…
    re.compile(r"(?i)\b((?:access_token|refresh_token|client_secret|secret_key|api_key|code)=)([^&\s\"']+)"),
]

# Values registered at runtime (Qonto keys, HubSpot access and refresh tokens…), most recently
# used last. Bounded: a worker that has served many tenants, or refreshed HubSpot tokens every
# 30 minutes for weeks, keeps the latest ``MAX_REGISTERED`` (older ones are no longer in use by
# this process; the patterns above still catch the known credential shapes).
MAX_REGISTERED = 2000
_registered: OrderedDict[str, None] = OrderedDict()
_registered_lock = threading.Lock()
_longest_first: list[str] = []  # the registered values, longest first (rebuilt on change)


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears in a log line from now on (the latest 2,000)."""
    global _longest_first
    if not value or len(value) < 6:
        return
    with _registered_lock:
        if value in _registered:
            _registered.move_to_end(value)
            return
        _registered[value] = None
        while len(_registered) > MAX_REGISTERED:
            _registered.popitem(last=False)
        _longest_first = sorted(_registered, key=len, reverse=True)


def registered_count() -> int:
    with _registered_lock:
        return len(_registered)


def mask_text(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    for secret in _longest_first:  # a snapshot: rebinding it under the lock is atomic
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_value(value: Any, key: str | None = None) -> Any:
    if key is not None and _SENSITIVE_KEY.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_value(v) for v in value)
    return value


_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class SecretMaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the log line
            message = str(record.msg)
        record.msg = mask_text(message)
        record.args = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                record.__dict__[key] = mask_value(value, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "tenant"):
            record.tenant = tenant_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                data[key] = value
        if record.exc_text:
            data["exception"] = record.exc_text
        elif record.exc_info:
            data["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(data, default=str, ensure_ascii=False)


def bind_tenant(tenant: Any) -> None:
    """Tag the rest of this request or task with the tenant (its HubSpot portal id)."""
    tenant_var.set(str(tenant))


@contextmanager
def log_context(*, tenant: Any = None, request_id: str | None = None) -> Iterator[None]:
    """Tag every log line inside the block (tasks use it with the tenant's portal id)."""
    tokens = []
    if tenant is not None:
        tokens.append((tenant_var, tenant_var.set(str(tenant))))
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)
