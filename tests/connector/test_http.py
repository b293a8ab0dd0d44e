"""The outbound session factory: timeouts always set, no redirects, retries on reads only."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connector.http import build_session


class _Handler(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        _Handler.hits[f"{self.command} {self.path}"] = _Handler.hits.get(f"{self.command} {self.path}", 0) + 1
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()
        elif self.path == "/flaky":
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    do_GET = _answer
    do_POST = _answer


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_default_timeout_is_always_applied(settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    session = build_session(connect_timeout=1.5, read_timeout=7.0)
    seen = {}

    def fake_send(request, **kwargs):  # type: ignore[no-untyped-def]
        seen.update(kwargs)
        raise requests.ConnectionError("stop")

    monkeypatch.setattr(session, "send", fake_send)
    with pytest.raises(requests.ConnectionError):
        session.get("http://127.0.0.1:9/")
    assert seen["timeout"] == (1.5, 7.0)
    assert seen["allow_redirects"] is False


def test_redirects_are_not_followed(server: str) -> None:
    response = build_session().get(f"{server}/redirect")
    assert response.status_code == 302
    assert _Handler.hits.get("GET /elsewhere") is None


def test_reads_are_retried_but_posts_are_not(server: str) -> None:
    _Handler.hits.clear()
    session = build_session(read_retries=2)
    session.get(f"{server}/flaky")
    session.post(f"{server}/flaky", json={})
    assert _Handler.hits["GET /flaky"] == 3
    assert _Handler.hits["POST /flaky"] == 1
