"""The OAuth scopes the app asks for at install.

They must be exactly the ``requiredScopes`` (and ``optionalScopes``) of
``card/app-hsmeta.template.json`` (which becomes the uploaded ``src/app/app-hsmeta.json``): HubSpot refuses
an install whose requested scopes differ from the app's configuration (spec/hubspot.md §2.1).
A test compares the two.
"""

from __future__ import annotations

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
    "tax_rates.read",
)


# Asked as ``optional_scope``: granted when the installer may grant them, the install goes on
# without. Must equal app-hsmeta.json ``optionalScopes`` (HubSpot refuses undeclared ones).
# Notes on deals need the contacts write scope (HubSpot documents notes under contacts).
OPTIONAL_SCOPES: tuple[str, ...] = ("crm.objects.contacts.write",)


def missing_scopes(granted: list[str] | tuple[str, ...]) -> list[str]:
    """Required scopes absent from what HubSpot says it granted (order kept)."""
    have = set(granted)
    return [s for s in REQUIRED_SCOPES if s not in have]
