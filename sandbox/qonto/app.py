"""``QontoSim``: Qonto's Business API v2 under ``/qonto``, assembled from one mixin per resource."""

from __future__ import annotations

from werkzeug.routing import Rule

from sandbox.qonto.credit_notes import CreditNotes
from sandbox.qonto.limits import Limits
from sandbox.qonto.web import WebApp


class QontoSim(Limits, WebApp, CreditNotes):
    """Qonto Business API v2 simulator (see the package docstring for the choices it makes)."""

    name = "qonto"
    prefix = "/qonto"
    rules = [
        Rule("/v2/organization", endpoint="api_get_organization", methods=["GET"]),
        Rule("/v2/bank_accounts", endpoint="api_list_bank_accounts", methods=["GET"]),
        Rule("/v2/clients", endpoint="api_list_clients", methods=["GET"]),
        Rule("/v2/clients", endpoint="api_create_client", methods=["POST"]),
        Rule("/v2/clients/<client_id>", endpoint="api_get_client", methods=["GET"]),
        Rule("/v2/clients/<client_id>", endpoint="api_update_client", methods=["PATCH"]),
        Rule("/v2/clients/<client_id>", endpoint="api_delete_client", methods=["DELETE"]),
        Rule("/v2/client_invoices", endpoint="api_list_invoices", methods=["GET"]),
        Rule("/v2/client_invoices", endpoint="api_create_invoice", methods=["POST"]),
        Rule("/v2/client_invoices/<invoice_id>", endpoint="api_get_invoice", methods=["GET"]),
        Rule("/v2/client_invoices/<invoice_id>", endpoint="api_update_invoice", methods=["PATCH"]),
        Rule("/v2/client_invoices/<invoice_id>", endpoint="api_delete_invoice", methods=["DELETE"]),
        Rule("/v2/client_invoices/<invoice_id>/finalize", endpoint="api_finalize", methods=["POST"]),
        Rule("/v2/client_invoices/<invoice_id>/mark_as_paid", endpoint="api_mark_as_paid", methods=["POST"]),
        Rule(
            "/v2/client_invoices/<invoice_id>/unmark_as_paid", endpoint="api_unmark_as_paid", methods=["POST"]
        ),
        Rule(
            "/v2/client_invoices/<invoice_id>/mark_as_canceled",
            endpoint="api_mark_as_canceled",
            methods=["POST"],
        ),
        Rule("/v2/client_invoices/<invoice_id>/send", endpoint="api_send", methods=["POST"]),
        Rule(
            "/v2/client_invoices/<invoice_id>/send_by_einvoice",
            endpoint="api_send_by_einvoice",
            methods=["POST"],
        ),
        Rule("/v2/credit_notes", endpoint="api_list_credit_notes", methods=["GET"]),
        Rule("/v2/credit_notes", endpoint="api_create_credit_note", methods=["POST"]),
        Rule("/v2/credit_notes/<credit_note_id>", endpoint="api_get_credit_note", methods=["GET"]),
        Rule("/v2/attachments/<attachment_id>", endpoint="api_get_attachment", methods=["GET"]),
        # Not Qonto's API: the demo "web app" and the fake PDF behind attachment URLs (no auth).
        Rule("/app", endpoint="app_index", methods=["GET"]),
        Rule("/app/<login>", endpoint="app_organization", methods=["GET"]),
        # The seller's page of one invoice, at the path the connector links to (QONTO_APP_BASE):
        # Qonto documents no web-app URL, so the layout is our assumption (connector/invoices/links.py).
        Rule(
            "/app/organizations/<login>/receivable-invoices/<invoice_id>",
            endpoint="app_invoice",
            methods=["GET"],
        ),
        Rule("/files/<attachment_id>", endpoint="app_file", methods=["GET"]),
    ]

    control_rules = [
        Rule("/", endpoint="ctl_summary", methods=["GET"]),
        Rule("/reset", endpoint="ctl_reset", methods=["POST"]),
        Rule("/state", endpoint="ctl_state", methods=["GET"]),
        Rule("/switches", endpoint="ctl_get_switches", methods=["GET"]),
        Rule("/switches", endpoint="ctl_set_switches", methods=["POST"]),
        Rule("/default_status", endpoint="ctl_default_status", methods=["POST"]),
        Rule("/organizations", endpoint="ctl_list_organizations", methods=["GET"]),
        Rule("/organizations", endpoint="ctl_seed_organization", methods=["POST"]),
        Rule("/organizations/<login>", endpoint="ctl_get_organization", methods=["GET"]),
        Rule("/organizations/<login>/bank_accounts", endpoint="ctl_add_bank_account", methods=["POST"]),
        Rule("/organizations/<login>/clients", endpoint="ctl_list_clients", methods=["GET"]),
        Rule("/organizations/<login>/clients", endpoint="ctl_seed_client", methods=["POST"]),
        Rule("/organizations/<login>/invoices", endpoint="ctl_list_invoices", methods=["GET"]),
        Rule("/organizations/<login>/bulk_invoices", endpoint="ctl_bulk_seed", methods=["POST"]),
        Rule("/organizations/<login>/touch", endpoint="ctl_touch", methods=["POST"]),
        Rule("/invoices/<invoice_id>", endpoint="ctl_get_invoice", methods=["GET"]),
        Rule("/invoices/<invoice_id>", endpoint="ctl_edit_draft", methods=["PATCH"]),
        Rule("/invoices/<invoice_id>", endpoint="ctl_delete_draft", methods=["DELETE"]),
        Rule("/invoices/<invoice_id>/edit", endpoint="ctl_edit_draft", methods=["POST"]),
        Rule("/invoices/<invoice_id>/delete", endpoint="ctl_delete_draft", methods=["POST"]),
        Rule("/invoices/<invoice_id>/finalize", endpoint="ctl_finalize", methods=["POST"]),
        Rule("/invoices/<invoice_id>/mark_as_paid", endpoint="ctl_mark_paid", methods=["POST"]),
        Rule("/invoices/<invoice_id>/unmark_as_paid", endpoint="ctl_unmark_paid", methods=["POST"]),
        Rule("/invoices/<invoice_id>/mark_as_canceled", endpoint="ctl_cancel", methods=["POST"]),
        Rule("/invoices/<invoice_id>/einvoicing_status", endpoint="ctl_einvoicing_status", methods=["POST"]),
        Rule("/invoices/<invoice_id>/credit_notes", endpoint="ctl_create_credit_note", methods=["POST"]),
        Rule("/organizations/<login>/credit_notes", endpoint="ctl_list_credit_notes", methods=["GET"]),
    ]
