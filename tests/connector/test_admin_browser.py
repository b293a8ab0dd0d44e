"""The support admin in Chromium, signed in as a staff user whose browser asks for English.

The walk: the tenant list and a tenant's page in French (model and field names), an amount read
as "14 017,00 €" (exact characters: U+202F between thousands, U+00A0 before "€"), an action run
from the tenant's page that comes back to that page with its French message, the audit line
naming the staff user, and the switch to English. Screenshots in ``test-artifacts/admin/``.
Debian's Chromium only (``tests/browser.py``), never a downloaded browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User

from billing.models import Subscription
from connector.audit import ADMIN_GROUP, support_groups_ensure
from connector.models import AuditLog, Tenant
from tests.browser import BROWSER_TEST, chromium_page
from tests.factories import (
    HubSpotInstallationFactory,
    QontoConnectionFactory,
    TenantFactory,
    lumiere_unpaid_invoice,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "admin"
AMOUNT_FR = "14\u202f017,00\u00a0€"
PASSWORD = "agent-password-0123"

pytestmark = BROWSER_TEST


@pytest.fixture
def page(monkeypatch: Any) -> Iterator[Any]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # An English browser: the admin must still be French (connector.middleware.AdminLanguageMiddleware).
    with chromium_page(monkeypatch, locale="en-US", width=1280, height=1000) as page:
        yield page


@pytest.fixture
def tenant(db: Any) -> Tenant:
    tenant = TenantFactory(name="Agence Lumière")
    HubSpotInstallationFactory(tenant=tenant, installer_email="alice@lumiere.fr")
    QontoConnectionFactory(tenant=tenant, organization_slug="lumiere-sas-1234")
    Subscription.objects.create(
        tenant=tenant,
        stripe_customer_id="cus_b1",
        stripe_subscription_id="sub_b1",
        status="active",
        plan="monthly",
    )
    lumiere_unpaid_invoice(tenant, "b1")
    return tenant


@pytest.fixture
def agent(db: Any) -> User:
    support_groups_ensure()  # the transactional test flushed the groups the migration made
    user = User.objects.create_user("agent", "agent@support.example", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=ADMIN_GROUP))
    return user


def test_support_admin_in_french(
    live_server: Any, page: Any, tenant: Tenant, agent: User, monkeypatch: Any
) -> None:
    from connector import tasks

    synced: list[Any] = []
    monkeypatch.setattr(tasks.tenant_sync_task, "delay", lambda *a, **k: synced.append(a))
    base = live_server.url

    # Sign in as the staff user (the login page is French too).
    page.goto(f"{base}/admin/")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("#id_username", "agent")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")

    # The tenant list: French model and field names.
    page.goto(f"{base}/admin/connector/tenant/")
    assert page.locator("#content h1").inner_text() == "Sélectionnez l’objet tenant à afficher"
    headers = page.locator("#result_list thead th").all_inner_texts()
    for name in ("N° de portail HubSpot", "Nom", "Statut", "Abonnement", "Factures ce mois"):
        assert any(h.strip().upper() == name.upper() for h in headers), (name, headers)
    assert page.locator("#changelist-filter").inner_text().count("Par statut") == 1
    page.screenshot(path=str(ARTIFACTS / "01-tenant-list.png"), full_page=True)

    # The tenant's page: field names in French, the invoice's total as "14 017,00 €".
    page.click(f"#result_list a[href$='/connector/tenant/{tenant.pk}/change/']")
    change_url = f"{base}/admin/connector/tenant/{tenant.pk}/change/"
    page.wait_for_url(change_url)
    for field, label in (
        ("portal_id", "N° de portail HubSpot"),
        ("payment_terms_days", "Délai de paiement (jours)"),
        ("siret_property", "Propriété SIRET"),
        ("status_reason", "Raison du statut"),
        ("recent_invoices", "Factures récentes"),
    ):
        assert page.locator(f".field-{field} label").first.inner_text().startswith(label), field
    headers = page.locator(".field-recent_invoices th").all_text_contents()
    total = page.locator(".field-recent_invoices td").nth(headers.index("Total TTC")).text_content()
    assert total == AMOUNT_FR  # U+202F thousands separator, U+00A0 before the euro sign
    page.screenshot(path=str(ARTIFACTS / "02-tenant-page.png"), full_page=True)

    # An action from the tenant's page: back on the same page, with a French message.
    page.click("#tenant-actions button[data-action='sync_now']")
    page.wait_for_load_state()
    assert page.url == change_url  # not bounced to the tenant list
    message = page.locator("ul.messagelist li").first.inner_text()
    assert message == f"{tenant} : synchronisation lancée."
    assert synced == [(tenant.pk,)]
    # The tenant's audit lines name the staff user who did it.
    audit_row = page.locator(".field-recent_audit tbody tr").first.all_inner_texts()[0]
    assert "agent (agent@support.example)" in audit_row
    assert "Synchronisation demandée" in audit_row
    page.screenshot(path=str(ARTIFACTS / "03-action-stays-on-tenant.png"), full_page=True)
    row = AuditLog.objects.get(action=AuditLog.Action.SYNC_REQUESTED)
    assert (row.user_id, row.user_email) == (agent.pk, "agent@support.example")

    # The audit log itself.
    page.goto(f"{base}/admin/connector/auditlog/")
    assert (
        page.locator("#content h1").inner_text()
        == "Sélectionnez l’objet entrée du journal d'audit à afficher"
    )
    first = page.locator("#result_list tbody tr").first.inner_text()
    assert "agent (agent@support.example)" in first
    assert "Synchronisation demandée" in first
    assert "None" not in first
    assert "system" not in first.lower()
    page.screenshot(path=str(ARTIFACTS / "04-audit-log.png"), full_page=True)

    # English stays available: the staff user's own choice wins over the French default.
    page.goto(change_url)
    page.click("#admin-language button[value='en']")
    page.wait_for_url(change_url)
    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        page.locator(".field-payment_terms_days label").first.inner_text().startswith("Payment terms (days)")
    )
    assert (
        page.locator(".field-recent_invoices td").nth(headers.index("Total TTC")).text_content()
        == "€14,017.00"
    )
    page.screenshot(path=str(ARTIFACTS / "05-english-on-request.png"), full_page=True)
