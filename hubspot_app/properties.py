"""The HubSpot properties the connector owns: one group per object type, names prefixed ``qonto_``.

``DEAL_PROPERTIES`` is the single source of truth for the deal fields the invoice write-back
fills in (import the names from here, never retype them). The setup service
(``hubspot_app.services.hubspot_setup``) creates the group and each property once, and patches a
property only when its definition here differs from HubSpot's (spec/hubspot.md §5.7, §9.5).

Values written to HubSpot are strings: dates ``YYYY-MM-DD``, datetimes ISO 8601, numbers plain
decimals (``"1200.00"``), booleans ``"true"``/``"false"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

GROUP_NAME = "qonto_connector"
GROUP_LABEL = "Qonto"

DEAL_PROPERTY_GROUP: Mapping[str, Any] = MappingProxyType(
    {"name": GROUP_NAME, "label": GROUP_LABEL, "displayOrder": -1}
)
COMPANY_PROPERTY_GROUP: Mapping[str, Any] = DEAL_PROPERTY_GROUP

# Invoice statuses the deal can show (the card's statuses: spec/card-api.md).
INVOICE_STATUS_OPTIONS: tuple[tuple[str, str], ...] = (
    ("pending", "En attente"),
    ("draft", "Brouillon"),
    ("unpaid", "À payer"),
    ("paid", "Payée"),
    ("canceled", "Annulée"),
    ("failed", "Échec"),
)


def _prop(
    name: str, label: str, type_: str, field_type: str, description: str, **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "groupName": GROUP_NAME,
        "description": description,
        **extra,
    }


def _options(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    return [
        {"label": label, "value": value, "displayOrder": i, "hidden": False}
        for i, (value, label) in enumerate(pairs)
    ]


# The outcome of the last automatic invoice request (workflow action or stage rule), so workflows
# can branch on it: the status's internal values never change, the labels are French.
AUTOMATION_STATUS_PROPERTY = "qonto_automation_status"
AUTOMATION_MESSAGE_PROPERTY = "qonto_automation_message"
AUTOMATION_STATUS_OPTIONS: tuple[tuple[str, str], ...] = (
    ("success", "Facture créée"),
    ("failed", "Échec"),
)

DEAL_PROPERTIES: tuple[Mapping[str, Any], ...] = tuple(
    MappingProxyType(p)
    for p in (
        _prop(
            "qonto_last_invoice_id",
            "Qonto – ID de la dernière facture",
            "string",
            "text",
            "Identifiant Qonto de la dernière facture créée pour cette transaction.",
        ),
        _prop(
            "qonto_last_invoice_number",
            "Qonto – N° de la dernière facture",
            "string",
            "text",
            "Numéro attribué par Qonto à la finalisation (vide tant que la facture est un brouillon).",
        ),
        _prop(
            "qonto_last_invoice_status",
            "Qonto – Statut de la dernière facture",
            "enumeration",
            "select",
            "Statut de la dernière facture dans Qonto.",
            options=_options(INVOICE_STATUS_OPTIONS),
        ),
        _prop(
            "qonto_last_invoice_issue_date",
            "Qonto – Date d'émission",
            "date",
            "date",
            "Date d'émission de la dernière facture.",
        ),
        _prop(
            "qonto_last_invoice_due_date",
            "Qonto – Date d'échéance",
            "date",
            "date",
            "Date d'échéance de la dernière facture.",
        ),
        _prop(
            "qonto_last_invoice_amount",
            "Qonto – Montant de la dernière facture (TTC)",
            "number",
            "number",
            "Montant toutes taxes comprises de la dernière facture, en euros.",
        ),
        _prop(
            "qonto_last_invoice_url",
            "Qonto – Lien de paiement de la dernière facture",
            "string",
            "text",
            "Page de paiement Qonto du client pour la dernière facture, une fois finalisée.",
        ),
        _prop(
            "qonto_last_invoice_sent_at",
            "Qonto – Dernière facture envoyée le",
            "datetime",
            "date",
            "Quand Qonto a envoyé la dernière facture par e-mail depuis la carte.",
        ),
        _prop(
            "qonto_invoiced_amount",
            "Qonto – Montant facturé (HT)",
            "number",
            "number",
            "Total hors taxes des factures Qonto de cette transaction (hors annulées et en échec).",
        ),
        _prop(
            "qonto_paid_amount",
            "Qonto – Montant payé (HT)",
            "number",
            "number",
            "Total hors taxes des factures payées.",
        ),
        _prop(
            "qonto_left_to_invoice",
            "Qonto – Reste à facturer (HT)",
            "number",
            "number",
            "Montant de la transaction moins le montant facturé.",
        ),
        _prop(
            "qonto_overdue",
            "Qonto – Facture en retard",
            "bool",
            "booleancheckbox",
            "Une facture à payer a dépassé son échéance.",
            options=_options((("true", "Oui"), ("false", "Non"))),
        ),
        _prop(
            "qonto_invoices_summary",
            "Qonto – Récapitulatif des factures",
            "string",
            "textarea",
            "Une ligne par facture : numéro, type, montant, statut, échéance.",
        ),
        _prop(
            AUTOMATION_STATUS_PROPERTY,
            "Qonto – Résultat de l'automatisation",
            "enumeration",
            "select",
            "Résultat de la dernière demande automatique de facture (action de workflow ou règle de "
            "phase) : « Facture créée » ou « Échec ».",
            options=_options(AUTOMATION_STATUS_OPTIONS),
        ),
        _prop(
            AUTOMATION_MESSAGE_PROPERTY,
            "Qonto – Message de l'automatisation",
            "string",
            "textarea",
            "Ce qui a été fait, ou pourquoi aucune facture n'a été créée (ce qu'il faut corriger).",
        ),
        _prop(
            "qonto_last_sync_at",
            "Qonto – Dernière synchronisation",
            "datetime",
            "date",
            "Quand le connecteur a mis cette transaction à jour pour la dernière fois.",
        ),
    )
)

DEAL_PROPERTY_NAMES: tuple[str, ...] = tuple(p["name"] for p in DEAL_PROPERTIES)

# The company property holding the SIRET when the tenant keeps it in our own field
# (``Tenant.siret_property == SIRET_PROPERTY_NAME``).
SIRET_PROPERTY_NAME = "qonto_siret"
COMPANY_SIRET_PROPERTY: Mapping[str, Any] = MappingProxyType(
    _prop(
        SIRET_PROPERTY_NAME,
        "SIRET",
        "string",
        "text",
        "Numéro SIRET (14 chiffres) de l'entreprise, repris sur les factures Qonto.",
    )
)
# The client's EU VAT number, read for reverse charge (``connector.invoicing.vat_regime``) and sent
# to Qonto with the client. HubSpot has no standard VAT property [assumed: spec/hubspot.md §5.4].
VAT_NUMBER_PROPERTY_NAME = "qonto_vat_number"
COMPANY_VAT_NUMBER_PROPERTY: Mapping[str, Any] = MappingProxyType(
    _prop(
        VAT_NUMBER_PROPERTY_NAME,
        "N° de TVA intracommunautaire",
        "string",
        "text",
        "Numéro de TVA intracommunautaire de l'entreprise (ex. BE0403170701), repris sur les factures "
        "Qonto ; nécessaire pour facturer un client de l'UE en autoliquidation.",
    )
)
COMPANY_PROPERTIES: tuple[Mapping[str, Any], ...] = (COMPANY_SIRET_PROPERTY, COMPANY_VAT_NUMBER_PROPERTY)

# Fields compared with HubSpot's definition to decide whether a PATCH is needed.
COMPARED_FIELDS = ("label", "type", "fieldType", "groupName", "description")


def _option_pairs(options: Any) -> list[tuple[str, str]]:
    return [(str(o.get("value", "")), str(o.get("label", ""))) for o in options or [] if isinstance(o, dict)]


def definition_changes(wanted: Mapping[str, Any], existing: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``wanted`` that HubSpot's ``existing`` definition does not match (a PATCH body)."""
    changes = {k: wanted[k] for k in COMPARED_FIELDS if k in wanted and existing.get(k) != wanted[k]}
    if "options" in wanted and _option_pairs(existing.get("options")) != _option_pairs(wanted["options"]):
        changes["options"] = list(wanted["options"])
    return changes
