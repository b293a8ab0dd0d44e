"""The pure heart of invoicing: HubSpot snapshots in, Qonto bodies, problems and summaries out.

No I/O here (no HTTP, no database, no settings, no clock): callers read HubSpot and the database,
pass plain values (``today`` included), and send what comes back.
"""

from connector.invoicing.builder import (
    BuiltInvoice,
    ComputedLine,
    build_invoice,
    subtotal_by_vat_from_payload,
)
from connector.invoicing.client_payload import build_client_payload, client_fingerprint, names_match
from connector.invoicing.countries import client_locale, country_to_iso
from connector.invoicing.deal_checks import validate_deal
from connector.invoicing.messages import MESSAGES
from connector.invoicing.problems import InvoiceNotBuildable, Problem
from connector.invoicing.request_checks import parse_percentage, validate_request
from connector.invoicing.snapshot import (
    INACTIVE_STATUSES,
    CompanySnapshot,
    DealSnapshot,
    InvoiceKind,
    JSONObject,
    JSONValue,
    LineItemSnapshot,
    PriorInvoice,
    TenantInvoiceSettings,
    is_live,
)
from connector.invoicing.summary import (
    InvoiceView,
    Totals,
    deal_totals,
    invoice_summary_line,
    invoice_summary_lines,
    is_overdue,
    note_html,
)
from connector.invoicing.vat import ALLOWED_FRACTIONS, percent_to_fraction

__all__ = [
    "ALLOWED_FRACTIONS",
    "INACTIVE_STATUSES",
    "MESSAGES",
    "BuiltInvoice",
    "CompanySnapshot",
    "ComputedLine",
    "DealSnapshot",
    "InvoiceKind",
    "InvoiceNotBuildable",
    "InvoiceView",
    "JSONObject",
    "JSONValue",
    "LineItemSnapshot",
    "PriorInvoice",
    "Problem",
    "TenantInvoiceSettings",
    "Totals",
    "build_client_payload",
    "build_invoice",
    "client_fingerprint",
    "client_locale",
    "country_to_iso",
    "deal_totals",
    "invoice_summary_line",
    "invoice_summary_lines",
    "is_live",
    "is_overdue",
    "names_match",
    "note_html",
    "parse_percentage",
    "percent_to_fraction",
    "subtotal_by_vat_from_payload",
    "validate_deal",
    "validate_request",
]
