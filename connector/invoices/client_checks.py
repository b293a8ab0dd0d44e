"""What we know, without calling Qonto, about the Qonto client a deal's company will be billed to.

From our ``QontoClientLink`` rows (one per HubSpot company already invoiced):

- the fields where Qonto's client differs from HubSpot (Qonto's are kept: ``qonto_clients``);
- another HubSpot company with the same SIRET already billed to a Qonto client of another name:
  the next invoice would go to that client, so the user must confirm it first (``shared_tax_id``).
"""

from __future__ import annotations

from connector.invoicing.client_payload import differences_warning, names_match, shared_tax_id_problem
from connector.invoicing.deal_checks import company_label, company_tax_id
from connector.invoicing.problems import Problem
from connector.invoicing.snapshot import CompanySnapshot
from connector.models import QontoClientLink, Tenant


def shared_tax_id_conflict(*, tenant: Tenant, company: CompanySnapshot | None) -> Problem | None:
    """Another HubSpot company with this company's SIRET is billed to a Qonto client of another name."""
    if company is None:
        return None
    tax_id = company_tax_id(company, allow_siren=True)
    if tax_id is None:
        return None
    others = (
        QontoClientLink.objects.filter(tenant=tenant, tax_id=tax_id)
        .exclude(hubspot_company_id=company.id)
        .order_by("created_at")
    )
    name = company.name or ""
    for other in others:
        other_name = other.qonto_name
        if other_name and not names_match(other_name, name):
            return shared_tax_id_problem(company_label(company), tax_id, other_name)
    return None


def client_warnings(*, tenant: Tenant, company: CompanySnapshot | None) -> list[Problem]:
    """The card's warnings about the Qonto client, before the click."""
    if company is None:
        return []
    warnings: list[Problem] = []
    link = QontoClientLink.objects.filter(tenant=tenant, hubspot_company_id=company.id).first()
    if link is not None:
        warning = differences_warning(company_label(company), link.differences or [])
        if warning is not None:
            warnings.append(warning)
    conflict = shared_tax_id_conflict(tenant=tenant, company=company)
    if conflict is not None:
        warnings.append(conflict)
    return warnings
