"""The support admin: see what happened to a tenant and act on it through services, never by hand.

Every row here is read-only. What support may do goes through admin actions that call one service
each, check a custom permission (``Tenant.Meta.permissions``, given to the "Admins support" group)
and write an ``AuditLog`` row. Secrets never reach a page: the Qonto key is shown as its hint only,
HubSpot tokens as "present" or not.

One module per concern:

- ``tenants``: the tenant list and detail page (``TenantAdmin``);
- ``actions``: what support does to a tenant (test Qonto, sync, HubSpot setup, suspend, resume);
- ``invoices``: invoices (with the retry action) and deals; ``credit_notes``: Qonto avoirs;
- ``history``: the history import's runs and the invoices left for a person to attach;
- ``automation``: automatic invoice requests (workflow action, stage rule) and the stage rules;
- ``qonto``: Qonto connections; ``sync_runs``; ``audit_log``; ``task_failures``;
- ``base`` (read-only rows) and ``formatting`` (dates, amounts, small tables) shared by all.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from connector.admin import (
    audit_log,
    automation,
    credit_notes,
    history,
    invoices,
    qonto,
    sync_runs,
    task_failures,
    tenants,
)
from connector.admin_login import configure_admin_site

admin.site.site_header = _("Qonto Connector — support")
admin.site.site_title = _("Qonto Connector — support")
configure_admin_site(admin.site, require_2fa=settings.ADMIN_REQUIRE_2FA)  # throttled, optional TOTP

__all__ = [
    "audit_log",
    "automation",
    "credit_notes",
    "history",
    "invoices",
    "qonto",
    "sync_runs",
    "task_failures",
    "tenants",
]
