"""The deal company's Qonto client: found (tax id, VAT number, exact name) or created, once.

An existing Qonto client is never overwritten with HubSpot's data: people may have corrected it in
Qonto, and the invoice PDF prints it. We only fill in what Qonto lacks to invoice it (currency,
locale, a complete billing address, missing tax ids) and record where Qonto and HubSpot disagree
(name, address, VAT number, SIRET) on the link and on the invoice, so the card says so.
"""

from __future__ import annotations

from typing import Any

from connector.invoicing.builder import client_fingerprint
from connector.invoicing.client_payload import client_differences, fill_blanks_patch, names_match
from connector.models import Invoice, QontoClientLink, Tenant
from connector.qonto_client import QontoClient


def ensure_qonto_client(tenant: Tenant, qonto: QontoClient, inv: Invoice) -> str:
    """The deal company's Qonto client: cached link, else search (tax id, VAT, exact name), else create.

    When HubSpot's data changed since we last looked (or Qonto differed then), the client is read
    again: blanks are filled, differences recorded; nothing Qonto holds is replaced.
    """
    payload: dict[str, Any] = inv.payload["client"]
    company_id = str(inv.payload.get("company_id", ""))
    fingerprint = client_fingerprint(payload)
    link = QontoClientLink.objects.filter(tenant=tenant, hubspot_company_id=company_id).first()
    if link is not None:
        if link.fingerprint != fingerprint or link.differences:
            existing = qonto.get_client(link.qonto_client_id)
            link.differences = _complete(qonto, link.qonto_client_id, payload, existing)
            link.fingerprint = fingerprint
            link.qonto_name = str(existing.get("name") or link.qonto_name)[:250]
            link.save(update_fields=["fingerprint", "differences", "qonto_name", "updated_at"])
        _note_on_invoice(inv, link.differences or [])
        return link.qonto_client_id
    found: dict[str, Any] | None = None
    if payload.get("tax_identification_number"):
        found = next(
            iter(qonto.search_clients(tax_identification_number=payload["tax_identification_number"])), None
        )
    if found is None and payload.get("vat_number"):
        found = next(iter(qonto.search_clients(vat_number=payload["vat_number"])), None)
    if found is None and len(payload.get("name", "")) >= 2:
        found = next(
            (
                c
                for c in qonto.search_clients(name=payload["name"])
                if names_match(c.get("name", ""), payload["name"])
            ),
            None,
        )
    differences: list[str] = []
    if found is not None:
        client_id = str(found["id"])
        differences = _complete(qonto, client_id, payload, found)
        qonto_name = str(found.get("name") or payload.get("name") or "")
    else:
        created = qonto.create_client(
            payload, idempotency_key=f"client-{tenant.pk}-{company_id}-{fingerprint[:16]}"
        )
        client_id = str(created["id"])
        qonto_name = str(created.get("name") or payload.get("name") or "")
    QontoClientLink.objects.update_or_create(
        tenant=tenant,
        hubspot_company_id=company_id,
        defaults={
            "qonto_client_id": client_id,
            "tax_id": str(payload.get("tax_identification_number", ""))[:30],
            "fingerprint": fingerprint,
            "qonto_name": qonto_name[:250],
            "differences": differences,
        },
    )
    _note_on_invoice(inv, differences)
    return client_id


def _complete(
    qonto: QontoClient, client_id: str, wanted: dict[str, Any], existing: dict[str, Any]
) -> list[str]:
    """PATCH only what the client lacks; return where it differs from HubSpot."""
    patch = fill_blanks_patch(wanted, existing)
    if patch:
        qonto.update_client(client_id, patch)
    return client_differences(wanted, existing)


def _note_on_invoice(inv: Invoice, differences: list[str]) -> None:
    """Keep the differences with the invoice: the card shows them next to it."""
    if (inv.payload or {}).get("client_differences", []) == differences:
        return
    inv.payload = {**inv.payload, "client_differences": differences}
    Invoice.objects.filter(pk=inv.pk).update(payload=inv.payload)
