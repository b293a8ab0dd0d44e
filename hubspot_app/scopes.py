"""The OAuth scopes the app asks for at install.

They must be exactly the ``requiredScopes`` (and ``optionalScopes``) of
``card/app-hsmeta.template.json`` (which becomes the uploaded ``src/app/app-hsmeta.json``): HubSpot refuses
an install whose requested scopes differ from the app's configuration (spec/hubspot.md §2.1).
A test compares the two.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

REQUIRED_SCOPES: tuple[str, ...] = (
    "oauth",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.companies.read",
    "crm.objects.line_items.read",
    "crm.schemas.deals.read",
    "crm.schemas.deals.write",
    "crm.schemas.companies.read",
    "crm.schemas.companies.write",
    # Completing a blocked workflow action (our "Créer une facture Qonto") [seen: HubSpot's callback
    # endpoints ask for it]; a portal installed before it was added grants it at its next consent.
    "automation",
)


# Asked as ``optional_scope``: granted when the installer may grant them, the install goes on
# without (HubSpot documents required, conditionally required and optional scopes in the app's
# ``auth``) [doc]. Must equal the template's ``optionalScopes`` (HubSpot refuses undeclared ones).
# - Notes on deals need a contacts scope (HubSpot's notes API lists only crm.objects.contacts.*)
#   [doc]: without it the deal's properties are written, not the note.
# - ``tax_rates.read`` resolves a line item's ``hs_tax_rate_group_id`` to its percentage: without
#   it the line uses the tenant's VAT rate (the rate of lines without a tax group anyway).
# - ``settings.users.read`` tells whether a user is a super admin (``GET /settings/users/…/{id}``,
#   ``superAdmin``) [doc]: without it nobody can change the Qonto connection or disconnect from our
#   pages, since we cannot check who may (hubspot_app.settings_access).
NOTES_SCOPE = "crm.objects.contacts.write"
TAX_RATES_SCOPE = "tax_rates.read"
USERS_SCOPE = "settings.users.read"
OPTIONAL_SCOPES: tuple[str, ...] = (NOTES_SCOPE, TAX_RATES_SCOPE, USERS_SCOPE)


def missing_scopes(granted: list[str] | tuple[str, ...]) -> list[str]:
    """Required scopes absent from what HubSpot says it granted (order kept)."""
    have = set(granted)
    return [s for s in REQUIRED_SCOPES if s not in have]


def optional_scope_granted(tenant: Any, scope: str) -> bool:
    """Whether the tenant's install granted ``scope`` (as far as we know: see ``…_denied``)."""
    from hubspot_app.models import HubSpotInstallation

    scopes = HubSpotInstallation.objects.filter(tenant=tenant).values_list("scopes", flat=True).first()
    return scope in (scopes or [])


def optional_scope_denied(tenant: Any, scope: str, *, detail: str = "") -> bool:
    """HubSpot answered 403 for a call that needs ``scope``: record it once, so it is never retried.

    The scope is taken out of the installation's granted scopes (a reinstall that grants it puts it
    back). Returns True the first time, False when it was already recorded.
    """
    from django.db import transaction

    from hubspot_app.models import HubSpotInstallation

    with transaction.atomic():
        installation = HubSpotInstallation.objects.select_for_update().filter(tenant=tenant).first()
        if installation is None or scope not in (installation.scopes or []):
            return False
        installation.scopes = [s for s in installation.scopes if s != scope]
        installation.save(update_fields=["scopes", "updated_at"])
    logger.warning(
        "portal %s: HubSpot refused a call needing %s (not granted%s); recorded, not retried until reinstall",
        getattr(tenant, "portal_id", "?"),
        scope,
        f": {detail[:200]}" if detail else "",
    )
    return True
