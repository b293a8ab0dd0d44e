"""The browser page of the e2e tests: Chromium at ``chromium_page``'s defaults (French, 1100×900).

A test module that wants another size, time zone or timeout defines its own ``page``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import chromium_page


@pytest.fixture
def page(monkeypatch: Any) -> Iterator[Any]:
    with chromium_page(monkeypatch) as page:
        yield page
