"""The reference on the invoice reads as French for the customer; only our exact key reconciles."""

from __future__ import annotations

import re

from connector.invoicing.reference import (
    KEY_ALPHABET,
    invoice_reference,
    key_of_reference,
    new_key,
    reference_matches,
)
from connector.invoicing.text import PURCHASE_ORDER_MAX


def test_the_reference_is_the_deal_name_then_our_key() -> None:
    assert invoice_reference("Refonte du site", "QC-7K3M9X2P4T") == "Refonte du site — réf. QC-7K3M9X2P4T"


def test_a_deal_without_name_still_gets_a_readable_reference() -> None:
    assert invoice_reference("  ", "QC-7K3M9X2P4T") == "Réf. QC-7K3M9X2P4T"
    assert invoice_reference(None, "QC-7K3M9X2P4T") == "Réf. QC-7K3M9X2P4T"


def test_a_long_name_is_shortened_never_the_key() -> None:
    name = "Accompagnement à la transformation numérique du réseau de distribution " * 3
    reference = invoice_reference(name, "QC-7K3M9X2P4T")
    assert len(reference) <= PURCHASE_ORDER_MAX
    assert reference.endswith(" — réf. QC-7K3M9X2P4T")
    assert "…" in reference
    assert key_of_reference(reference) == "QC-7K3M9X2P4T"


def test_newlines_in_the_deal_name_become_spaces() -> None:
    assert invoice_reference("Refonte\n\tsite", "QC-0000000000") == "Refonte site — réf. QC-0000000000"


def test_new_keys_are_qc_and_ten_crockford_characters() -> None:
    keys = {new_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert re.fullmatch(rf"QC-[{KEY_ALPHABET}]{{10}}", key)


def test_the_key_of_an_old_reference_is_found() -> None:
    old = "HubSpot deal 5120345678 / QC-1a2b3c4d5e6f"
    assert key_of_reference(old) == "QC-1a2b3c4d5e6f"
    assert reference_matches(old, "QC-1a2b3c4d5e6f")


def test_only_the_exact_key_matches() -> None:
    ours = "Refonte — réf. QC-7K3M9X2P4T"
    assert reference_matches(ours, "QC-7K3M9X2P4T")
    assert not reference_matches(ours, "QC-7K3M9X2P4")  # a prefix is not the key
    assert not reference_matches("Refonte — réf. QC-7K3M9X2P4TZ", "QC-7K3M9X2P4T")  # nor a longer token
    assert not reference_matches(None, "QC-7K3M9X2P4T")
    assert not reference_matches(ours, None)
    assert not reference_matches("", "")


def test_a_deal_named_after_another_invoice_key_does_not_match_that_invoice() -> None:
    # Deal "QC-AAAAAAAAAA" got invoice QC-BBBBBBBBBB: only the last token is the invoice's key.
    reference = invoice_reference("QC-AAAAAAAAAA", "QC-BBBBBBBBBB")
    assert reference_matches(reference, "QC-BBBBBBBBBB")
    assert not reference_matches(reference, "QC-AAAAAAAAAA")
