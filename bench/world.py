"""What the benchmarks run against: their environment (a database, a Redis db and the sandbox of
their own, set before Django starts) and their data (tenants wired to the sandbox, with invoices).
See ``bench/run.py`` for the scenarios."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
# BENCH_DB lets several worktrees bench on one PostgreSQL server without dropping each other's.
BENCH_DB = os.environ.get("BENCH_DB") or "qonto_connector_bench"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/qonto_connector"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
PORTAL_BASE = 910_000_000
BIG_PORTAL = 920_000_000
QONTO_PER_10S = 800  # our shared Qonto limiter (connector.ratelimit.qonto_limiter)
HUBSPOT_PER_10S = 100  # our per-portal HubSpot limiter
INVOICE_PAYLOAD = {
    "invoice": {
        "currency": "EUR",
        "payment_methods": {"iban": "FR7616798000010000005663951"},
        "items": [
            {
                "title": "Prestation de conseil",
                "description": "Prestation de conseil — accompagnement commercial",
                "quantity": "1",
                "unit": "unit",
                "unit_price": {"value": "100.00", "currency": "EUR"},
                "vat_rate": "0.2",
            }
        ],
        "terms_and_conditions": "Paiement à 30 jours.",
        "header": "Merci pour votre confiance.",
    },
    "client": {
        "kind": "company",
        "name": "Client Benchmark",
        "tax_identification_number": "73282932000074",
        "currency": "EUR",
        "locale": "FR",
        "billing_address": {
            "street_address": "1 avenue du Test",
            "city": "Paris",
            "zip_code": "75001",
            "country_code": "FR",
        },
    },
    "company_id": "30100000001",
    "vat_breakdown": {"0.2": "100.00"},
}


# --- environment ----------------------------------------------------------------------------------
def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def prepare_environment() -> tuple[str, str]:
    """Environment every process of the bench shares (set before Django and the workers start)."""
    database_url = _with_path(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, f"/{BENCH_DB}")
    redis_url = os.environ.get("BENCH_REDIS_URL") or _with_path(
        os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL, "/14"
    )
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": "bench",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "LOG_LEVEL": "WARNING",
        }
    )
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return database_url, redis_url


@contextmanager
def bench_database(database_url: str) -> Iterator[None]:
    """Create the bench database (dropping a leftover one), migrate it, drop it at the end."""
    import psycopg

    admin_url = _with_path(database_url, "/postgres")

    def admin(sql: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql)

    admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
    admin(f'CREATE DATABASE "{BENCH_DB}"')
    try:
        import django

        django.setup()
        import logging

        logging.disable(logging.WARNING)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        yield
    finally:
        try:
            from django.db import connections

            connections.close_all()
        finally:
            admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def check_services(database_url: str, redis_url: str) -> str | None:
    """PostgreSQL and Redis must be up (``make bench`` uses the Makefile's DATABASE_URL/REDIS_URL)."""
    import psycopg
    import redis

    try:
        with psycopg.connect(_with_path(database_url, "/postgres"), connect_timeout=5):
            pass
    except psycopg.Error as exc:
        return f"PostgreSQL unreachable at {_with_path(database_url, '/postgres')}: {exc}"
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        return f"Redis unreachable at {redis_url} (set REDIS_URL or BENCH_REDIS_URL): {exc}"
    return None


# --- data -----------------------------------------------------------------------------------------
def create_tenant(sb: Any, index: int, portal_id: int, n_invoices: int) -> int:
    """A tenant wired to the sandbox (HubSpot installed + our properties, Qonto organisation), with
    ``n_invoices`` Qonto drafts, one per HubSpot deal, and our rows for them. Returns its id."""
    from datetime import timedelta

    from django.utils import timezone

    from connector.invoices.apply import apply_qonto_invoice
    from connector.models import Deal, Invoice, QontoConnection, Tenant
    from hubspot_app.models import HubSpotInstallation
    from hubspot_app.services import hubspot_setup

    hub = sb.provider("hubspot")
    qonto = sb.provider("qonto")
    login = f"bench-org-{index:04d}"
    secret = f"qsk_bench_{index:04d}_0123456789abcdef"
    hub.create_portal(portal_id, name=f"Bench {index}")
    access, refresh = hub.install(portal_id)
    qonto.seed_organization(login, secret, f"Bench {index} SAS", ibans=["FR7616798000010000005663951"])
    tenant = Tenant.objects.create(portal_id=portal_id, name=f"Bench {index}")
    HubSpotInstallation.objects.create(
        tenant=tenant,
        access_token=access,
        refresh_token=refresh,
        expires_at=timezone.now() + timedelta(minutes=25),
        scopes=[],
        installed_at=timezone.now(),
    )
    QontoConnection.objects.create(
        tenant=tenant,
        organization_slug=login,
        secret_key=secret,
        iban="FR7616798000010000005663951",
        legal_name=f"Bench {index} SAS",
        verified_at=timezone.now(),
    )
    hubspot_setup(tenant_id=tenant.pk)
    deal_ids = hub.bulk_create_deals(portal_id, n_invoices)
    qonto_ids = qonto.bulk_seed_invoices(login, n_invoices, purchase_order="HubSpot deal {i}")
    chunk = 2000
    for start in range(0, n_invoices, chunk):
        part = list(zip(deal_ids[start : start + chunk], qonto_ids[start : start + chunk], strict=True))
        deals = Deal.objects.bulk_create(
            [Deal(tenant=tenant, hubspot_deal_id=d, name=f"Deal {d}", amount="100.00") for d, _ in part]
        )
        rows = []
        for deal, (_, qid) in zip(deals, part, strict=True):
            row = Invoice(
                tenant=tenant,
                deal=deal,
                hubspot_deal_id=deal.hubspot_deal_id,
                kind=Invoice.Kind.FULL,
                idempotency_key=f"bench-{qid}",
                reference=f"HubSpot deal {deal.hubspot_deal_id} / QC-{qid[:12]}",
                payload=INVOICE_PAYLOAD,
                submitted_at=timezone.now(),
                attempts=1,
            )
            apply_qonto_invoice(row, qonto.get_invoice(qid))  # as invoice creation recorded it
            rows.append(row)
        Invoice.objects.bulk_create(rows)
    return int(tenant.pk)
