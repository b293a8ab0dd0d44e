"""Fixtures shared by every test package."""

from __future__ import annotations

import pytest

from tests.factories import HubSpotInstallationFactory, QontoConnectionFactory, TenantFactory


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """Locks, rate limiters and cached prices must not leak from one test into the next."""
    try:
        from django.core.cache import cache

        cache.clear()
    except Exception:  # noqa: S110 - tests without Django settings (sandbox) have no cache
        pass


@pytest.fixture
def tenant(db):  # type: ignore[no-untyped-def]
    return TenantFactory()


@pytest.fixture
def connected_tenant(db):  # type: ignore[no-untyped-def]
    """A tenant with a HubSpot installation and a verified Qonto connection."""
    t = TenantFactory()
    HubSpotInstallationFactory(tenant=t)
    QontoConnectionFactory(tenant=t)
    return t
