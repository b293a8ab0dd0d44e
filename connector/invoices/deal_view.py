"""What the card says about a deal, decided once on the server so every card says the same thing.

From the HubSpot snapshot, the tenant's settings and our invoice rows (no I/O beyond the database):

- ``actions``: for each button (full, deposit, balance), enabled or not and the one reason why not
  (the same sentence a click would get as a 422, so the card never invites a click that fails);
- ``status``: one headline for the deal (``ready``, ``not_ready``, ``fully_invoiced``,
  ``tenant_blocked``), so a fully invoiced deal never reads "prête";
- ``vat``: the client's VAT situation and the modes the card may offer (``vat_regime``);
- ``warnings``: what to know before invoicing (client abroad, Qonto's client differs, SIRET shared,
  what e-invoicing will require).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from connector.invoices.client_checks import client_warnings
from connector.invoices.selectors import prior_invoices
from connector.invoicing.deal_checks import company_label, deal_label
from connector.invoicing.einvoicing import einvoicing_warnings
from connector.invoicing.problems import Problem
from connector.invoicing.request_checks import validate_request
from connector.invoicing.snapshot import DealSnapshot, InvoiceKind, TenantInvoiceSettings
from connector.invoicing.vat_regime import (
    VatMode,
    locked_mode,
    reverse_charge_mention,
    vat_situation,
    vat_warnings,
)
from connector.models import Invoice, Tenant

KINDS = (InvoiceKind.FULL, InvoiceKind.DEPOSIT, InvoiceKind.BALANCE)


@dataclasses.dataclass(frozen=True)
class ActionState:
    enabled: bool
    reason: Problem | None = None


@dataclasses.dataclass(frozen=True)
class DealView:
    status: str  # ready | not_ready | fully_invoiced | tenant_blocked
    status_problem: Problem | None
    actions: dict[str, ActionState]
    vat: dict[str, Any]
    warnings: list[Problem]


def deal_view(
    *,
    tenant: Tenant,
    snapshot: DealSnapshot,
    settings: TenantInvoiceSettings,
    invoices: list[Invoice],
    deal_problems: list[Problem],
    tenant_problem: Problem | None,
) -> DealView:
    priors = prior_invoices(invoices)
    situation = vat_situation(snapshot.company)
    locked = locked_mode(priors)
    mode = locked or situation.default_mode
    company = company_label(snapshot.company) if snapshot.company else ""
    vat = {
        "regime": situation.regime.value,
        "country": situation.country,
        "vat_number": situation.vat_number,
        "choice_required": situation.choice_required,
        "modes": [m.value for m in situation.modes],
        "default_mode": mode.value,
        "locked_mode": locked.value if locked else None,
        "reverse_charge_mention": reverse_charge_mention(situation.vat_number)
        if situation.vat_number
        else None,
    }
    warnings = (
        vat_warnings(situation, company=company)
        + client_warnings(tenant=tenant, company=snapshot.company)
        + einvoicing_warnings(snapshot.company, allow_siren=settings.allow_siren)
    )

    if tenant_problem is not None:
        blocked = ActionState(False, tenant_problem)
        return DealView("tenant_blocked", tenant_problem, dict.fromkeys(KINDS, blocked), vat, warnings)
    if deal_problems:
        not_ready = ActionState(False, Problem("deal_not_ready", "deal", {"deal": deal_label(snapshot)}))
        return DealView("not_ready", None, dict.fromkeys(KINDS, not_ready), vat, warnings)

    mode_for_checks = mode if mode in situation.modes or locked else VatMode.STANDARD
    actions: dict[str, ActionState] = {}
    for kind in KINDS:
        # A deposit is possible as soon as something is left: the balance's check says whether it is.
        checked = InvoiceKind.BALANCE if kind is InvoiceKind.DEPOSIT else kind
        problems = validate_request(
            checked, None, snapshot, priors, settings=settings, vat_mode=mode_for_checks
        )
        actions[kind] = ActionState(not problems, problems[0] if problems else None)
    if all(a.reason is not None and a.reason.code == "nothing_left" for a in actions.values()):
        return DealView("fully_invoiced", actions[InvoiceKind.BALANCE].reason, actions, vat, warnings)
    return DealView("ready", None, actions, vat, warnings)
