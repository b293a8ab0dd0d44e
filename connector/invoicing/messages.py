"""The texts of every problem, in French and in English (``Problem`` renders them).

``code`` and ``field`` are stable; these texts are not: change them freely, in both languages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Money:
    """A message parameter printed as an amount in euros ("6 000,00 €" / "€6,000.00")."""

    value: Decimal


@dataclass(frozen=True)
class Localized:
    """A message parameter that reads differently per language (a country name, a list of fields)."""

    fr: str
    en: str


MessageParam = str | Decimal | Money | Localized

_FIX_IN_LINE = "sur la ligne de produit de la transaction dans HubSpot"
_FIX_IN_LINE_EN = "on the deal's line item in HubSpot"
_FR_RATES = "20 %, 10 %, 8,5 %, 5,5 %, 2,1 % ou 0 %"
_EN_RATES = "20%, 10%, 8.5%, 5.5%, 2.1% or 0%"

# One table, both languages: template key → {"fr", "en"}. The key is the problem code, or
# "<code>:<variant>" when the same problem is worded differently depending on where it is.
MESSAGES: dict[str, dict[str, str]] = {
    "missing_company": {
        "fr": "Aucune entreprise principale n'est associée à la transaction « {deal} » : associez "
        "l'entreprise à facturer à la transaction dans HubSpot (libellé « Principale »).",
        "en": "No primary company is associated with the deal “{deal}”: associate the company to "
        "invoice with the deal in HubSpot (label “Primary”).",
    },
    "missing_company_name": {
        "fr": "L'entreprise associée à la transaction (n° {company_id}) n'a pas de nom : renseignez "
        "la propriété « Nom de l'entreprise » dans HubSpot.",
        "en": "The company associated with the deal (ID {company_id}) has no name: fill in its "
        "“Company name” property in HubSpot.",
    },
    "missing_address": {
        "fr": "L'adresse de l'entreprise « {company} » est manquante : renseignez la propriété "
        "« Adresse postale » de l'entreprise dans HubSpot.",
        "en": "The address of the company “{company}” is missing: fill in the company's “Street "
        "address” property in HubSpot.",
    },
    "missing_city": {
        "fr": "La ville de l'entreprise « {company} » est manquante : renseignez la propriété "
        "« Ville » de l'entreprise dans HubSpot.",
        "en": "The city of the company “{company}” is missing: fill in the company's “City” "
        "property in HubSpot.",
    },
    "missing_zip": {
        "fr": "Le code postal de l'entreprise « {company} » est manquant : renseignez la propriété "
        "« Code postal » de l'entreprise dans HubSpot.",
        "en": "The postal code of the company “{company}” is missing: fill in the company's "
        "“Postal code” property in HubSpot.",
    },
    "invalid_zip": {
        "fr": "Le code postal de l'entreprise « {company} » (« {value} ») n'est pas valide : un code "
        "postal français compte 5 chiffres. Corrigez la propriété « Code postal » de l'entreprise "
        "dans HubSpot.",
        "en": "The postal code of the company “{company}” (“{value}”) is not valid: a French postal "
        "code has 5 digits. Correct the company's “Postal code” property in HubSpot.",
    },
    "missing_country": {
        "fr": "Le pays de l'entreprise « {company} » est manquant : renseignez la propriété "
        "« Pays/région » de l'entreprise dans HubSpot.",
        "en": "The country of the company “{company}” is missing: fill in the company's "
        "“Country/Region” property in HubSpot.",
    },
    "unknown_country": {
        "fr": "Le pays de l'entreprise « {company} » (« {value} ») n'est pas reconnu : corrigez la "
        "propriété « Pays/région » de l'entreprise dans HubSpot (par exemple « France » ou "
        "« Belgique »).",
        "en": "The country of the company “{company}” (“{value}”) is not recognised: correct the "
        "company's “Country/Region” property in HubSpot (for example “France” or “Belgium”).",
    },
    "missing_siret": {
        "fr": "Le SIRET de l'entreprise « {company} » est manquant : renseignez la propriété "
        "« {property} » de l'entreprise dans HubSpot (14 chiffres).",
        "en": "The SIRET of the company “{company}” is missing: fill in the company's “{property}” "
        "property in HubSpot (14 digits).",
    },
    "invalid_siret": {
        "fr": "Le SIRET de l'entreprise « {company} » (« {value} ») n'est pas valide : vérifiez les "
        "14 chiffres de la propriété « {property} » de l'entreprise dans HubSpot.",
        "en": "The SIRET of the company “{company}” (“{value}”) is not valid: check the 14 digits "
        "of the company's “{property}” property in HubSpot.",
    },
    "siren_not_allowed": {
        "fr": "L'entreprise « {company} » a un SIREN (9 chiffres) au lieu d'un SIRET : renseignez "
        "le SIRET à 14 chiffres dans la propriété « {property} » de l'entreprise dans HubSpot, ou "
        "acceptez le SIREN dans les réglages du connecteur.",
        "en": "The company “{company}” has a SIREN (9 digits) instead of a SIRET: enter the 14-digit "
        "SIRET in the company's “{property}” property in HubSpot, or accept SIRENs in the "
        "connector's settings.",
    },
    "invalid_vat_number": {
        "fr": "Le numéro de TVA de l'entreprise « {company} » (« {value} ») n'est pas valide : "
        "corrigez-le dans HubSpot (lettres et chiffres, 20 caractères au plus).",
        "en": "The VAT number of the company “{company}” (“{value}”) is not valid: correct it in "
        "HubSpot (letters and digits, at most 20 characters).",
    },
    "currency_not_eur:deal": {
        "fr": "La transaction « {deal} » est en {value} : Qonto ne facture qu'en euros. Passez la "
        "devise de la transaction à EUR dans HubSpot.",
        "en": "The deal “{deal}” is in {value}: Qonto only invoices in euros. Set the deal's "
        "currency to EUR in HubSpot.",
    },
    "currency_not_eur:line": {
        "fr": "La ligne {n} « {line} » est en {value} : Qonto ne facture qu'en euros. Passez la "
        "devise de la ligne à EUR dans HubSpot.",
        "en": "Line {n} “{line}” is in {value}: Qonto only invoices in euros. Set the line item's "
        "currency to EUR in HubSpot.",
    },
    "missing_line_name": {
        "fr": f"La ligne {{n}} n'a pas de nom : renseignez le nom {_FIX_IN_LINE}.",
        "en": f"Line {{n}} has no name: enter a name {_FIX_IN_LINE_EN}.",
    },
    "invalid_quantity": {
        "fr": f"La quantité de la ligne {{n}} « {{line}} » (« {{value}} ») n'est pas valide : "
        f"indiquez un nombre positif {_FIX_IN_LINE}.",
        "en": f"The quantity of line {{n}} “{{line}}” (“{{value}}”) is not valid: enter a positive "
        f"number {_FIX_IN_LINE_EN}.",
    },
    "invalid_price": {
        "fr": f"Le prix unitaire de la ligne {{n}} « {{line}} » (« {{value}} ») n'est pas valide : "
        f"indiquez un montant positif ou nul {_FIX_IN_LINE}.",
        "en": f"The unit price of line {{n}} “{{line}}” (“{{value}}”) is not valid: enter an amount "
        f"of zero or more {_FIX_IN_LINE_EN}.",
    },
    "invalid_discount:percentage": {
        "fr": f"La remise de la ligne {{n}} « {{line}} » (« {{value}} ») n'est pas valide : "
        f"indiquez un pourcentage entre 0 et 100 {_FIX_IN_LINE}.",
        "en": f"The discount of line {{n}} “{{line}}” (“{{value}}”) is not valid: enter a "
        f"percentage between 0 and 100 {_FIX_IN_LINE_EN}.",
    },
    "invalid_discount:amount": {
        "fr": f"La remise de la ligne {{n}} « {{line}} » (« {{value}} ») n'est pas valide : "
        f"indiquez un montant par unité positif, au plus égal au prix unitaire, {_FIX_IN_LINE}.",
        "en": f"The discount of line {{n}} “{{line}}” (“{{value}}”) is not valid: enter a per-unit "
        f"amount of zero or more, no higher than the unit price, {_FIX_IN_LINE_EN}.",
    },
    "invalid_vat_rate:line": {
        "fr": f"Le taux de TVA de la ligne {{n}} « {{line}} » (« {{value}} % ») n'est pas un taux "
        f"français : choisissez {_FR_RATES} dans le taux de taxe de la ligne de produit dans HubSpot.",
        "en": f"The VAT rate of line {{n}} “{{line}}” (“{{value}}%”) is not a French rate: choose "
        f"{_EN_RATES} as the line item's tax rate in HubSpot.",
    },
    "invalid_vat_rate:settings": {
        "fr": f"Le taux de TVA par défaut du connecteur ({{value}} %) n'est pas un taux français : "
        f"choisissez {_FR_RATES} dans les réglages du connecteur.",
        "en": f"The connector's default VAT rate ({{value}}%) is not a French rate: choose "
        f"{_EN_RATES} in the connector's settings.",
    },
    "missing_iban": {
        "fr": "Aucun compte de réception (IBAN) n'est choisi pour les factures : choisissez-le dans "
        "les réglages du connecteur.",
        "en": "No receiving account (IBAN) is chosen for invoices: choose it in the connector's settings.",
    },
    "invalid_amount": {
        "fr": "Le montant de la transaction « {deal} » (« {value} ») n'est pas valide : indiquez un "
        "montant positif dans HubSpot.",
        "en": "The amount of the deal “{deal}” (“{value}”) is not valid: enter a positive amount in HubSpot.",
    },
    "no_lines_or_amount": {
        "fr": "La transaction « {deal} » n'a ni ligne de produit ni montant : ajoutez des lignes de "
        "produit ou renseignez le montant de la transaction dans HubSpot.",
        "en": "The deal “{deal}” has neither line items nor an amount: add line items or fill in "
        "the deal's amount in HubSpot.",
    },
    "amount_too_large": {
        "fr": "Le montant de la transaction « {deal} » dépasse {value} : vérifiez les quantités et "
        "les prix dans HubSpot.",
        "en": "The amount of the deal “{deal}” is over {value}: check the quantities and prices in HubSpot.",
    },
    "invalid_kind": {
        "fr": "Type de facture inconnu (« {value} ») : choisissez une facture complète, un acompte "
        "ou un solde.",
        "en": "Unknown invoice type (“{value}”): choose a full invoice, a deposit or a balance.",
    },
    "missing_percentage": {
        "fr": "Indiquez le pourcentage de l'acompte, entre 1 et 99.",
        "en": "Enter the deposit percentage, between 1 and 99.",
    },
    "invalid_percentage": {
        "fr": "Le pourcentage de l'acompte (« {value} ») n'est pas valide : indiquez un nombre entre "
        "1 et 99, avec au plus deux décimales.",
        "en": "The deposit percentage (“{value}”) is not valid: enter a number between 1 and 99, "
        "with at most two decimals.",
    },
    "unexpected_percentage": {
        "fr": "Un pourcentage ne s'indique que pour un acompte : retirez-le pour une facture "
        "complète ou un solde.",
        "en": "A percentage only applies to a deposit: remove it for a full invoice or a balance.",
    },
    "invoice_exists": {
        "fr": "La transaction « {deal} » a déjà une facture ({value}) : pour la refacturer en "
        "entier, supprimez ou annulez d'abord cette facture dans Qonto ; sinon, facturez le solde.",
        "en": "The deal “{deal}” already has an invoice ({value}): to invoice it in full again, "
        "first delete or cancel that invoice in Qonto; otherwise, invoice the balance.",
    },
    "deposit_exceeds_deal": {
        "fr": "Un acompte de {percentage} % ({amount} HT) dépasserait le montant de la transaction "
        "« {deal} » : il ne reste que {left} HT à facturer.",
        "en": "A {percentage}% deposit ({amount} excl. VAT) would exceed the amount of the deal "
        "“{deal}”: only {left} excl. VAT is left to invoice.",
    },
    "deposit_too_small": {
        "fr": "Un acompte de {percentage} % sur la transaction « {deal} » vaudrait 0,00 € une fois arrondi "
        "au centime : choisissez un pourcentage plus élevé ou facturez la transaction en entier.",
        "en": "A {percentage}% deposit on the deal “{deal}” would be €0.00 once rounded to the cent: "
        "choose a higher percentage or invoice the deal in full.",
    },
    "invoice_exists:generic": {
        "fr": "Cette transaction a déjà une facture en cours : pour la refacturer en entier, supprimez "
        "ou annulez d'abord cette facture dans Qonto ; sinon, facturez le solde.",
        "en": "This deal already has a live invoice: to invoice it in full again, first delete or "
        "cancel that invoice in Qonto; otherwise, invoice the balance.",
    },
    # The tenant's state is explained by the caller, already in the user's language.
    "tenant_not_operational": {"fr": "{message}", "en": "{message}"},
    # --- VAT outside France (``vat_regime``): blocking problems -------------------------------
    "vat_mode_required": {
        "fr": "« {company} » est établie {country_in} : choisissez la TVA de la facture (autoliquidation "
        "ou TVA française) avant de facturer.",
        "en": "“{company}” is established {country_in}: choose the invoice's VAT (reverse charge or "
        "French VAT) before invoicing.",
    },
    "invalid_vat_mode": {
        "fr": "Mode de TVA inconnu (« {value} ») : choisissez « autoliquidation » ou « TVA française ».",
        "en": "Unknown VAT mode (“{value}”): choose “reverse charge” or “French VAT”.",
    },
    "reverse_charge_unavailable:missing": {
        "fr": "L'autoliquidation demande le numéro de TVA intracommunautaire de « {company} » "
        "({country}) : renseignez la propriété « N° de TVA intracommunautaire » de l'entreprise dans "
        "HubSpot.",
        "en": "Reverse charge needs the EU VAT number of “{company}” ({country}): fill in the company's "
        "“N° de TVA intracommunautaire” property in HubSpot.",
    },
    "reverse_charge_unavailable:invalid": {
        "fr": "Le numéro de TVA intracommunautaire de « {company} » (« {value} ») n'est pas un numéro "
        "valide de ce pays ({country}) : corrigez la propriété « N° de TVA intracommunautaire » de "
        "l'entreprise dans HubSpot pour facturer en autoliquidation.",
        "en": "The EU VAT number of “{company}” (“{value}”) is not a valid number of its country "
        "({country}): correct the company's “N° de TVA intracommunautaire” property in HubSpot to "
        "invoice with reverse charge.",
    },
    "reverse_charge_unavailable:outside": {
        "fr": "L'autoliquidation intracommunautaire ne s'applique qu'aux clients établis dans un autre "
        "pays de l'Union européenne ; « {company} » est établie {country_in}.",
        "en": "EU reverse charge only applies to clients established in another EU country; "
        "“{company}” is established {country_in}.",
    },
    "vat_mode_mismatch:reverse": {
        "fr": "Les factures déjà faites pour la transaction « {deal} » sont en autoliquidation : "
        "celle-ci doit l'être aussi (un solde déduit les acomptes taux par taux).",
        "en": "The invoices already made for the deal “{deal}” use reverse charge: this one must too "
        "(a balance deducts the deposits rate by rate).",
    },
    "vat_mode_mismatch:standard": {
        "fr": "Les factures déjà faites pour la transaction « {deal} » sont avec la TVA française : "
        "celle-ci doit l'être aussi (un solde déduit les acomptes taux par taux).",
        "en": "The invoices already made for the deal “{deal}” use French VAT: this one must too "
        "(a balance deducts the deposits rate by rate).",
    },
    # --- The Qonto client ---------------------------------------------------------------------
    "shared_tax_id": {
        "fr": "Le SIRET {value} de « {company} » est déjà celui du client Qonto « {other} », facturé "
        "depuis une autre entreprise HubSpot : la facture irait à ce client. Si c'est bien la même "
        "société, confirmez-le ; sinon, corrigez le SIRET dans HubSpot.",
        "en": "The SIRET {value} of “{company}” already belongs to the Qonto client “{other}”, invoiced "
        "from another HubSpot company: the invoice would go to that client. If it is the same company, "
        "confirm it; otherwise, correct the SIRET in HubSpot.",
    },
    "deal_not_ready": {
        "fr": "Complétez d'abord les informations de la transaction « {deal} » listées ci-dessus.",
        "en": "First complete the information of the deal “{deal}” listed above.",
    },
    "invoice_outcome_unknown": {
        "fr": "Qonto n'a pas pu confirmer la création d'une facture de la transaction « {deal} » : "
        "elle y existe peut-être. Réessayez d'abord cette facture (bouton Réessayer) : le connecteur "
        "la cherche dans Qonto avant de créer quoi que ce soit, jamais deux fois.",
        "en": "Qonto could not confirm the creation of an invoice of the deal “{deal}”: it may exist "
        "there. Retry that invoice first (Retry button): the connector looks for it in Qonto before "
        "creating anything, never twice.",
    },
    "nothing_left": {
        "fr": "Il ne reste rien à facturer sur la transaction « {deal} » : les factures existantes "
        "couvrent déjà tout son montant.",
        "en": "Nothing is left to invoice on the deal “{deal}”: the existing invoices already cover "
        "its whole amount.",
    },
}


# Warnings: they do not block the invoice; the card shows them before the click (same table, so
# ``Problem`` renders them).
MESSAGES.update(
    {
        "client_in_eu": {
            "fr": "« {company} » est établie {country_in} (n° de TVA {value}) : la TVA française ne "
            "s'applique normalement pas à une prestation de services pour un client professionnel de l'UE. "
            "Choisissez l'autoliquidation (0 %, mention légale ajoutée à la facture) ou la TVA française.",
            "en": "“{company}” is established {country_in} (VAT number {value}): French VAT does not "
            "normally apply to services for a business client in the EU. Choose reverse charge (0%, the "
            "legal mention is added to the invoice) or French VAT.",
        },
        "client_in_eu_without_vat_number": {
            "fr": "« {company} » est établie {country_in}, mais HubSpot n'a pas de numéro de TVA "
            "intracommunautaire valide pour elle : la facture serait établie avec la TVA française. Pour "
            "l'autoliquidation, renseignez la propriété « N° de TVA intracommunautaire » de l'entreprise.",
            "en": "“{company}” is established {country_in}, but HubSpot has no valid EU VAT number for it: "
            "the invoice would carry French VAT. For reverse charge, fill in the company's “N° de TVA "
            "intracommunautaire” property.",
        },
        "client_outside_eu": {
            "fr": "« {company} » est établie hors de l'Union européenne ({country}) : la facture sera "
            "établie avec la TVA française. Vérifiez avec votre expert-comptable qu'elle s'applique.",
            "en": "“{company}” is established outside the European Union ({country}): the invoice will carry "
            "French VAT. Check with your accountant that it applies.",
        },
        "client_differs_in_qonto": {
            "fr": "La fiche de « {company} » dans Qonto diffère de HubSpot ({value}) : la facture reprend "
            "la fiche Qonto, que le connecteur ne modifie pas. Corrigez-la dans Qonto si HubSpot a raison.",
            "en": "The Qonto record of “{company}” differs from HubSpot ({value}): the invoice uses "
            "the Qonto record, which the connector does not change. Correct it in Qonto if HubSpot is "
            "right.",
        },
    }
)
