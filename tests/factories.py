"""factory_boy factories shared by the test suite."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from connector.models import Deal, Invoice, QontoConnection, Tenant
from hubspot_app.models import HubSpotInstallation
from hubspot_app.scopes import OPTIONAL_SCOPES, REQUIRED_SCOPES


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant

    portal_id = factory.Sequence(lambda n: 10_000_000 + n)
    name = factory.Sequence(lambda n: f"Portail {n}")
    hub_domain = factory.LazyAttribute(lambda o: f"portal-{o.portal_id}.hubspot.com")


class QontoConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = QontoConnection

    tenant = factory.SubFactory(TenantFactory)
    organization_slug = factory.Sequence(lambda n: f"org-{n}-4242")
    secret_key = factory.Sequence(lambda n: f"qsk_test_secret_{n:08d}")
    vat_rate = Decimal("20.00")
    iban = "FR7616798000010000005663951"
    legal_name = "Agence Démo SAS"
    verified_at = factory.LazyFunction(timezone.now)


class HubSpotInstallationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HubSpotInstallation

    tenant = factory.SubFactory(TenantFactory)
    access_token = factory.Sequence(lambda n: f"access-token-{n:06d}-abcdefghijklmnop")
    refresh_token = factory.Sequence(lambda n: f"na1-{n:04d}-aaaa-bbbb-cccc-dddddddddddd")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=30))
    scopes = factory.LazyFunction(lambda: [*REQUIRED_SCOPES, *OPTIONAL_SCOPES])  # all granted
    installer_email = "admin@example.fr"
    installed_at = factory.LazyFunction(timezone.now)


def lumiere_unpaid_invoice(tenant: Tenant, key: str) -> Invoice:
    """The support admin's example: deal 9001 "Refonte" and its unpaid invoice F-2026-0042 of
    14 017,00 € (``key`` names its idempotency key and reference)."""
    deal = Deal.objects.create(
        tenant=tenant, hubspot_deal_id="9001", name="Refonte", amount=Decimal("11680.83")
    )
    return Invoice.objects.create(
        tenant=tenant,
        deal=deal,
        hubspot_deal_id="9001",
        kind=Invoice.Kind.FULL,
        status=Invoice.Status.UNPAID,
        idempotency_key=f"k-{key}",
        reference=f"Refonte QC-{key}",
        number="F-2026-0042",
        subtotal_amount=Decimal("11680.83"),
        vat_amount=Decimal("2336.17"),
        total_amount=Decimal("14017.00"),
    )
