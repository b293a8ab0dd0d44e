"""Issue 12, the support admin in French: model and field names, the admin's language, amounts as
"14 017,00 €", actions that stay on the tenant's page, and the staff user in the audit log."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, User
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import trans_real

from billing.models import StripeEvent, Subscription
from connector.admin.formatting import fmt_money, fmt_percent
from connector.audit import ADMIN_GROUP, support_groups_ensure
from connector.models import AuditLog, Invoice, Tenant
from tests.factories import QontoConnectionFactory, TenantFactory, lumiere_unpaid_invoice

pytestmark = pytest.mark.django_db

TENANTS = "/admin/connector/tenant/"
NNBSP, NBSP = "\u202f", "\u00a0"
# What support reads: a narrow no-break space between thousands, a no-break space before "€".
AMOUNT_FR = f"14{NNBSP}017,00{NBSP}€"
# Fields support never sees (secrets): the admin leaves them out.
SECRETS = {"secret_key", "staging_token", "access_token", "refresh_token"}


@pytest.fixture
def agent(client):  # type: ignore[no-untyped-def]
    support_groups_ensure()
    user = User.objects.create_user("agent", "agent@support.example", "pw-0123456789ab", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMIN_GROUP))
    client.force_login(user)
    return user


@pytest.fixture
def tenant(db) -> Tenant:  # type: ignore[no-untyped-def]
    tenant = TenantFactory(name="Agence Lumière")
    QontoConnectionFactory(tenant=tenant)
    lumiere_unpaid_invoice(tenant, "1")
    return tenant


# --- model and field names --------------------------------------------------------------------------
def _support_models() -> list[type]:
    return [
        m
        for label in ("connector", "hubspot_app", "billing")
        for m in apps.get_app_config(label).get_models()
    ]


def test_every_model_and_field_has_a_translated_verbose_name() -> None:
    french = trans_real.translation("fr")._catalog  # type: ignore[attr-defined]
    missing = []
    for model in _support_models():
        names = [model._meta.verbose_name, model._meta.verbose_name_plural]
        names += [f.verbose_name for f in model._meta.fields if not f.auto_created and f.name not in SECRETS]
        for name in names:
            # A name Django made from the attribute is a plain str: ours are gettext_lazy strings
            # (English source) with an entry in the French catalog.
            with translation.override(None):  # no catalog: the source string
                msgid = str(name)
            if not isinstance(name, Promise) or msgid not in french:
                missing.append(f"{model.__name__}: {msgid}")
    assert missing == []


def test_names_read_in_french_and_in_english() -> None:
    field = Tenant._meta.get_field("payment_terms_days")
    with translation.override("fr"):
        assert str(Tenant._meta.verbose_name_plural) == "tenants"
        assert str(Invoice._meta.verbose_name_plural) == "factures"
        assert str(field.verbose_name) == "délai de paiement (jours)"
        assert str(Subscription._meta.verbose_name) == "abonnement"
        assert str(StripeEvent._meta.get_field("processed_at").verbose_name) == "traité le"
    with translation.override("en"):
        assert str(Invoice._meta.verbose_name_plural) == "invoices"
        assert str(field.verbose_name) == "payment terms (days)"


def test_tenant_pages_are_in_french_whatever_the_browser_asks(client, agent, tenant) -> None:  # type: ignore[no-untyped-def]
    english_browser = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}
    changelist = client.get(TENANTS, **english_browser)
    body = changelist.content.decode()
    assert changelist["Content-Language"] == "fr"
    assert "Sélectionnez l’objet tenant à afficher" in body
    assert "N° de portail HubSpot" in body
    detail = client.get(f"{TENANTS}{tenant.pk}/change/", **english_browser).content.decode()
    for label in ("Délai de paiement (jours)", "Propriété SIRET", "Raison du statut", "Factures récentes"):
        assert label in detail, label
    assert "Payment terms" not in detail


def test_a_staff_user_who_chose_english_gets_english(client, agent, tenant) -> None:  # type: ignore[no-untyped-def]
    # The switch at the top of the admin posts to Django's set_language, which sets the cookie.
    client.post("/i18n/setlang/", {"language": "en", "next": TENANTS})
    response = client.get(f"{TENANTS}{tenant.pk}/change/")
    body = response.content.decode()
    assert response["Content-Language"] == "en"
    assert "Payment terms (days)" in body
    assert "€14,017.00" in body
    assert 'name="language" value="fr"' in body  # the way back to French


def test_outside_the_admin_the_browser_still_decides(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr")["Content-Language"] == "fr"


# --- amounts ----------------------------------------------------------------------------------------
def test_fmt_money_characters() -> None:
    with translation.override("fr"):
        assert fmt_money(Decimal("14017")) == AMOUNT_FR
        assert fmt_money(Decimal("-1234567.891")) == f"-1{NNBSP}234{NNBSP}567,89{NBSP}€"
        assert fmt_money(Decimal("1000"), "usd") == f"1{NNBSP}000,00{NBSP}USD"
        assert fmt_money(None) == "—"
        assert fmt_percent(Decimal("5.50")) == "5,5"
    with translation.override("en"):
        assert fmt_money(Decimal("14017")) == "€14,017.00"
        assert fmt_money(Decimal("1000"), "USD") == f"USD{NBSP}1,000.00"


def test_admin_pages_print_amounts_in_french(client, agent, tenant) -> None:  # type: ignore[no-untyped-def]
    invoice = Invoice.objects.get(tenant=tenant)
    pages = {
        f"{TENANTS}{tenant.pk}/change/": AMOUNT_FR,
        "/admin/connector/invoice/": AMOUNT_FR,
        f"/admin/connector/invoice/{invoice.pk}/change/": AMOUNT_FR,
        "/admin/connector/deal/": f"11{NNBSP}680,83{NBSP}€",
    }
    for url, amount in pages.items():
        body = client.get(url).content.decode()
        assert amount in body, url
        assert "14017,00" not in body, url
        assert "11680,83" not in body, url
    detail = client.get(f"/admin/connector/invoice/{invoice.pk}/change/").content.decode()
    assert f"2{NNBSP}336,17{NBSP}€" in detail  # VAT, on the change page too


# --- actions stay on the tenant's page, audited with the staff user ---------------------------------
def test_an_action_from_the_tenant_page_returns_to_it(client, agent, tenant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connector import tasks

    monkeypatch.setattr(tasks.tenant_sync_task, "delay", lambda *a, **k: None)
    page = f"{TENANTS}{tenant.pk}/change/"
    form = {"action": "sync_now", "_selected_action": [str(tenant.pk)], "_tenant_page": "1"}
    response = client.post(TENANTS, form)
    assert response.status_code == 302
    assert response["Location"] == page
    body = client.get(page).content.decode()
    assert "Agence Lumière" in body
    assert "synchronisation lancée." in body
    assert "agent (agent@support.example)" in body  # the tenant's audit lines name the staff user
    row = AuditLog.objects.get(action=AuditLog.Action.SYNC_REQUESTED)
    assert row.user == agent
    assert row.user_email == "agent@support.example"


def test_an_action_from_the_list_still_returns_to_the_list(client, agent, tenant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connector import tasks

    monkeypatch.setattr(tasks.tenant_sync_task, "delay", lambda *a, **k: None)
    response = client.post(TENANTS, {"action": "sync_now", "_selected_action": [str(tenant.pk)]})
    assert response["Location"] == TENANTS
    # The flag never sends anyone elsewhere: several tenants, or an unknown one, go to the list.
    other = TenantFactory()
    both = {"action": "sync_now", "_selected_action": [str(tenant.pk), str(other.pk)], "_tenant_page": "1"}
    assert client.post(TENANTS, both)["Location"] == TENANTS
    gone = {"action": "sync_now", "_selected_action": ["999999"], "_tenant_page": "1"}
    assert client.post(TENANTS, gone)["Location"] == TENANTS


def test_suspend_from_the_tenant_page_asks_the_reason_then_returns_to_it(client, agent, tenant) -> None:  # type: ignore[no-untyped-def]
    page = f"{TENANTS}{tenant.pk}/change/"
    form = {"action": "suspend", "_selected_action": [str(tenant.pk)], "_tenant_page": "1"}
    ask = client.post(TENANTS, form).content.decode()
    assert 'name="_tenant_page" value="1"' in ask
    assert f'href="{page}"' in ask  # "Annuler" goes back to the tenant too
    done = client.post(TENANTS, {**form, "apply": "1", "reason": "Impayés"})
    assert done["Location"] == page
    assert "Agence Lumière" in client.get(page).content.decode()
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.SUSPENDED
    assert AuditLog.objects.get(action=AuditLog.Action.TENANT_SUSPENDED).user == agent


def test_audit_log_list_names_the_staff_user(client, agent, tenant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connector import tasks

    monkeypatch.setattr(tasks.tenant_sync_task, "delay", lambda *a, **k: None)
    client.post(TENANTS, {"action": "sync_now", "_selected_action": [str(tenant.pk)]})
    body = client.get("/admin/connector/auditlog/").content.decode()
    assert "agent (agent@support.example)" in body
    assert "Synchronisation demandée" in body


def test_billing_actions_are_audited_with_the_staff_user(client, agent, tenant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from billing import services

    sub = Subscription.objects.create(
        tenant=tenant, stripe_customer_id="cus_1", stripe_subscription_id="sub_1"
    )
    monkeypatch.setattr(services, "subscription_sync_from_stripe", lambda **kwargs: sub)
    event = StripeEvent.objects.create(
        id="evt_1", type="invoice.paid", created="2026-12-01T10:00:00Z", payload={}, tenant=tenant
    )
    monkeypatch.setattr(services, "stripe_events_replay", lambda **kwargs: [event])
    client.post(
        "/admin/billing/subscription/", {"action": "resync_from_stripe", "_selected_action": [str(sub.pk)]}
    )
    client.post("/admin/billing/stripeevent/", {"action": "replay_events", "_selected_action": ["evt_1"]})
    resync = AuditLog.objects.get(action=AuditLog.Action.SUBSCRIPTION_RESYNCED)
    replay = AuditLog.objects.get(action=AuditLog.Action.STRIPE_EVENT_REPLAYED)
    assert (resync.user, resync.tenant, resync.detail) == (
        agent,
        tenant,
        {"subscription_id": "sub_1", "ok": True},
    )
    assert (replay.user, replay.tenant, replay.detail["event_id"]) == (agent, tenant, "evt_1")
