"""Is the tenant operational, and with which invoice settings (a selector: reads only)."""

from __future__ import annotations

import dataclasses
from datetime import date

from django.utils import timezone

from connector.invoicing.snapshot import TenantInvoiceSettings
from connector.models import NOT_LOADED, QontoConnection, Tenant, loaded_relation


@dataclasses.dataclass(frozen=True)
class TenantState:
    """What the card shows about the tenant (card-api.md ``tenant``)."""

    status: str  # active | grace | needs_qonto | needs_plan | suspended | uninstalled
    plan: str | None
    message: str | None

    @property
    def operational(self) -> bool:
        return self.status in ("active", "grace")


_TENANT_MESSAGES = {
    "needs_qonto": {
        "fr": "Connectez votre compte Qonto dans les réglages pour créer des factures.",
        "en": "Connect your Qonto account in the settings to create invoices.",
    },
    "needs_plan": {
        "fr": "Choisissez un abonnement dans les réglages pour créer des factures.",
        "en": "Choose a plan in the settings to create invoices.",
    },
    "suspended": {
        "fr": "Le connecteur est suspendu : contactez le support ou vérifiez votre abonnement.",
        "en": "The connector is suspended: contact support or check your subscription.",
    },
    "uninstalled": {
        "fr": "L'application a été désinstallée : réinstallez-la depuis HubSpot.",
        "en": "The app was uninstalled: reinstall it from HubSpot.",
    },
}


def tenant_state(tenant: Tenant, *, lang: str = "fr") -> TenantState:
    from django.utils import translation

    from billing.selectors import tenant_can_invoice

    if tenant.status == Tenant.Status.UNINSTALLED:
        return TenantState("uninstalled", None, _TENANT_MESSAGES["uninstalled"][lang])
    if tenant.status == Tenant.Status.SUSPENDED:
        return TenantState("suspended", None, _TENANT_MESSAGES["suspended"][lang])
    connection = verified_connection(tenant)
    with translation.override(lang):
        decision = tenant_can_invoice(tenant)
    if connection is None:
        return TenantState("needs_qonto", decision.plan, _TENANT_MESSAGES["needs_qonto"][lang])
    if decision.allowed:
        status = "grace" if decision.status == "grace" else "active"
        return TenantState(status, decision.plan, decision.message if status == "grace" else None)
    if decision.status == "suspended":
        return TenantState(
            "suspended", decision.plan, decision.message or _TENANT_MESSAGES["suspended"][lang]
        )
    return TenantState("needs_plan", decision.plan, decision.message or _TENANT_MESSAGES["needs_plan"][lang])


def verified_connection(tenant: Tenant) -> QontoConnection | None:
    """The tenant's verified Qonto connection: the one loaded with it (the card's read), else a query."""
    loaded = loaded_relation(tenant, "qonto_connection")
    if loaded is NOT_LOADED:
        return QontoConnection.objects.filter(tenant=tenant, verified_at__isnull=False).first()
    return loaded if loaded is not None and loaded.verified_at is not None else None


def invoice_settings_for(tenant: Tenant) -> TenantInvoiceSettings:
    connection = tenant.qonto_connection
    return TenantInvoiceSettings(
        vat_rate_percent=connection.vat_rate,
        payment_terms_days=tenant.payment_terms_days,
        iban=connection.iban,
        allow_siren=tenant.allow_siren,
        siret_property=tenant.siret_property,
    )


def today_in_paris() -> date:
    return timezone.localdate()  # TIME_ZONE is Europe/Paris
