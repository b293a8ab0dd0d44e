"""Qonto's error bodies: one ``errors`` entry, and the exception every refusal raises."""

from __future__ import annotations

from typing import Any


def api_error(
    code: str, detail: str, *, pointer: str | None = None, parameter: str | None = None
) -> dict[str, Any]:
    """One entry of Qonto's ``errors`` list."""
    err: dict[str, Any] = {"code": code, "detail": detail}
    source: dict[str, str] = {}
    if pointer is not None:
        source["pointer"] = pointer
    if parameter is not None:
        source["parameter"] = parameter
    if source:
        err["source"] = source
    return err


class QontoSimError(Exception):
    """A refused request (API) or a refused control action (Python API): status + Qonto errors."""

    def __init__(self, status: int, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e['code']}: {e['detail']}" for e in errors))
        self.status = status
        self.errors = errors

    @classmethod
    def one(
        cls,
        status: int,
        code: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
    ) -> QontoSimError:
        return cls(status, [api_error(code, detail, pointer=pointer, parameter=parameter)])


def attr_pointer(*parts: str | int) -> str:
    return "/data/attributes/" + "/".join(str(p) for p in parts)


def add_error(errors: list[dict[str, Any]], code: str, detail: str, *where: str | int) -> None:
    """Collect one error about the body attribute at ``/data/attributes/<where…>``."""
    errors.append(api_error(code, detail, pointer=attr_pointer(*where)))


def json_object(body: Any) -> dict[str, Any]:
    """``body`` when it is a JSON object, else Qonto's 422 ``invalid_body``."""
    if not isinstance(body, dict):
        raise QontoSimError.one(422, "invalid_body", "The body must be a JSON object", pointer="/data")
    return body


def wrapped_body(wrapper: str, detail: str) -> QontoSimError:
    """The 422 for a body sent inside a ``{"<wrapper>": {...}}`` envelope: Qonto's bodies are flat."""
    return QontoSimError.one(422, "invalid_body", detail, pointer=attr_pointer(wrapper))
