"""/readyz: database, broker and migrations; 503 naming what is not ready."""

from __future__ import annotations

import pytest

from config.celery import app as celery_app
from connector import health

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_migrations_ok(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(health, "_migrations_ok", False)


def test_ready(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "broker": "ok", "migrations": "ok"},
    }
    assert response["Cache-Control"].startswith("max-age=0")


def test_unapplied_migrations_are_named(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.migration import Migration

    pending = [(Migration("0099_future", "connector"), False)]
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: pending)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["migrations"] == "1 migration(s) not applied: connector.0099_future"
    assert body["checks"]["database"] == "ok"


def test_stopped_broker_is_named(client) -> None:  # type: ignore[no-untyped-def]
    saved = (celery_app.conf.broker_url, celery_app.conf.broker_transport_options)
    celery_app.conf.update(broker_url="redis://127.0.0.1:1/0", broker_transport_options={})
    try:
        response = client.get("/readyz")
    finally:
        celery_app.conf.update(broker_url=saved[0], broker_transport_options=saved[1])
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("broker unavailable")
    assert response.json()["checks"]["migrations"] == "ok"


def test_failing_database_is_named(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken_cursor(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise health.connections["default"].Database.OperationalError("down")

    monkeypatch.setattr(health.connections["default"], "cursor", broken_cursor)
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == "database unavailable (OperationalError)"
    assert checks["migrations"] == "not checked (database unavailable)"


def test_readyz_rejects_post(client) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/readyz").status_code == 405


# --- the landing page (same thin view module) -------------------------------------------------------
def test_home_page_in_french_and_english(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from billing import selectors
    from connector.exceptions import BillingRetryableError

    def stripe_down() -> None:
        raise BillingRetryableError("stripe down")

    monkeypatch.setattr(selectors, "plan_catalog_get", stripe_down)
    body = client.get("/").content.decode()
    assert 'href="/hubspot/install"' in body
    assert 'href="/signin"' in body
    assert "39 € HT / mois" in body
    assert "390 € HT / an" in body
    assert "Se connecter" in body
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="en"' in english


def test_home_page_reads_prices_from_billing(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from billing import selectors

    offer = {"price_id": "p", "currency": "eur", "interval": "month"}
    catalog = selectors.PlanCatalog(
        monthly=selectors.PlanOffer(plan="monthly", unit_amount=4900, **offer),
        annual=selectors.PlanOffer(plan="annual", unit_amount=49000, **{**offer, "interval": "year"}),
    )
    monkeypatch.setattr(selectors, "plan_catalog_get", lambda: catalog)
    body = client.get("/").content.decode()
    assert "49 € HT / mois" in body
    assert "490 € HT / an" in body
