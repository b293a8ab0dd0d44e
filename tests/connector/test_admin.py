"""The support admin: search, no secret on any page, each action, permissions, audit rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone

from billing.models import Subscription
from connector.audit import ADMIN_GROUP, READ_ONLY_GROUP, support_groups_ensure
from connector.models import AuditLog, Deal, Invoice, QontoConnection, SyncRun, Tenant
from tests.factories import HubSpotInstallationFactory, QontoConnectionFactory, TenantFactory

pytestmark = pytest.mark.django_db

TENANTS = "/admin/connector/tenant/"
INVOICES = "/admin/connector/invoice/"


@pytest.fixture
def groups() -> None:
    # The migration creates them; a transactional test elsewhere may have flushed the table.
    support_groups_ensure()


def staff(username: str, group: str) -> User:
    user = User.objects.create_user(username, f"{username}@support.example", "pw-0123456789ab", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def reader_client(client, groups):  # type: ignore[no-untyped-def]
    client.force_login(staff("lecteur", READ_ONLY_GROUP))
    return client


@pytest.fixture
def support_client(client, groups):  # type: ignore[no-untyped-def]
    client.force_login(staff("agent", ADMIN_GROUP))
    return client


@pytest.fixture
def world(db):  # type: ignore[no-untyped-def]
    """An operational tenant (tokens, verified Qonto, active plan) with a sync run and invoices."""
    tenant = TenantFactory(name="Agence Lumière")
    installation = HubSpotInstallationFactory(tenant=tenant, installer_email="alice@lumiere.fr")
    connection = QontoConnectionFactory(tenant=tenant, organization_slug="lumiere-sas-1234")
    Subscription.objects.create(
        tenant=tenant,
        stripe_customer_id="cus_admin1",
        stripe_subscription_id="sub_admin1",
        status="active",
        plan="monthly",
    )
    SyncRun.objects.create(
        tenant=tenant,
        status=SyncRun.Status.FAILED,
        started_at=timezone.now() - timedelta(minutes=5),
        finished_at=timezone.now(),
        error="qonto_unavailable: Qonto ne répond pas",
    )
    deal = Deal.objects.create(tenant=tenant, hubspot_deal_id="9001", name="Refonte site")
    failed = Invoice.objects.create(
        tenant=tenant,
        deal=deal,
        hubspot_deal_id="9001",
        kind=Invoice.Kind.FULL,
        status=Invoice.Status.FAILED,
        idempotency_key="k-failed",
        reference="QC-9001-1",
        error_code="qonto_unavailable",
        error_message="Qonto ne répond pas",
        error_retryable=True,
        attempts=6,
    )
    other = TenantFactory(name="Autre Portail")
    QontoConnectionFactory(tenant=other, organization_slug="autre-org-9999")
    return {
        "tenant": tenant,
        "installation": installation,
        "connection": connection,
        "failed": failed,
        "deal": deal,
        "other": other,
    }


def post_action(client, url: str, action: str, pks: list[object], **extra: str):  # type: ignore[no-untyped-def]
    return client.post(
        url, {"action": action, "_selected_action": [str(pk) for pk in pks], **extra}, follow=True
    )


# --- list, search, detail ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    ["Lumière", "lumiere-sas-1234", "alice@lumiere.fr", "portal_id"],
    ids=["name", "slug", "email", "portal"],
)
def test_search_tenants(admin_client, world, query) -> None:  # type: ignore[no-untyped-def]
    tenant = world["tenant"]
    q = str(tenant.portal_id) if query == "portal_id" else query
    body = admin_client.get(TENANTS, {"q": q}).content.decode()
    assert f"/admin/connector/tenant/{tenant.pk}/change/" in body
    assert f"/admin/connector/tenant/{world['other'].pk}/change/" not in body


def test_tenant_list_shows_support_columns(admin_client, world) -> None:  # type: ignore[no-untyped-def]
    body = admin_client.get(TENANTS).content.decode()
    assert "active · mensuel" in body  # billing via tenant_can_invoice
    assert "vérifié" in body
    assert "Échec" in body  # latest SyncRun
    assert "sync: qonto_unavailable" in body or "facture: Qonto ne répond pas" in body
    assert "Factures ce mois" in body


def test_no_secret_on_any_admin_page(admin_client, world) -> None:  # type: ignore[no-untyped-def]
    tenant, connection, installation = world["tenant"], world["connection"], world["installation"]
    connection.refresh_from_db()
    installation.refresh_from_db()
    secrets = [connection.secret_key, installation.access_token, installation.refresh_token]
    assert all(secrets)
    pages = [
        TENANTS,
        f"{TENANTS}{tenant.pk}/change/",
        "/admin/connector/qontoconnection/",
        f"/admin/connector/qontoconnection/{connection.pk}/change/",
        "/admin/hubspot_app/hubspotinstallation/",
        f"/admin/hubspot_app/hubspotinstallation/{installation.pk}/change/",
        INVOICES,
        f"{INVOICES}{world['failed'].pk}/change/",
        "/admin/connector/syncrun/",
        "/admin/connector/auditlog/",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, url
    detail = admin_client.get(f"{TENANTS}{tenant.pk}/change/").content.decode()
    assert connection.secret_key_hint in detail
    assert "lumiere-sas-1234" in detail
    assert "alice@lumiere.fr" in detail
    assert "Dernière synchronisation en échec" in detail  # the diagnosis


def test_rows_are_read_only(admin_client, world) -> None:  # type: ignore[no-untyped-def]
    assert admin_client.get(f"{TENANTS}add/").status_code == 403
    assert admin_client.get(f"{INVOICES}add/").status_code == 403
    assert admin_client.get("/admin/connector/auditlog/add/").status_code == 403
    response = admin_client.post(f"{TENANTS}{world['tenant'].pk}/change/", {"name": "Changé"})
    assert response.status_code == 403
    assert admin_client.post(f"{TENANTS}{world['tenant'].pk}/delete/").status_code == 403


# --- actions -----------------------------------------------------------------------------------------
@responses.activate
def test_action_test_qonto_connection(support_client, world) -> None:  # type: ignore[no-untyped-def]
    tenant, connection = world["tenant"], world["connection"]
    QontoConnection.objects.filter(pk=connection.pk).update(verified_at=None, last_error="old")
    responses.get(
        f"{settings.QONTO_API_BASE}/v2/organization",
        json={
            "organization": {
                "id": "org-1",
                "slug": "lumiere-sas-1234",
                "legal_name": "Lumière SAS",
                "bank_accounts": [
                    {"iban": "FR76 1", "name": "Main", "main": True, "status": "active", "currency": "EUR"}
                ],
            }
        },
    )
    response = post_action(support_client, TENANTS, "test_qonto", [tenant.pk])
    assert "Qonto répond : Lumière SAS (1 compte(s) EUR)." in response.content.decode()
    assert responses.calls[0].request.headers["Authorization"] == f"lumiere-sas-1234:{connection.secret_key}"
    connection.refresh_from_db()
    assert connection.verified_at is not None
    assert connection.last_error == ""
    row = AuditLog.objects.get(action=AuditLog.Action.QONTO_TESTED)
    assert row.tenant == tenant
    assert row.user_email == "agent@support.example"
    assert row.detail["ok"] is True


@responses.activate
def test_action_test_qonto_connection_failure_is_shown_not_unverified(support_client, world) -> None:  # type: ignore[no-untyped-def]
    tenant, connection = world["tenant"], world["connection"]
    responses.get(f"{settings.QONTO_API_BASE}/v2/organization", status=401, json={"errors": []})
    body = post_action(support_client, TENANTS, "test_qonto", [tenant.pk]).content.decode()
    assert "qonto_auth" in body
    assert connection.secret_key not in body
    connection.refresh_from_db()
    assert connection.verified_at is not None
    assert connection.last_error.startswith("qonto_auth")
    assert AuditLog.objects.get(action=AuditLog.Action.QONTO_TESTED).detail["ok"] is False


def test_action_sync_now(support_client, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connector import tasks

    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(tasks.tenant_sync_task, "delay", lambda *a, **k: calls.append(a))
    body = post_action(support_client, TENANTS, "sync_now", [world["tenant"].pk]).content.decode()
    assert calls == [(world["tenant"].pk,)]
    assert "synchronisation lancée" in body
    assert AuditLog.objects.filter(action=AuditLog.Action.SYNC_REQUESTED, tenant=world["tenant"]).count() == 1


def test_action_rerun_hubspot_setup(
    support_client, world, monkeypatch, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    from hubspot_app import tasks

    calls: list[tuple[object, ...]] = []
    monkeypatch.setattr(tasks.hubspot_setup_task, "delay", lambda *a, **k: calls.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        post_action(support_client, TENANTS, "rerun_hubspot_setup", [world["tenant"].pk])
    assert calls == [(world["tenant"].pk,)]
    assert AuditLog.objects.filter(action=AuditLog.Action.HUBSPOT_SETUP_REQUESTED).count() == 1


def test_action_suspend_asks_for_a_reason_then_resume(support_client, world) -> None:  # type: ignore[no-untyped-def]
    tenant = world["tenant"]
    page = post_action(support_client, TENANTS, "suspend", [tenant.pk])
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode()
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.INSTALLED  # nothing happens without a reason

    empty = post_action(support_client, TENANTS, "suspend", [tenant.pk], apply="1", reason="  ")
    assert 'name="reason"' in empty.content.decode()
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.INSTALLED

    done = post_action(support_client, TENANTS, "suspend", [tenant.pk], apply="1", reason="Impayés répétés")
    assert "suspendu" in done.content.decode()
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.SUSPENDED
    assert tenant.status_reason == "Impayés répétés"
    assert tenant.status_changed_at is not None
    row = AuditLog.objects.get(action=AuditLog.Action.TENANT_SUSPENDED)
    assert row.detail == {"reason": "Impayés répétés", "previous_status": "installed"}
    assert row.user is not None
    assert row.user.username == "agent"

    post_action(support_client, TENANTS, "resume", [tenant.pk], apply="1", reason="Régularisé")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.INSTALLED
    assert tenant.status_reason == "Régularisé"
    assert AuditLog.objects.filter(action=AuditLog.Action.TENANT_RESUMED, tenant=tenant).count() == 1


def test_action_retry_invoice(support_client, world, monkeypatch, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    from connector import jobs
    from tests.connector.invoicing.helpers import deal, line

    queued: list[object] = []
    monkeypatch.setattr(jobs, "invoice_create", queued.append)
    # A retry reads the deal again from HubSpot (and checks it against today's invoices).
    monkeypatch.setattr(
        "connector.invoices.request.deal_snapshot_read", lambda **kwargs: deal(line(), id="9001")
    )
    failed = world["failed"]
    in_qonto = Invoice.objects.create(
        tenant=world["tenant"],
        deal=world["deal"],
        hubspot_deal_id="9001",
        kind=Invoice.Kind.DEPOSIT,
        percentage=30,
        status=Invoice.Status.FAILED,
        idempotency_key="k-in-qonto",
        reference="QC-9001-2",
        qonto_invoice_id="qinv-1",
        error_code="hubspot_unavailable",
        error_retryable=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        body = post_action(support_client, INVOICES, "retry", [failed.pk, in_qonto.pk]).content.decode()
    failed.refresh_from_db()
    in_qonto.refresh_from_db()
    assert failed.status == Invoice.Status.PENDING
    assert queued == [str(failed.pk)]
    # Never twice: a row that reached Qonto is refused and stays as it is.
    assert in_qonto.status == Invoice.Status.FAILED
    assert "non relancée (not_retryable" in body
    rows = {
        r.detail["invoice_id"]: r.detail
        for r in AuditLog.objects.filter(action=AuditLog.Action.INVOICE_RETRIED)
    }
    assert rows[str(failed.pk)]["ok"] is True
    assert rows[str(in_qonto.pk)]["ok"] is False


# --- permissions ---------------------------------------------------------------------------------------
def test_read_only_group_sees_but_cannot_act(reader_client, world, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connector import tasks

    monkeypatch.setattr(tasks.tenant_sync_task, "delay", lambda *a, **k: pytest.fail("must not run"))
    tenant, failed = world["tenant"], world["failed"]
    changelist = reader_client.get(TENANTS)
    assert changelist.status_code == 200
    assert 'value="suspend"' not in changelist.content.decode()
    detail = reader_client.get(f"{TENANTS}{tenant.pk}/change/")
    assert detail.status_code == 200
    assert 'data-action="suspend"' not in detail.content.decode()
    assert reader_client.get(INVOICES).status_code == 200

    for action in ("suspend", "sync_now", "test_qonto", "rerun_hubspot_setup"):
        post_action(reader_client, TENANTS, action, [tenant.pk], apply="1", reason="essai")
    post_action(reader_client, INVOICES, "retry", [failed.pk])
    tenant.refresh_from_db()
    failed.refresh_from_db()
    assert tenant.status == Tenant.Status.INSTALLED
    assert failed.status == Invoice.Status.FAILED
    assert not AuditLog.objects.exists()


def test_support_admin_sees_the_actions_on_the_detail_page(support_client, world) -> None:  # type: ignore[no-untyped-def]
    body = support_client.get(f"{TENANTS}{world['tenant'].pk}/change/").content.decode()
    for action in ("test_qonto", "sync_now", "rerun_hubspot_setup", "suspend", "resume"):
        assert f'data-action="{action}"' in body


def test_groups_and_permissions(groups) -> None:  # type: ignore[no-untyped-def]
    reader = set(Group.objects.get(name=READ_ONLY_GROUP).permissions.values_list("codename", flat=True))
    admins = set(Group.objects.get(name=ADMIN_GROUP).permissions.values_list("codename", flat=True))
    assert {"view_tenant", "view_invoice", "view_auditlog", "view_stripeevent"} <= reader
    assert not {c for c in reader if not c.startswith("view_")}
    assert {"suspend_tenant", "retry_invoice", "operate_tenant", "change_stripeevent"} <= admins


# --- other pages ---------------------------------------------------------------------------------------
def test_invoice_filters(admin_client, world) -> None:  # type: ignore[no-untyped-def]
    pk = str(world["failed"].pk)
    for params in (
        {"failed": "yes"},
        {"failed": "retryable"},
        {"status__exact": "failed"},
        {"kind__exact": "full"},
        {"tenant__id__exact": world["tenant"].pk},
    ):
        body = admin_client.get(INVOICES, params).content.decode()
        assert pk in body, params
    assert pk not in admin_client.get(INVOICES, {"failed": "no"}).content.decode()
    detail = admin_client.get(f"{INVOICES}{pk}/change/").content.decode()
    assert "Qonto ne répond pas" in detail
    assert "qonto_unavailable" in detail


def test_deals_deleted_in_hubspot_filter(admin_client, world) -> None:  # type: ignore[no-untyped-def]
    gone = Deal.objects.create(
        tenant=world["tenant"], hubspot_deal_id="7777", hubspot_deleted_at=timezone.now()
    )
    body = admin_client.get("/admin/connector/deal/", {"hubspot_deleted_at__isempty": "0"}).content.decode()
    assert f"/admin/connector/deal/{gone.pk}/change/" in body
    assert f"/admin/connector/deal/{world['deal'].pk}/change/" not in body


def test_audit_service_keeps_email_of_hubspot_users(world) -> None:  # type: ignore[no-untyped-def]
    from connector.audit import audit

    row = audit(
        action=AuditLog.Action.CREDENTIALS_REPLACED, user_email="bob@client.fr", tenant=world["tenant"]
    )
    assert row.user is None
    assert row.user_email == "bob@client.fr"


@pytest.mark.django_db
def test_replacing_qonto_credentials_and_disconnecting_are_audited(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from connector.models import AuditLog
    from connector.onboarding.services import qonto_connection_save
    from connector.qonto_client import BankAccount, Organization, QontoCredentials
    from hubspot_app import services as hs_services
    from tests.factories import HubSpotInstallationFactory, QontoConnectionFactory

    conn = QontoConnectionFactory(organization_slug="old-org-1111")
    HubSpotInstallationFactory(tenant=conn.tenant)
    account = BankAccount("FR7616798000010000005663951", "Main", True, "active", "EUR")
    org = Organization(id="org-1", slug="new-org-2222", legal_name="Nouvelle SAS", bank_accounts=(account,))
    qonto_connection_save(
        tenant=conn.tenant, credentials=QontoCredentials("new-org-2222", "qsk_new_secret_9999"),
        environment="production", organization=org, by_email="admin@example.fr",
    )  # fmt: skip
    entry = AuditLog.objects.get(action=AuditLog.Action.CREDENTIALS_REPLACED)
    assert entry.tenant_id == conn.tenant_id
    assert entry.detail["previous_slug"] == "old-org-1111"
    assert "qsk_new_secret_9999" not in str(entry.detail)

    class FakeClient:
        def __init__(self, tenant):  # type: ignore[no-untyped-def]
            pass

        def uninstall(self) -> None:
            pass

    monkeypatch.setattr(hs_services, "HubSpotClient", FakeClient)
    hs_services.tenant_disconnect(tenant=conn.tenant, by_email="admin@example.fr")
    assert (
        AuditLog.objects.filter(action=AuditLog.Action.TENANT_DISCONNECTED, tenant=conn.tenant).count() == 1
    )


@pytest.mark.django_db
def test_admin_login_is_throttled_after_five_failures(client, django_user_model) -> None:  # type: ignore[no-untyped-def]
    django_user_model.objects.create_user("staffer", password="the-right-password-123", is_staff=True)
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "staffer", "password": "wrong"})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    # Even the right password is refused until the window ends.
    response = client.post("/admin/login/", {"username": "staffer", "password": "the-right-password-123"})
    assert "Trop de tentatives" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another account from another address is not affected.
    django_user_model.objects.create_user("other", password="other-right-password-1", is_staff=True)
    response = client.post(
        "/admin/login/",
        {"username": "other", "password": "other-right-password-1"},
        REMOTE_ADDR="10.9.9.9",
    )
    assert response.status_code == 302


@pytest.fixture
def two_factor_admin():  # type: ignore[no-untyped-def]
    from django.contrib import admin as django_admin

    from connector.admin_login import configure_admin_site

    configure_admin_site(django_admin.site, require_2fa=True)
    yield django_admin.site
    configure_admin_site(django_admin.site, require_2fa=False)


@pytest.mark.django_db
def test_with_admin_require_2fa_a_password_alone_is_not_enough(
    client, django_user_model, two_factor_admin
) -> None:  # type: ignore[no-untyped-def]
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = django_user_model.objects.create_superuser("secure", password="the-right-password-456")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "secure", "password": "the-right-password-456"}
    )
    assert response.status_code == 200  # the form asks for the code
    assert client.get("/admin/").status_code == 302  # not let in
    token = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "secure", "password": "the-right-password-456", "otp_device": device.persistent_id,
         "otp_token": f"{token:06d}"},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get("/admin/").status_code == 200
