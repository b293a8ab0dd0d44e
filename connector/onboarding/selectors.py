"""Reads for the onboarding and settings pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _
from stdnum.fr import siret as stdnum_siret

from connector.exceptions import HubSpotError, HubSpotRetryableError
from connector.invoicing.deal_checks import compact_id
from connector.models import QontoConnection, Tenant
from connector.ratelimit import hubspot_limiter
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


SIRET_GUESS_CACHE_S = 3600
# Names or labels that hint at a company identifier: asked first when a portal has more candidate
# properties than one search may return.
_ID_HINT = re.compile(r"siret|siren|tva|vat|tax|legal|regist|identif|num", re.I)


def siret_property_best(samples: Sequence[dict[str, Any]], candidates: Sequence[str]) -> str | None:
    """The candidate property whose sampled values are SIRETs (python-stdnum's check), or None.

    Wins the property with the most valid SIRETs, provided they are most of its filled values (a
    free-text "notes" property holding one SIRET among other things does not count); on a tie, the
    earlier candidate (our ``qonto_siret`` comes first).
    """
    best: tuple[int, str] | None = None
    for name in candidates:
        values = [str(s.get(name) or "").strip() for s in samples]
        filled = [v for v in values if v]
        valid = sum(1 for v in filled if stdnum_siret.is_valid(compact_id(v)))
        if valid and valid * 2 > len(filled) and (best is None or valid > best[0]):
            best = (valid, name)
    return best[1] if best else None


def siret_property_guess(tenant: Tenant, choices: list[tuple[str, str]] | None) -> str | None:
    """Which company property of this portal actually holds SIRETs, to preselect it in onboarding.

    One HubSpot search (100 recently modified companies, the candidate properties only), cached an
    hour per tenant, inside the portal's rate budget: when the budget has no slot right now, or
    HubSpot fails, no guess (the default stays) and nothing is cached.
    """
    if not choices:
        return None
    from hubspot_app.client import HubSpotClient
    from hubspot_app.crm import COMPANY_SAMPLE_MAX_PROPERTIES, sample_companies

    key = f"onboarding:siret-guess:{tenant.pk}"
    cached = cache.get(key)
    if cached is not None:
        return str(cached) or None
    names = [name for name, _label in choices]
    labels = dict(choices)
    hinted = [n for n in names if _ID_HINT.search(n) or _ID_HINT.search(str(labels[n]))]
    candidates = (hinted + [n for n in names if n not in hinted])[:COMPANY_SAMPLE_MAX_PROPERTIES]
    limiter = hubspot_limiter(tenant.portal_id)

    def within_budget() -> None:
        if limiter.try_acquire() > 0:
            raise HubSpotRetryableError("HubSpot rate budget of the portal is used up: no SIRET guess")

    try:
        samples = sample_companies(HubSpotClient(tenant, before_request=within_budget), candidates)
    except HubSpotError as exc:
        logger.info("SIRET property guess for portal %s skipped: %s", tenant.portal_id, exc.code)
        return None
    # Keep the choices' order (qonto_siret first) for ties.
    guess = siret_property_best(samples, [n for n in names if n in candidates])
    cache.set(key, guess or "", SIRET_GUESS_CACHE_S)
    return guess
