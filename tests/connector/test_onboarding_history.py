"""The onboarding step "your existing Qonto invoices" (after Connect Qonto)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from connector.models import HistoryImport, Invoice
from tests.connector.test_history import seed_history
from tests.hubspot_app.sandbox_fixtures import (  # noqa: F401 - fixtures
    install_in_simulator,
    login,
    running_sandbox_fixture,
    sandbox_fixture,
)
from tests.invoice_world import InvoiceWorld, invoice_world_fixture  # noqa: F401

URL = "/onboarding/history"


@pytest.mark.django_db
def test_the_step_needs_qonto_connected(client: Any, sandbox: Any) -> None:
    tenant = install_in_simulator(sandbox)
    login(client, tenant)
    assert reverse("onboarding_history") == URL
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == "/onboarding/qonto"


@pytest.mark.django_db
def test_the_step_starts_the_import_and_shows_its_outcome(
    client: Any, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks: Any
) -> None:
    world = invoice_world
    seed_history(world)
    login(client, world.tenant)
    page = client.get(URL)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Rechercher mes factures existantes" in body
    assert 'http-equiv="refresh"' not in body
    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly in tests
        response = client.post(URL)
    assert response.status_code == 302
    assert response["Location"] == URL
    run = HistoryImport.objects.get(tenant=world.tenant)
    assert run.status == HistoryImport.Status.SUCCEEDED
    assert Invoice.objects.filter(tenant=world.tenant, kind=Invoice.Kind.IMPORTED).count() == 3
    body = client.get(URL).content.decode()
    assert "3 factures rattachées à vos transactions." in body
    assert "2 factures à vérifier : notre support vous contactera pour les rattacher." in body
    assert "Relancer la recherche" in body
    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3 invoices attached to your deals." in english


@pytest.mark.django_db
def test_a_running_import_is_not_started_twice_and_the_page_refreshes(
    client: Any, invoice_world: InvoiceWorld, django_capture_on_commit_callbacks: Any
) -> None:
    world = invoice_world
    login(client, world.tenant)
    HistoryImport.objects.create(tenant=world.tenant, started_at=timezone.now())  # still running
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(URL)
    assert callbacks == []  # nothing queued
    assert HistoryImport.objects.filter(tenant=world.tenant).count() == 1
    body = client.get(URL).content.decode()
    assert 'http-equiv="refresh"' in body
    assert "Recherche en cours" in body
