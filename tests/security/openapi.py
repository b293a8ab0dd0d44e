"""The card API's OpenAPI schema (drf-spectacular) as Hypothesis strategies and response validators.

Schemathesis is not part of our stack; this is the small subset it would give us: every operation of
the schema, its path and query parameters and its JSON body drawn from the schema (plus hostile
variants: wrong types, unknown fields, huge strings, control characters, non-JSON bodies), each
request *signed* the way HubSpot signs it so the handlers are reached, and every answer checked
against the schema's response for its status.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import jsonschema
from django.conf import settings
from hypothesis import strategies as st

from hubspot_app.signature import sign_v3

# Django's ``escape_uri_path`` leaves these unescaped: quoting a path segment the same way makes
# ``request.get_full_path()`` give back exactly the URL we signed.
PATH_SAFE = ":@&+$,-_.!~*'()"


@cache
def card_api_schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(json.dumps(schema, default=str))


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str  # "/api/hubspot/v1/deals/{deal_id}/card"
    spec: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.spec["operationId"])

    @property
    def path_params(self) -> list[str]:
        return [p["name"] for p in self.spec.get("parameters", []) if p["in"] == "path"]

    @property
    def query_params(self) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p["in"] == "query"]

    @property
    def body_schema(self) -> dict[str, Any] | None:
        body = self.spec.get("requestBody")
        return body["content"]["application/json"]["schema"] if body else None


def card_api_operations() -> list[Operation]:
    ops = []
    for path, methods in card_api_schema()["paths"].items():
        if not path.startswith("/api/hubspot/v1/"):
            continue
        for method, spec in methods.items():
            ops.append(Operation(method=method.upper(), path=path, spec=spec))
    return ops


# --- schema → strategies ---------------------------------------------------------------------------
def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = card_api_schema()["components"]["schemas"][name]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        merged = {**_resolve(schema["allOf"][0]), **{k: v for k, v in schema.items() if k != "allOf"}}
        return merged
    return schema


HOSTILE_TEXT = st.sampled_from(
    [
        "",
        " ",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "\x00",
        "\u202e\u0000\ud7ff",
        "é" * 300,
        "9" * 400,
        "NaN",
        "-Infinity",
        "1e999",
        "../../etc/passwd",
        "{{7*7}}",
        "%s%n",
    ]
)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid for ``schema`` (the subset drf-spectacular emits), mixed with hostile ones."""
    schema = _resolve(schema)
    nullable = schema.get("nullable", False)
    if "enum" in schema:
        strategy: st.SearchStrategy[Any] = st.sampled_from(schema["enum"])
    elif schema.get("type") == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        strategy = st.fixed_dictionaries(
            {k: from_schema(v) for k, v in props.items() if k in required},
            optional={
                **{k: from_schema(v) for k, v in props.items() if k not in required},
                "unexpected_field": ANY_JSON,
            },
        )
    elif schema.get("type") == "integer":
        strategy = st.integers(min_value=-(2**63), max_value=2**63)
    elif schema.get("type") == "number":
        strategy = st.floats(allow_nan=False, allow_infinity=False)
    elif schema.get("type") == "boolean":
        strategy = st.booleans()
    elif schema.get("type") == "array":
        strategy = st.lists(from_schema(schema.get("items", {})), max_size=3)
    else:  # string
        max_len = schema.get("maxLength", 100)
        strategy = (
            st.text(max_size=max_len)
            | st.from_regex(r"[A-Za-z0-9_-]{8,80}", fullmatch=True)
            | st.decimals(min_value=-200, max_value=200, places=2).map(str)
            | HOSTILE_TEXT
        )
    return (strategy | st.none()) if nullable else strategy


def body_strategy(schema: dict[str, Any] | None) -> st.SearchStrategy[bytes]:
    """Mostly schema-shaped JSON; sometimes any JSON, broken JSON, or bytes that are not UTF-8."""
    if schema is None:
        return st.just(b"") | ANY_JSON.map(lambda v: json.dumps(v).encode())
    return st.one_of(
        from_schema(schema).map(lambda v: json.dumps(v).encode()),
        from_schema(schema).map(lambda v: json.dumps(v).encode()),
        ANY_JSON.map(lambda v: json.dumps(v).encode()),
        st.sampled_from([b"{", b"", b"null", b'{"kind": "full", "kind": "deposit"}', b"\xff\xfe{}", b"[]"]),
        st.binary(max_size=64),
    )


# --- signed requests -------------------------------------------------------------------------------
def signed_request(
    method: str,
    path: str,
    query: dict[str, Any],
    body: bytes,
    *,
    secret: str | None = None,
    timestamp_ms: int | None = None,
) -> dict[str, Any]:
    """Django test-client kwargs (``path`` included) for a call signed as HubSpot signs it (v3)."""
    full_path = f"{path}?{urlencode(query)}" if query else path
    ts = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
    signature = sign_v3(
        secret or settings.HUBSPOT_CLIENT_SECRET, method, settings.PUBLIC_BASE_URL + full_path, body, ts
    )
    return {
        "path": full_path,
        "data": body,
        "content_type": "application/json",
        "HTTP_X_HUBSPOT_SIGNATURE_V3": signature,
        "HTTP_X_HUBSPOT_REQUEST_TIMESTAMP": ts,
    }


def quote_segment(value: str) -> str:
    return quote(value, safe=PATH_SAFE)


def send(client: Any, method: str, kwargs: dict[str, Any]) -> Any:
    kwargs = dict(kwargs)
    path = kwargs.pop("path")
    if method.upper() in ("GET", "HEAD"):
        assert not kwargs.pop("data", b""), "a GET carries no body"
        kwargs.pop("content_type", None)
    return getattr(client, method.lower())(path, **kwargs)


# --- responses against the schema ------------------------------------------------------------------
def _openapi_to_jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable`` → JSON Schema ``null``; refs point into ``$defs``."""
    if isinstance(node, list):
        return [_openapi_to_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if "$ref" in out:
        out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def response_schema(op: Operation, status: int) -> dict[str, Any] | None:
    response = op.spec["responses"].get(str(status))
    if response is None or "content" not in response:
        return None
    schema = response["content"]["application/json"]["schema"]
    defs = _openapi_to_jsonschema(copy.deepcopy(card_api_schema()["components"]["schemas"]))
    return {**_openapi_to_jsonschema(schema), "$defs": defs}


ERROR_SHAPE = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z_]+$"},
                "message": {"type": "string", "minLength": 1},
                "problems": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["code", "field", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "field": {"type": "string"},
                            "message": {"type": "string", "minLength": 1},
                        },
                    },
                },
            },
        }
    },
}
LEAK_MARKERS = ("Traceback", 'File "', "psycopg", "SELECT ", "django.", "/work/", "127.0.0.1", "localhost")


def check_contract(op: Operation, response: Any) -> None:
    """No 500; JSON always; non-2xx in the error shape; documented statuses match their schema.

    ``503 unavailable`` is in the contract: HubSpot's rate limit (the simulator enforces it too)
    reached while the fuzzer hammers the same portal."""
    assert response.status_code < 500 or (
        response.status_code == 503 and response.json()["error"]["code"] == "unavailable"
    ), (op.id, response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), (op.id, response["Content-Type"])
    text = response.content.decode()
    body = json.loads(text)
    if response.status_code >= 300:
        jsonschema.validate(body, ERROR_SHAPE)
        for marker in LEAK_MARKERS:
            assert marker not in text, (op.id, marker, text[:500])
    schema = response_schema(op, response.status_code)
    if schema is not None:
        jsonschema.validate(body, schema)
