"""Property-based tests of the builder (issue 9): whatever the deal, the amounts hold together."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.invoicing import (
    ALLOWED_FRACTIONS,
    BuiltInvoice,
    DealSnapshot,
    LineItemSnapshot,
    TenantInvoiceSettings,
    build_invoice,
    percent_to_fraction,
    validate_deal,
    validate_request,
)
from tests.connector.invoicing.helpers import (
    CLIENT_ID,
    IBAN,
    REFERENCE,
    TODAY,
    company,
    floats_in,
    prior_from,
)

D = Decimal
# No example database: the suite must not write into the working tree.
PROPERTY_SETTINGS = settings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
FRENCH_PERCENTS = ["20", "10", "8.5", "5.5", "2.1", "0"]
DECIMAL_STRING = re.compile(r"^\d+(\.\d+)?$")
MONEY_STRING = re.compile(r"^\d+\.\d\d$")


def decimals(low: int, high: int, places: int) -> st.SearchStrategy[str]:
    """Decimal strings in [low, high] × 10^-places, as HubSpot would send them."""
    return st.integers(low, high).map(lambda n: f"{D(n).scaleb(-places):f}")


@st.composite
def line_items(draw: st.DrawFn, index: int) -> LineItemSnapshot:
    places = draw(st.sampled_from([0, 2, 3]))
    price = draw(decimals(0, 10_000 * 10**places, places))  # up to 10 000 €: 20 lines stay realistic
    discount = draw(st.one_of(st.none(), decimals(0, int(D(price) * 100), 2)))
    return LineItemSnapshot(
        id=str(index),
        name=draw(st.text(alphabet="abcdeé ABC—'-", min_size=1, max_size=70).filter(lambda s: s.strip())),
        description=draw(st.one_of(st.none(), st.text(max_size=50))),
        quantity=draw(st.one_of(decimals(1, 1_000, 0), decimals(1, 1_000_000, 3))),
        price=price,
        discount=discount,
        discount_percentage=draw(st.one_of(st.none(), decimals(0, 10_000, 2))),
        tax_rate_percent=draw(st.one_of(st.none(), st.sampled_from(FRENCH_PERCENTS))),
        currency=draw(st.sampled_from([None, "EUR"])),
    )


@st.composite
def deals(draw: st.DrawFn) -> DealSnapshot:
    count = draw(st.integers(1, 20))
    return DealSnapshot(
        id="1",
        name=draw(st.text(alphabet="abc éà—-", min_size=1, max_size=60).filter(lambda s: s.strip())),
        amount=None,
        currency="EUR",
        company=company(),
        line_items=tuple(draw(line_items(i)) for i in range(count)),
    )


tenant_settings = st.builds(
    TenantInvoiceSettings,
    vat_rate_percent=st.sampled_from([D(p) for p in FRENCH_PERCENTS]),
    payment_terms_days=st.integers(0, 90),
    iban=st.just(IBAN),
    allow_siren=st.just(False),
)


def build(deal: DealSnapshot, config: TenantInvoiceSettings, **kwargs: object) -> BuiltInvoice:
    return build_invoice(deal, config, client_id=CLIENT_ID, reference=REFERENCE, today=TODAY, **kwargs)


def qonto_amounts(payload: dict[str, object]) -> tuple[Decimal, Decimal, dict[str, Decimal]]:
    """What Qonto computes from the body, in cents (spec §9), written independently of the builder."""

    def half_up(value: Decimal) -> Decimal:
        return value.quantize(D(1), rounding=ROUND_HALF_UP)

    subtotal = vat = D(0)
    by_rate: dict[str, Decimal] = {}
    for item in payload["items"]:
        cents = half_up(D(item["unit_price"]["value"]) * 100)
        net = D(item["quantity"]) * cents
        if "discount" in item:
            net *= 1 - D(item["discount"]["value"])
        line_subtotal = half_up(net)
        subtotal += line_subtotal
        vat += half_up(line_subtotal * D(item["vat_rate"]))
        by_rate[item["vat_rate"]] = by_rate.get(item["vat_rate"], D(0)) + line_subtotal / 100
    return subtotal / 100, vat / 100, by_rate


def check_invoice(built: BuiltInvoice) -> None:
    payload = built.payload
    assert floats_in(payload) == []
    assert payload["status"] == "draft"
    assert built.total == built.subtotal + built.vat
    assert built.subtotal == sum((x.subtotal for x in built.lines), D(0))
    assert built.vat == sum((x.vat for x in built.lines), D(0))
    assert built.total == sum((x.total for x in built.lines), D(0))
    assert sum(built.vat_breakdown.values(), D(0)) == built.subtotal
    for x in built.lines:
        assert min(x.subtotal, x.vat, x.unit_price) >= 0
    for item in payload["items"]:
        assert isinstance(item, dict)
        assert item["vat_rate"] in ALLOWED_FRACTIONS
        assert 1 <= len(item["title"]) <= 40
        assert len(item.get("description") or "") <= 1800
        assert DECIMAL_STRING.match(item["quantity"])
        assert MONEY_STRING.match(item["unit_price"]["value"])
    subtotal, vat, by_rate = qonto_amounts(payload)
    assert (subtotal, vat) == (built.subtotal, built.vat)
    assert by_rate == built.vat_breakdown


@PROPERTY_SETTINGS
@given(deal=deals(), config=tenant_settings)
def test_full_invoice_amounts_hold_together(deal: DealSnapshot, config: TenantInvoiceSettings) -> None:
    assert validate_deal(deal, config) == []
    check_invoice(build(deal, config, kind="full"))


@PROPERTY_SETTINGS
@given(amount=decimals(1, 10**11, 2), config=tenant_settings)
def test_deal_amount_invoice(amount: str, config: TenantInvoiceSettings) -> None:
    deal = DealSnapshot(id="1", name="Deal", amount=amount, currency="EUR", company=company())
    built = build(deal, config, kind="full")
    check_invoice(built)
    assert built.subtotal == D(amount)


@PROPERTY_SETTINGS
@given(
    deal=deals(),
    config=tenant_settings,
    steps=st.lists(
        st.tuples(decimals(100, 9900, 2), st.sampled_from(["draft", "unpaid", "paid", "canceled"])),
        min_size=1,
        max_size=4,
    ),
)
def test_deposits_then_balance_invoice_exactly_the_full_subtotal_per_rate(
    deal: DealSnapshot, config: TenantInvoiceSettings, steps: list[tuple[str, str]]
) -> None:
    full = build(deal, config, kind="full")
    priors = []
    for n, (percentage, status) in enumerate(steps):
        if validate_request("deposit", percentage, deal, priors, settings=config):
            continue  # refused, as the card would be: exceeds the deal, or nothing left
        deposit = build(deal, config, kind="deposit", percentage=percentage, prior_invoices=priors)
        check_invoice(deposit)
        priors.append(prior_from(deposit, id=f"d{n}", number=None, status=status))
        live = [p for p in priors if p.live]
        for rate, amount in full.vat_breakdown.items():
            assert sum((p.subtotal_by_vat.get(rate, D(0)) for p in live), D(0)) <= amount

    live = [p for p in priors if p.live]
    invoiced = {
        rate: sum((p.subtotal_by_vat.get(rate, D(0)) for p in live), D(0)) for rate in full.vat_breakdown
    }
    if validate_request("balance", None, deal, priors, settings=config):
        assert invoiced == full.vat_breakdown  # refused only because nothing is left
        return
    balance = build(deal, config, kind="balance", prior_invoices=priors)
    check_invoice(balance)
    assert [d["id"] for d in balance.deducted] == [p.id for p in live if p.subtotal > 0]
    for rate, amount in full.vat_breakdown.items():
        assert invoiced[rate] + balance.vat_breakdown.get(rate, D(0)) == amount
    assert set(balance.vat_breakdown) <= set(full.vat_breakdown)


@PROPERTY_SETTINGS
@given(percent=decimals(0, 100_000, 3))
def test_percent_to_fraction_is_exact_and_plain(percent: str) -> None:
    fraction = percent_to_fraction(D(percent))
    assert DECIMAL_STRING.match(fraction)
    assert D(fraction) * 100 == D(percent)
    assert fraction == "0" or not fraction.endswith("0")
