"""Helpers for the reliability runs: real worker processes against the sandbox, several tenants."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.utils import timezone

from billing.models import Subscription
from connector.models import Invoice, QontoConnection, Tenant
from hubspot_app.models import HubSpotInstallation
from sandbox import demo
from sandbox.testing import RunningSandbox
from tests.hubspot_app.sandbox_fixtures import app_optional_scopes, app_required_scopes
from tests.processes import celery_worker, tasks_sent_to_broker, wait_for

FIRST_LOAD_PORTAL = 40_000_000


def worker_env(sb: RunningSandbox, settings: Any) -> dict[str, str]:
    return {
        **sb.env,
        "HUBSPOT_CLIENT_ID": settings.HUBSPOT_CLIENT_ID,
        "HUBSPOT_CLIENT_SECRET": settings.HUBSPOT_CLIENT_SECRET,
        "PUBLIC_BASE_URL": settings.PUBLIC_BASE_URL,
    }


@contextmanager
def worker(
    sb: RunningSandbox,
    settings: Any,
    *,
    concurrency: int = 1,
    env: dict[str, str] | None = None,
    log_path: Path | None = None,
) -> Iterator[subprocess.Popen[str]]:
    """A real worker process; ``env`` adds settings for it (e.g. ``INVOICE_LOCK_TIMEOUT_S``),
    ``log_path`` is where its output goes (complete once the block has exited)."""
    with (
        celery_worker(
            extra_env={**worker_env(sb, settings), **(env or {})}, concurrency=concurrency, log_path=log_path
        ) as proc,
        tasks_sent_to_broker(),
    ):
        yield proc


def kill_hard(proc: subprocess.Popen[str]) -> None:
    """SIGKILL: no cleanup, no ack, locks left held — a machine that lost power."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (the prefork pool's children), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                stat = fh.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    return wait_for(predicate, timeout, interval, what=what)


def drained(timeout: float = 30) -> None:
    """Every task queued so far has run: a heartbeat sent after them has (one solo worker runs
    its queue in order). A task that should not have been queued has had its chance to act."""
    from django.core.cache import cache

    from connector.tasks import HEARTBEAT_CACHE_KEY, heartbeat_task

    cache.delete(HEARTBEAT_CACHE_KEY)
    heartbeat_task.delay()
    wait_until(lambda: cache.get(HEARTBEAT_CACHE_KEY), timeout, "the worker ran what was queued")


def settled(invoice_pk: Any, *, written_back: bool = True) -> Invoice | None:
    qs = Invoice.objects.filter(pk=invoice_pk, status=Invoice.Status.DRAFT)
    if written_back:
        qs = qs.filter(hubspot_written_at__isnull=False)
    return qs.first()


def load_tenant(sb: RunningSandbox, index: int, *, deals: int) -> tuple[Tenant, list[str]]:
    """A fresh portal + Qonto organization + operational tenant, with ``deals`` ready deals."""
    portal_id = FIRST_LOAD_PORTAL + index
    hub, qonto = sb.provider("hubspot"), sb.provider("qonto")
    login, secret = f"load-org-{index}", f"qsk_load_{index:04d}_secretvalue"
    iban = f"FR76167980000100000{index:08d}"
    qonto.seed_organization(login, secret, f"Agence {index} SAS", ibans=[iban])
    hub.create_portal(portal_id)
    scopes = [*app_required_scopes(), *app_optional_scopes()]  # everything granted
    access, refresh = hub.install(portal_id, scopes=scopes)
    hub.define_property(portal_id, "companies", "siret", label="SIRET")
    company = hub.create_company(
        portal_id, name=f"Client {index}", address="1 rue du Test", city="Paris", zip="75001",
        country="France", siret=demo.COMPLETE_SIRET,
    )  # fmt: skip
    deal_ids = [
        str(
            hub.create_deal(
                portal_id,
                dealname=f"Projet {index}-{n}",
                amount="10000",
                dealstage="closedwon",
                company_id=company["id"],
            )["id"]
        )
        for n in range(deals)
    ]
    tenant = Tenant.objects.create(portal_id=portal_id, name=f"Agence {index}", siret_property="siret")
    HubSpotInstallation.objects.create(
        tenant=tenant, access_token=access, refresh_token=refresh, scopes=scopes,
        expires_at=timezone.now() + timedelta(minutes=30), installed_at=timezone.now(),
    )  # fmt: skip
    QontoConnection.objects.create(
        tenant=tenant, organization_slug=login, secret_key=secret, vat_rate=Decimal("20"), iban=iban,
        legal_name=f"Agence {index} SAS", verified_at=timezone.now(),
    )  # fmt: skip
    Subscription.objects.create(
        tenant=tenant, stripe_customer_id=f"cus_load_{index}", stripe_subscription_id=f"sub_load_{index}",
        status="active", plan="monthly", current_period_end=timezone.now() + timedelta(days=30),
    )  # fmt: skip
    from hubspot_app.services import hubspot_setup

    hubspot_setup(tenant_id=tenant.pk)
    return tenant, deal_ids


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]
