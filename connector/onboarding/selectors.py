"""Reads for the onboarding and settings pages."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _

from connector.exceptions import HubSpotError
from connector.models import QontoConnection, Tenant
from hubspot_app.properties import SIRET_PROPERTY_NAME

logger = logging.getLogger(__name__)

COMPANY_PROPERTIES_CACHE_S = 300
# Property types a SIRET can be kept in.
_SIRET_TYPES = {"string", "number"}


def qonto_connection_for(tenant: Tenant) -> QontoConnection | None:
    return QontoConnection.objects.filter(tenant=tenant).first()


def qonto_is_connected(tenant: Tenant) -> bool:
    return QontoConnection.objects.filter(tenant=tenant, verified_at__isnull=False).exists()


def onboarding_next_url(tenant: Tenant) -> str:
    """Where a freshly signed-in user goes: Connect Qonto until it is done, then the settings."""
    return reverse("tenant_settings") if qonto_is_connected(tenant) else reverse("onboarding_qonto")


def company_property_choices(tenant: Tenant) -> list[tuple[str, str]] | None:
    """(name, label) of the company properties that may hold the SIRET; ``None`` if HubSpot fails.

    Our own ``qonto_siret`` comes first even before the setup has created it. Cached a few
    minutes so the page and its POST see the same list without calling HubSpot twice.
    """
    from hubspot_app.client import HubSpotClient

    key = f"onboarding:company-properties:{tenant.pk}"
    cached = cache.get(key)
    if cached is None:
        try:
            properties = HubSpotClient(tenant).list_company_properties()
        except HubSpotError as exc:
            logger.warning("company properties of portal %s unavailable: %s", tenant.portal_id, exc.code)
            return None
        cached = sorted(
            (
                (str(p["name"]), str(p.get("label") or p["name"]))
                for p in properties
                if p.get("name")
                and p.get("name") != SIRET_PROPERTY_NAME
                and p.get("type") in _SIRET_TYPES
                and not p.get("hidden")
                and not p.get("calculated")
            ),
            key=lambda item: item[1].casefold(),
        )
        cache.set(key, cached, COMPANY_PROPERTIES_CACHE_S)
    choices = [(SIRET_PROPERTY_NAME, _("SIRET – propriété créée par Qonto Connector (qonto_siret)"))]
    choices += [(name, f"{label} ({name})") for name, label in cached]
    if tenant.siret_property not in {name for name, _label in choices}:
        choices.append(
            (
                tenant.siret_property,
                _("%(name)s (introuvable dans HubSpot)") % {"name": tenant.siret_property},
            )
        )
    return choices


def company_property_choices_forget(tenant: Tenant) -> None:
    cache.delete(f"onboarding:company-properties:{tenant.pk}")


PIPELINES_CACHE_S = 300


def deal_stage_choices(tenant: Tenant) -> list[tuple[str, list[tuple[str, str]]]] | None:
    """The portal's deal stages grouped by pipeline, for a select: ``[(pipeline label, [("pipeline:stage",
    stage label), …]), …]``; ``None`` when HubSpot cannot be read. Cached a few minutes (page + POST)."""
    from hubspot_app.automation_client import list_deal_pipelines
    from hubspot_app.client import HubSpotClient

    key = f"onboarding:deal-pipelines:{tenant.pk}"
    cached = cache.get(key)
    if cached is None:
        try:
            pipelines = list_deal_pipelines(HubSpotClient(tenant))
        except HubSpotError as exc:
            logger.warning("deal pipelines of portal %s unavailable: %s", tenant.portal_id, exc.code)
            return None
        cached = [(p.label, [(f"{p.id}:{s.id}", s.label) for s in p.stages]) for p in pipelines if p.stages]
        cache.set(key, cached, PIPELINES_CACHE_S)
    return [(label, list(stages)) for label, stages in cached]
