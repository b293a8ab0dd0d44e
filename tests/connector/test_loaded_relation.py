"""Relations loaded with the tenant (the card's one tenant query) are used, not queried again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Subscription
from billing.selectors import subscription_get
from connector.invoices.state import tenant_state, verified_connection
from connector.models import (
    NOT_LOADED,
    QontoConnection,
    SyncRun,
    Tenant,
    loaded_relation,
    mark_loaded_with,
)
from hubspot_app.card_api.authentication import card_tenant
from tests.factories import QontoConnectionFactory, TenantFactory

pytestmark = pytest.mark.django_db


def _subscribe(tenant: Tenant) -> Subscription:
    return Subscription.objects.create(
        tenant=tenant, stripe_customer_id="cus_x", stripe_subscription_id="sub_x", status="active",
        plan="monthly", current_period_end=timezone.now() + timedelta(days=30),
    )  # fmt: skip


def _joined(tenant: Tenant) -> Tenant:
    joined = Tenant.objects.select_related("qonto_connection").get(pk=tenant.pk)
    mark_loaded_with(joined, "qonto_connection")
    return joined


def test_loaded_relation_tells_not_loaded_loaded_and_none_apart() -> None:
    tenant = TenantFactory()
    plain = Tenant.objects.get(pk=tenant.pk)
    assert loaded_relation(plain, "qonto_connection") is NOT_LOADED
    assert loaded_relation(_joined(tenant), "qonto_connection") is None  # loaded: there is none
    connection = QontoConnectionFactory(tenant=tenant)
    assert loaded_relation(_joined(tenant), "qonto_connection") == connection


def test_a_relation_django_cached_on_the_way_is_not_trusted() -> None:
    """A subscription created on this tenant object, then changed in the database (another
    process): the selector reads the database, not the stale object Django kept."""
    tenant = TenantFactory()
    QontoConnectionFactory(tenant=tenant)
    _subscribe(tenant)  # Django caches it on ``tenant``
    assert loaded_relation(tenant, "billing_subscription") is NOT_LOADED
    Subscription.objects.filter(tenant=tenant).update(status="canceled")
    row = subscription_get(tenant=tenant)
    assert row is not None
    assert row.status == "canceled"
    assert tenant_state(tenant).status == "needs_plan"


def test_card_tenant_reads_state_plan_and_last_sync_in_one_query(django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    tenant = TenantFactory()
    QontoConnectionFactory(tenant=tenant)
    _subscribe(tenant)
    started = timezone.now() - timedelta(minutes=3)
    SyncRun.objects.create(tenant=tenant, status=SyncRun.Status.SUCCEEDED, started_at=started)
    SyncRun.objects.create(tenant=tenant, status=SyncRun.Status.FAILED, started_at=timezone.now())
    with django_assert_num_queries(1):
        loaded = card_tenant(tenant.portal_id)
        assert loaded is not None
        state = tenant_state(loaded)
        assert subscription_get(tenant=loaded) is not None
    assert state.status == "active"
    assert loaded.last_qonto_read_at == started  # the last SUCCEEDED run, not the failed one


def test_a_loaded_but_unverified_connection_is_not_a_connection() -> None:
    tenant = TenantFactory()
    QontoConnectionFactory(tenant=tenant, verified_at=None)
    _subscribe(tenant)
    loaded = card_tenant(tenant.portal_id)
    assert loaded is not None
    assert verified_connection(loaded) is None
    assert tenant_state(loaded).status == "needs_qonto"
    # The same answer as the query path.
    assert tenant_state(Tenant.objects.get(pk=tenant.pk)).status == "needs_qonto"


def test_card_tenant_without_plan_or_connection_and_uninstalled() -> None:
    tenant = TenantFactory()
    loaded = card_tenant(tenant.portal_id)
    assert loaded is not None
    assert subscription_get(tenant=loaded) is None
    assert loaded.last_qonto_read_at is None
    assert tenant_state(loaded).status == "needs_qonto"
    assert QontoConnection.objects.filter(tenant=tenant).count() == 0
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.UNINSTALLED)
    assert card_tenant(tenant.portal_id) is None
