"""Is this particular request acceptable for this deal, given the invoices already made?

Kinds: ``full`` (the whole deal, once), ``deposit`` (a percentage, deposits ≤ the deal), ``balance``
(what is left after every live invoice).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from connector.invoicing.amounts import (
    ONE,
    ZERO,
    parse_decimal,
    round_cents,
)
from connector.invoicing.deal_checks import analyse_deal, deal_label
from connector.invoicing.lines import subtotals_by_vat
from connector.invoicing.messages import MessageParam, Money
from connector.invoicing.problems import Problem
from connector.invoicing.snapshot import (
    DealSnapshot,
    InvoiceKind,
    PriorInvoice,
    TenantInvoiceSettings,
)
from connector.invoicing.vat_regime import with_vat_mode

# ---------------------------------------------------------------------------------------------
# The request


def parse_percentage(raw: Decimal | str | int | None) -> Decimal | None:
    """A deposit percentage as sent by the card → Decimal in [1, 99] with ≤ 2 decimals, else ``None``."""
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, Decimal):
        value: Decimal | None = raw if raw.is_finite() else None
    elif isinstance(raw, int):
        value = Decimal(raw)
    else:
        value = parse_decimal(raw)
    if value is None or not ONE <= value <= Decimal(99):
        return None
    try:
        if value != value.quantize(Decimal("0.01")):
            return None
    except InvalidOperation:  # pragma: no cover - values in [1, 99] always quantize
        return None
    return value.normalize() if value == value.to_integral_value() else value


def _percentage_given(raw: Decimal | str | int | None) -> bool:
    return raw is not None and not (isinstance(raw, str) and not raw.strip())


def live_priors(prior_invoices: Iterable[PriorInvoice]) -> list[PriorInvoice]:
    return [p for p in prior_invoices if p.live]


def deposit_by_vat(full_by_vat: Mapping[str, Decimal], percentage: Decimal) -> dict[str, Decimal]:
    """Each rate's share of a p % deposit: round_half_up(rate subtotal × p / 100)."""
    return {rate: round_cents(amount * percentage.scaleb(-2)) for rate, amount in full_by_vat.items()}


def remaining_by_vat(
    full_by_vat: Mapping[str, Decimal], priors: Iterable[PriorInvoice]
) -> dict[str, Decimal]:
    """Per rate: the full subtotal minus what live priors already invoiced at that rate (may be < 0)."""
    remaining = dict(full_by_vat)
    for prior in priors:
        if prior.live:
            for rate, amount in prior.subtotal_by_vat.items():
                remaining[rate] = remaining.get(rate, ZERO) - amount
    return remaining


def prior_label(prior: PriorInvoice) -> str:
    return prior.number or "brouillon"


def validate_request(
    kind: InvoiceKind | str,
    percentage: Decimal | str | int | None,
    deal: DealSnapshot,
    prior_invoices: Iterable[PriorInvoice],
    *,
    settings: TenantInvoiceSettings | None = None,
    vat_mode: str = "standard",
    retrying: bool = False,
) -> list[Problem]:
    """Is this invoice, on top of the deal's existing ones, acceptable?

    ``prior_invoices`` are the deal's other invoices (never the one being built). Amount checks
    compare excl. VAT with the full invoice the deal would give; they are skipped when the deal
    itself has problems (``validate_deal`` reports those). Pass ``settings`` so lines without a tax
    rate are grouped at the tenant's rate, as the builder will: the cent-exact checks need it; and
    ``vat_mode`` ("reverse_charge" groups every line at 0 %, as the builder will then).

    A prior whose outcome is unknown (it may be in Qonto) refuses any *new* invoice until it has
    been retried — the retry searches Qonto before anything else. A retry (``retrying``) of another
    row is checked with such priors counted as invoiced, so two of them never block each other.
    """
    label = deal_label(deal)
    prior_invoices = list(prior_invoices)
    if not retrying and any(p.outcome_unknown for p in prior_invoices):
        return [Problem("invoice_outcome_unknown", "kind", {"deal": label})]
    try:
        kind = InvoiceKind(kind)
    except ValueError:
        return [Problem("invalid_kind", "kind", {"value": str(kind)})]

    problems: list[Problem] = []
    pct: Decimal | None = None
    if kind is InvoiceKind.DEPOSIT:
        if not _percentage_given(percentage):
            problems.append(Problem("missing_percentage", "percentage"))
        else:
            pct = parse_percentage(percentage)
            if pct is None:
                problems.append(
                    Problem("invalid_percentage", "percentage", {"value": str(percentage).strip()})
                )
    elif _percentage_given(percentage):
        problems.append(Problem("unexpected_percentage", "percentage"))

    priors = live_priors(prior_invoices)
    effective = settings or TenantInvoiceSettings(
        vat_rate_percent=Decimal(20), payment_terms_days=0, iban="", allow_siren=True
    )
    if vat_mode != "standard":
        deal, effective = with_vat_mode(deal, effective, vat_mode)
    deal_problems, lines = analyse_deal(deal, effective)
    full_by_vat = subtotals_by_vat(lines)
    full_subtotal = sum(full_by_vat.values(), ZERO)
    invoiced = sum((p.subtotal for p in priors), ZERO)
    remaining = remaining_by_vat(full_by_vat, priors)
    nothing_left = (
        full_subtotal <= ZERO or invoiced >= full_subtotal or all(v <= ZERO for v in remaining.values())
    )

    if kind is InvoiceKind.FULL and priors:
        # One message for a deal that is fully invoiced, whatever the button: never advise a balance
        # that would then answer "nothing left".
        if not deal_problems and nothing_left:
            problems.append(Problem("nothing_left", "kind", {"deal": label}))
            return problems
        existing = ", ".join(prior_label(p) for p in priors)
        problems.append(Problem("invoice_exists", "kind", {"deal": label, "value": existing}))
        return problems
    if deal_problems or kind is InvoiceKind.FULL:
        return problems
    if nothing_left:
        problems.append(Problem("nothing_left", "kind", {"deal": label}))
        return problems

    if kind is InvoiceKind.DEPOSIT and pct is not None:
        deposit = deposit_by_vat(full_by_vat, pct)
        amount = sum(deposit.values(), ZERO)
        if amount <= ZERO:
            problems.append(Problem("deposit_too_small", "percentage", {"deal": label, "percentage": pct}))
        # Per rate as well as in total, so the balance never has to go negative on one rate.
        elif invoiced + amount > full_subtotal or any(deposit[r] > remaining[r] for r in deposit):
            left = max(ZERO, full_subtotal - invoiced)
            params: dict[str, MessageParam] = {
                "deal": label,
                "percentage": pct,
                "amount": Money(amount),
                "left": Money(left),
            }
            problems.append(Problem("deposit_exceeds_deal", "percentage", params))
    return problems
