"""The deal company's Qonto client: found (tax id, VAT number, exact name) or created, once."""

from __future__ import annotations

from typing import Any

from connector.invoicing.builder import client_fingerprint
from connector.invoicing.client_payload import names_match
from connector.models import Invoice, QontoClientLink, Tenant
from connector.qonto_client import QontoClient


def ensure_qonto_client(tenant: Tenant, qonto: QontoClient, inv: Invoice) -> str:
    """The deal company's Qonto client: cached link, else search (tax id, VAT, exact name), else create.

    The client's billing data is updated in Qonto when HubSpot's changed since we last sent it.
    """
    payload: dict[str, Any] = inv.payload["client"]
    company_id = str(inv.payload.get("company_id", ""))
    fingerprint = client_fingerprint(payload)
    link = QontoClientLink.objects.filter(tenant=tenant, hubspot_company_id=company_id).first()
    if link is not None:
        if link.fingerprint != fingerprint:
            qonto.update_client(link.qonto_client_id, payload)
            link.fingerprint = fingerprint
            link.save(update_fields=["fingerprint", "updated_at"])
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
    if found is not None:
        client_id = str(found["id"])
        qonto.update_client(client_id, payload)  # make sure currency, locale and address are complete
    else:
        created = qonto.create_client(
            payload, idempotency_key=f"client-{tenant.pk}-{company_id}-{fingerprint[:16]}"
        )
        client_id = str(created["id"])
    QontoClientLink.objects.update_or_create(
        tenant=tenant,
        hubspot_company_id=company_id,
        defaults={
            "qonto_client_id": client_id,
            "tax_id": str(payload.get("tax_identification_number", ""))[:30],
            "fingerprint": fingerprint,
        },
    )
    return client_id
