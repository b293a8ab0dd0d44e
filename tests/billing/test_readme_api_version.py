"""The README tells operators to create the Stripe webhook endpoint with the SDK's API version."""

from __future__ import annotations

import re
from pathlib import Path

import stripe

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_names_the_sdks_api_version_for_the_webhook_endpoint() -> None:
    text = README.read_text(encoding="utf-8")
    deploy = text.split("## Deploying to production", 1)[1].split("\n## ", 1)[0]
    assert f"API version `{stripe.api_version}`" in deploy
    # Every version the README names is the SDK's: an upgrade of stripe must update the README.
    versions = set(re.findall(r"`(\d{4}-\d{2}-\d{2}\.[a-z]+)`", text))
    assert versions == {stripe.api_version}, versions
    assert f"stripe=={stripe.VERSION}" in deploy
