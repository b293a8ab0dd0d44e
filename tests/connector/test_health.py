from __future__ import annotations

import pytest

from config.celery import app as celery_app


@pytest.mark.django_db
def test_healthz_ok_when_database_and_broker_answer(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
    assert response["Cache-Control"].startswith("max-age=0")
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_healthz_names_a_stopped_broker(client) -> None:  # type: ignore[no-untyped-def]
    # Nothing listens on port 1: the broker is "stopped".
    saved = (celery_app.conf.broker_url, celery_app.conf.broker_transport_options)
    celery_app.conf.update(broker_url="redis://127.0.0.1:1/0", broker_transport_options={})
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.update(broker_url=saved[0], broker_transport_options=saved[1])
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("broker unavailable")


@pytest.mark.django_db
def test_healthz_names_a_failing_database(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connector import health

    def broken_cursor(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise health.connections["default"].Database.OperationalError("down")

    monkeypatch.setattr(health.connections["default"], "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "database unavailable (OperationalError)"


def test_healthz_rejects_post(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/healthz").status_code == 405


def test_request_id_is_echoed_when_valid(client, db) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123-def-456")
    assert response["X-Request-ID"] == "abc-123-def-456"
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces")
    assert response["X-Request-ID"] != "bad id with spaces"
