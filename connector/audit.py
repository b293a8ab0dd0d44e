"""Support's audited operations: the audit trail, the support groups, suspend and resume.

``audit(...)`` writes one ``AuditLog`` row. Call it for every support action (the admin does) and
for every sensitive change made elsewhere (Qonto credentials replaced, disconnect). It never
receives a secret: ``detail`` is shown in the admin as it is.
"""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps as global_apps
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connector.exceptions import ApplicationError
from connector.models import AuditLog, Tenant

logger = logging.getLogger(__name__)

Action = AuditLog.Action

READ_ONLY_GROUP = "Support (lecture seule)"
ADMIN_GROUP = "Admins support"

# The models support looks at (app_label, model): both groups may view them.
SUPPORT_MODELS = (
    ("connector", "tenant"),
    ("connector", "qontoconnection"),
    ("connector", "deal"),
    ("connector", "invoice"),
    ("connector", "syncrun"),
    ("connector", "auditlog"),
    ("connector", "creditnote"),
    ("connector", "historyimport"),
    ("connector", "historycandidate"),
    ("hubspot_app", "hubspotinstallation"),
    ("billing", "subscription"),
    ("billing", "stripeevent"),
)
# What only "Admins support" may do. The billing admin's replay and re-sync check the change
# permissions of its (read-only) models.
ADMIN_PERMISSIONS = (
    ("connector", "suspend_tenant"),
    ("connector", "operate_tenant"),
    ("connector", "retry_invoice"),
    ("billing", "change_stripeevent"),
    ("billing", "change_subscription"),
)


def audit(
    *,
    action: str,
    user: Any = None,
    user_email: str = "",
    tenant: Tenant | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Record that ``user`` (a Django user, or just ``user_email``) did ``action`` on ``tenant``.

    ``action`` is one of ``AuditLog.Action``; ``detail`` is JSON (reason, outcome, ids), never a
    secret.
    """
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    email = user_email or (getattr(user, "email", "") or getattr(user, "get_username", lambda: "")())
    row = AuditLog.objects.create(
        action=action, user=user, user_email=email[:254], tenant=tenant, detail=detail or {}
    )
    logger.info(
        "audit: %s by %s",
        action,
        email or "-",
        extra={"tenant_id": tenant.pk if tenant else None, "audit_id": row.pk},
    )
    return row


# --- suspend / resume ------------------------------------------------------------------------------
class TenantStatusRefused(ApplicationError):
    code = "tenant_status_refused"


def _tenant_status_change(
    *, tenant: Tenant, reason: str, user: Any, expected: str, new: str, action: str, refused: Any
) -> Tenant:
    """Move ``tenant`` from ``expected`` to ``new`` with a reason, under a row lock, and audit it."""
    reason = reason.strip()
    if not reason:
        raise TenantStatusRefused("a reason is required", user_message=_("Indiquez la raison."))
    with transaction.atomic():
        row = Tenant.objects.select_for_update().get(pk=tenant.pk)
        if row.status != expected:
            raise TenantStatusRefused(
                f"tenant {row.portal_id} is {row.status}",
                user_message=refused % {"tenant": row, "status": row.get_status_display()},
            )
        row.status = new
        row.status_reason = reason
        row.status_changed_at = timezone.now()
        row.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
        audit(action=action, user=user, tenant=row, detail={"reason": reason, "previous_status": expected})
    return row


def tenant_suspend(*, tenant: Tenant, reason: str, user: Any = None) -> Tenant:
    """Stop all work for an installed tenant (card, invoices, sync) until support resumes it."""
    return _tenant_status_change(
        tenant=tenant,
        reason=reason,
        user=user,
        expected=Tenant.Status.INSTALLED,
        new=Tenant.Status.SUSPENDED,
        action=Action.TENANT_SUSPENDED,
        refused=_("%(tenant)s n'est pas actif (%(status)s) : rien à suspendre."),
    )


def tenant_resume(*, tenant: Tenant, reason: str, user: Any = None) -> Tenant:
    """Lift a support suspension: the tenant works again (if its plan and Qonto allow it)."""
    return _tenant_status_change(
        tenant=tenant,
        reason=reason,
        user=user,
        expected=Tenant.Status.SUSPENDED,
        new=Tenant.Status.INSTALLED,
        action=Action.TENANT_RESUMED,
        refused=_("%(tenant)s n'est pas suspendu (%(status)s)."),
    )


# --- support groups ----------------------------------------------------------------------------------
def support_groups_ensure(apps: Any = global_apps) -> None:
    """Create or complete the two support groups. Idempotent; used by migration 0003 and tests.

    ``apps``: the migration's historical registry, or the live one.
    """
    from django.contrib.auth.management import create_permissions

    # On a fresh database the permissions are only created after all migrations (post_migrate):
    # create them now so the groups can be given them.
    for label in ("connector", "hubspot_app", "billing"):
        create_permissions(global_apps.get_app_config(label), apps=apps, verbosity=0)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")

    def perms(pairs: list[tuple[str, str]]) -> list[Any]:
        found = []
        for app_label, codename in pairs:
            perm = permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if perm is not None:
                found.append(perm)
        return found

    view = [(app, f"view_{model}") for app, model in SUPPORT_MODELS]
    read_only, _ = group_model.objects.get_or_create(name=READ_ONLY_GROUP)
    read_only.permissions.add(*perms(view))
    admins, _ = group_model.objects.get_or_create(name=ADMIN_GROUP)
    admins.permissions.add(*perms(view + list(ADMIN_PERMISSIONS)))
