"""HubSpot's standard (HubSpot-defined) property definitions per object type, as a new portal has them."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from sandbox.hubspot.model import DEFAULT_GROUPS, lastmod_property

DEAL_STAGES = [
    ("appointmentscheduled", "Rendez-vous programmé"),
    ("qualifiedtobuy", "Qualifié pour l'achat"),
    ("presentationscheduled", "Présentation programmée"),
    ("decisionmakerboughtin", "Décideur convaincu"),
    ("contractsent", "Contrat envoyé"),
    ("closedwon", "Conclu gagné"),
    ("closedlost", "Conclu perdu"),
]
CURRENCIES = ["EUR", "USD", "GBP", "CHF"]
PROPERTY_TYPES = ("string", "number", "date", "datetime", "enumeration", "bool", "phone_number")
FIELD_TYPES = (
    "text",
    "textarea",
    "number",
    "date",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "html",
    "file",
    "phonenumber",
    "calculation_equation",
)
FIELD_TYPES_BY_TYPE: dict[str, tuple[str, ...]] = {
    "string": ("text", "textarea", "html", "file", "phonenumber", "calculation_equation"),
    "number": ("number", "calculation_equation"),
    "date": ("date",),
    "datetime": ("date",),
    "enumeration": ("select", "radio", "checkbox", "booleancheckbox", "calculation_equation"),
    "bool": ("booleancheckbox", "calculation_equation"),
    "phone_number": ("phonenumber", "text"),
}
_HUBSPOT_DEFINED_AT = "2020-01-01T00:00:00.000Z"


def property_definition(
    name: str,
    label: str,
    type_: str,
    field_type: str,
    group: str,
    *,
    options: list[dict[str, Any]] | None = None,
    hubspot_defined: bool = True,
    read_only: bool = False,
    calculated: bool = False,
    external_options: bool = False,
    description: str = "",
    created_at: str = _HUBSPOT_DEFINED_AT,
) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": type_,
        "fieldType": field_type,
        "description": description,
        "groupName": group,
        "options": options or [],
        "displayOrder": -1,
        "calculated": calculated,
        "externalOptions": external_options,
        "hasUniqueValue": name == "hs_object_id",
        "hidden": False,
        "hubspotDefined": hubspot_defined,
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": read_only,
        },
        "formField": not read_only,
        "dataSensitivity": "non_sensitive",
        "createdAt": created_at,
        "updatedAt": created_at,
        "archived": False,
    }


def _options(values: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    return [
        {"label": label, "value": value, "displayOrder": i, "hidden": False, "description": ""}
        for i, (value, label) in enumerate(values)
    ]


# name, label, type, fieldType, extra
_STANDARD: dict[str, list[tuple[str, str, str, str, dict[str, Any]]]] = {
    "deals": [
        ("dealname", "Deal Name", "string", "text", {}),
        ("amount", "Amount", "number", "number", {}),
        ("closedate", "Close Date", "datetime", "date", {}),
        (
            "pipeline",
            "Pipeline",
            "enumeration",
            "select",
            {"options": _options([("default", "Sales Pipeline")])},
        ),
        ("dealstage", "Deal Stage", "enumeration", "radio", {"options": _options(DEAL_STAGES)}),
        (
            "deal_currency_code",
            "Currency",
            "enumeration",
            "select",
            {"options": _options((c, c) for c in CURRENCIES)},
        ),
        ("description", "Deal Description", "string", "textarea", {}),
        (
            "dealtype",
            "Deal Type",
            "enumeration",
            "radio",
            {
                "options": _options(
                    [("newbusiness", "New Business"), ("existingbusiness", "Existing Business")]
                )
            },
        ),
        ("hubspot_owner_id", "Deal owner", "enumeration", "select", {"external_options": True}),
    ],
    "companies": [
        ("name", "Company name", "string", "text", {}),
        ("domain", "Company Domain Name", "string", "text", {}),
        ("website", "Website URL", "string", "text", {}),
        ("address", "Street Address", "string", "text", {}),
        ("address2", "Street Address 2", "string", "text", {}),
        ("city", "City", "string", "text", {}),
        ("zip", "Postal Code", "string", "text", {}),
        ("state", "State/Region", "string", "text", {}),
        ("country", "Country/Region", "string", "text", {}),
        ("phone", "Phone Number", "string", "phonenumber", {}),
        ("industry", "Industry", "string", "text", {}),
        ("description", "Description", "string", "textarea", {}),
        ("numberofemployees", "Number of Employees", "number", "number", {}),
        ("hubspot_owner_id", "Company owner", "enumeration", "select", {"external_options": True}),
    ],
    "contacts": [
        ("firstname", "First Name", "string", "text", {}),
        ("lastname", "Last Name", "string", "text", {}),
        ("email", "Email", "string", "text", {}),
        ("phone", "Phone Number", "string", "phonenumber", {}),
        ("company", "Company Name", "string", "text", {}),
        ("jobtitle", "Job Title", "string", "text", {}),
        ("hubspot_owner_id", "Contact owner", "enumeration", "select", {"external_options": True}),
    ],
    "line_items": [
        ("name", "Name", "string", "text", {}),
        ("description", "Description", "string", "textarea", {}),
        ("quantity", "Quantity", "number", "number", {}),
        ("price", "Unit price", "number", "number", {}),
        ("amount", "Net price", "number", "number", {"read_only": True, "calculated": True}),
        ("discount", "Unit discount", "number", "number", {}),
        ("hs_discount_percentage", "Discount Percentage", "number", "number", {}),
        ("hs_tax_rate_group_id", "Tax rate", "string", "text", {}),
        ("hs_sku", "SKU", "string", "text", {}),
        ("hs_product_id", "Product ID", "string", "text", {}),
        ("hs_line_item_currency_code", "Currency", "string", "text", {}),
        ("hs_cost_of_goods_sold", "Unit cost", "number", "number", {}),
        ("hs_position_on_quote", "Position on quote", "number", "number", {}),
        (
            "recurringbillingfrequency",
            "Billing frequency",
            "enumeration",
            "select",
            {
                "options": _options(
                    [
                        ("weekly", "Weekly"),
                        ("biweekly", "Biweekly"),
                        ("monthly", "Monthly"),
                        ("quarterly", "Quarterly"),
                        ("per_six_months", "Every six months"),
                        ("annually", "Annually"),
                        ("per_two_years", "Every two years"),
                    ]
                )
            },
        ),
        ("hs_recurring_billing_period", "Term", "string", "text", {}),
        ("hs_recurring_billing_start_date", "Billing start date", "date", "date", {}),
        ("hs_recurring_billing_number_of_payments", "Number of payments", "number", "number", {}),
        (
            "hs_pre_discount_amount",
            "Pre-discount amount",
            "number",
            "number",
            {"read_only": True, "calculated": True},
        ),
        ("hs_total_discount", "Total discount", "number", "number", {"read_only": True, "calculated": True}),
        ("hs_tax_amount", "Tax amount", "number", "number", {"read_only": True, "calculated": True}),
        (
            "hs_post_tax_amount",
            "Net price after tax",
            "number",
            "number",
            {"read_only": True, "calculated": True},
        ),
        ("hs_margin", "Margin", "number", "number", {"read_only": True, "calculated": True}),
    ],
    "notes": [
        ("hs_note_body", "Note body", "string", "html", {}),
        ("hs_timestamp", "Activity date", "datetime", "date", {}),
        ("hs_attachment_ids", "Attachment IDs", "string", "text", {}),
        ("hubspot_owner_id", "Activity assigned to", "enumeration", "select", {"external_options": True}),
    ],
}


def standard_properties(otype: str) -> dict[str, dict[str, Any]]:
    group = DEFAULT_GROUPS[otype][0]
    out: dict[str, dict[str, Any]] = {}
    for name, label, type_, field_type, extra in _STANDARD[otype]:
        out[name] = property_definition(
            name,
            label,
            type_,
            field_type,
            group,
            options=copy.deepcopy(extra.get("options")),
            read_only=extra.get("read_only", False),
            calculated=extra.get("calculated", False),
            external_options=extra.get("external_options", False),
        )
    out["hs_object_id"] = property_definition(
        "hs_object_id", "Record ID", "number", "number", group, read_only=True
    )
    out["createdate"] = property_definition("createdate", "Create Date", "datetime", "date", group)
    lm = lastmod_property(otype)
    out[lm] = property_definition(lm, "Last Modified Date", "datetime", "date", group, read_only=True)
    return out
