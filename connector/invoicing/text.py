"""Text limits of Qonto items: titles ≤ 40 characters, descriptions ≤ 1800."""

from __future__ import annotations

import re

TITLE_MAX = 40
DESCRIPTION_MAX = 1800
PURCHASE_ORDER_MAX = 80
ELLIPSIS = "…"

_BLANKS_RE = re.compile(r"\s+")
# Not worth keeping at the end of a cut title ("Refonte —…", "Audit,…").
_TRAILING_JUNK = " \t-–—,;:·/(&+"


def one_line(text: str) -> str:
    """Collapse every run of whitespace (newlines included) into one space."""
    return _BLANKS_RE.sub(" ", text).strip()


def clean_block(text: str) -> str:
    """Keep line breaks of a multi-line description, but trim each line and drop blank runs."""
    lines = [one_line(line) for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters on a word boundary, ending with "…".

    A single word longer than half the limit is cut inside the word rather than leaving a stub.
    """
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    head = text[:room]
    if text[room] not in (" ", "\n"):
        space = max(head.rfind(" "), head.rfind("\n"))
        if space >= room // 2:
            head = head[:space]
    head = head.rstrip(_TRAILING_JUNK + "\n")
    return f"{head}{ELLIPSIS}" if head else text[:room] + ELLIPSIS


def title_and_overflow(name: str) -> tuple[str, str | None]:
    """A Qonto title for ``name``, and the full name when it had to be cut (for the description)."""
    flat = one_line(name)
    title = shorten(flat, TITLE_MAX)
    return title, (flat if title != flat else None)
