"""JSON bodies and ISO 8601 timestamps as the simulators read and write them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response


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
