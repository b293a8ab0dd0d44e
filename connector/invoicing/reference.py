"""The reference printed on the invoice (Qonto ``purchase_order``) and our key inside it.

The customer reads the reference on the invoice, so it is French and meaningful: the deal's name,
then our key — « Refonte du site — réf. QC-7K3M9X2P4T ». Reconciliation never compares the whole
text: it takes the last ``QC-…`` token of what Qonto holds and compares it *exactly* with the
row's key, which is unique across every tenant (a database constraint on ``Invoice.reconcile_key``).

Keys made since this module exist are ``QC-`` + 10 characters of Crockford's base32 (uppercase, no
I, L, O, U: 50 random bits). Rows made before carry their key only inside their reference
(« HubSpot deal 5120… / QC-1a2b3c4d5e6f », 12 lowercase hex digits); ``key_of_reference`` finds it,
so they still reconcile. The two shapes differ in length, so a new key never equals an old one.

Qonto documents no length limit for ``purchase_order`` [assumed: we stay within 80 characters,
``PURCHASE_ORDER_MAX``]; the deal name is shortened, the key is never cut.
"""

from __future__ import annotations

import re
import secrets

from connector.invoicing.text import PURCHASE_ORDER_MAX, one_line, shorten

KEY_PREFIX = "QC-"
KEY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32
KEY_LENGTH = 10
SEPARATOR = " — réf. "

# A token is "QC-" and every letter or digit after it (so "QC-ABC" never matches inside "QC-ABCD").
_TOKEN_RE = re.compile(r"(?<![0-9A-Za-z])QC-[0-9A-Za-z]+")


def new_key() -> str:
    """A fresh random key; the caller makes sure it is unused (the database refuses a duplicate)."""
    return KEY_PREFIX + "".join(secrets.choice(KEY_ALPHABET) for _ in range(KEY_LENGTH))


def invoice_reference(deal_name: str | None, key: str) -> str:
    """« <deal name> — réf. <key> » within ``PURCHASE_ORDER_MAX``; « Réf. <key> » without a name."""
    name = one_line(deal_name or "")
    if not name:
        return f"Réf. {key}"
    room = PURCHASE_ORDER_MAX - len(SEPARATOR) - len(key)
    return f"{shorten(name, room)}{SEPARATOR}{key}"


def key_of_reference(reference: str | None) -> str | None:
    """The key inside one of our references: its *last* ``QC-…`` token (the key always comes last;
    a deal named after another invoice's key must not make that invoice match)."""
    found = _TOKEN_RE.findall(reference or "")
    return found[-1] if found else None


def reference_matches(purchase_order: str | None, key: str | None) -> bool:
    """Is this Qonto ``purchase_order`` ours for ``key``? Exact equality of the last token."""
    return bool(key) and key_of_reference(purchase_order) == key
