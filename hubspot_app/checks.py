"""``manage.py check --deploy``: the public URL HubSpot calls must be a public https URL.

Production settings already refuse to boot without one (config/settings/production.py); this
check says the same thing for any settings module ``check --deploy`` runs under.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

from config.public_url import public_base_url_errors


@checks.register(checks.Tags.security, deploy=True)
def check_public_base_url(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            message,
            hint="Set PUBLIC_BASE_URL to the https:// URL HubSpot calls (no trailing slash), e.g. "
            "https://connector.your-domain.fr; behind a proxy that adds a path prefix, include it.",
            id="hubspot_app.E001",
        )
        for message in public_base_url_errors(getattr(settings, "PUBLIC_BASE_URL", ""))
    ]
