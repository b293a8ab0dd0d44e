"""The app's declared scopes, as HubSpot knows them from the app project (``app-hsmeta.json``).

The simulator keeps its own copy on purpose: a test compares it with the project file, and the
consent page refuses an install asking for anything else (hubspot.md §2.1).
"""

from __future__ import annotations

# Required: hubspot.md §2.4 minus `timeline`, `crm.objects.contacts.read` and `tax_rates.read`, plus
# `crm.schemas.companies.read` (the SIRET property picker lists company properties) and `automation`
# (the workflow action's callbacks) — the same list
# as hubspot_app/card/app-hsmeta.template.json (a test compares them). Optional: `companies.write`
# (§2.4: write a tax id back) and `contacts.write`, which HubSpot's notes API requires (its docs list
# only the contacts scopes for notes; decision 4 writes one note per invoice), `tax_rates.read`
# (without it, lines use the tenant's VAT rate) and `settings.users.read` (is this user a super
# admin? without it, nobody may change the Qonto connection from our pages).
APP_SCOPES: dict[str, list[str]] = {
    "required": [
        "oauth",
        "crm.objects.deals.read",
        "crm.objects.deals.write",
        "crm.objects.companies.read",
        "crm.objects.line_items.read",
        "crm.schemas.deals.read",
        "crm.schemas.deals.write",
        "crm.schemas.companies.read",
        "crm.schemas.companies.write",
        "automation",
    ],
    "optional": [
        "crm.objects.companies.write",
        "crm.objects.contacts.write",
        "tax_rates.read",
        "settings.users.read",
    ],
}
DECLARED_SCOPES: frozenset[str] = frozenset(APP_SCOPES["required"] + APP_SCOPES["optional"])
SCOPE_LABELS_FR: dict[str, str] = {
    "oauth": "Identifier votre compte HubSpot",
    "crm.objects.deals.read": "Lire les transactions",
    "crm.objects.deals.write": "Mettre à jour les transactions (champs Qonto)",
    "crm.objects.companies.read": "Lire les entreprises",
    "crm.objects.companies.write": "Mettre à jour les entreprises (numéro SIRET)",
    "crm.objects.line_items.read": "Lire les lignes de produits",
    "crm.objects.contacts.write": "Ajouter des notes sur les transactions",
    "crm.schemas.deals.read": "Lire les propriétés des transactions",
    "crm.schemas.deals.write": "Créer les propriétés Qonto des transactions",
    "crm.schemas.companies.read": "Lire les propriétés des entreprises (choix du champ SIRET)",
    "crm.schemas.companies.write": "Créer la propriété SIRET des entreprises",
    "settings.users.read": "Vérifier qui est super administrateur du compte",
    "tax_rates.read": "Lire la bibliothèque de taux de TVA",
    "automation": "Ajouter l'action « Créer une facture Qonto » aux workflows",
}
