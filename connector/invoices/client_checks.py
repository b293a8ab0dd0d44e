"""What we know, without calling Qonto, about the Qonto client a deal's company will be billed to.

From our ``QontoClientLink`` rows (one per HubSpot company already invoiced):

- the fields where Qonto's client differs from HubSpot (Qonto's are kept: ``qonto_clients``);
- another HubSpot company with the same SIRET already billed to a Qonto client of another name:
  the next invoice would go to that client, so the user must confirm it first (``shared_tax_id``).
"""

from __future__ import annotations

from django.db.models import Q

from connector.invoicing.client_payload import differences_warning, names_match, shared_tax_id_problem
from connector.invoicing.deal_checks import company_label, company_tax_id
from connector.invoicing.problems import Problem
from connector.invoicing.snapshot import CompanySnapshot
from connector.models import QontoClientLink, Tenant


def _links(tenant: Tenant, company: CompanySnapshot) -> tuple[str | None, list[QontoClientLink]]:
    """(the company's SIRET, the links of this company and of every company with that SIRET): one query."""
    tax_id = company_tax_id(company, allow_siren=True)
    match = (
        Q(hubspot_company_id=company.id) | Q(tax_id=tax_id) if tax_id else Q(hubspot_company_id=company.id)
    )
    return tax_id, list(QontoClientLink.objects.filter(match, tenant=tenant).order_by("created_at"))


def _conflict(company: CompanySnapshot, tax_id: str | None, links: list[QontoClientLink]) -> Problem | None:
    if tax_id is None:
        return None
    name = company.name or ""
    for other in links:
        if other.hubspot_company_id == company.id or other.tax_id != tax_id:
            continue
        if other.qonto_name and not names_match(other.qonto_name, name):
            return shared_tax_id_problem(company_label(company), tax_id, other.qonto_name)
    return None


def shared_tax_id_conflict(*, tenant: Tenant, company: CompanySnapshot | None) -> Problem | None:
    """Another HubSpot company with this company's SIRET is billed to a Qonto client of another name."""
    if company is None:
        return None
    tax_id, links = _links(tenant, company)
    return _conflict(company, tax_id, links)


def client_warnings(*, tenant: Tenant, company: CompanySnapshot | None) -> list[Problem]:
    """The card's warnings about the Qonto client, before the click."""
    if company is None:
        return []
    tax_id, links = _links(tenant, company)
    warnings: list[Problem] = []
    own = next((link for link in links if link.hubspot_company_id == company.id), None)
    if own is not None:
        warning = differences_warning(company_label(company), own.differences or [])
        if warning is not None:
            warnings.append(warning)
    conflict = _conflict(company, tax_id, links)
    if conflict is not None:
        warnings.append(conflict)
    return warnings
