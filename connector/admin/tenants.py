"""Tenants: the list support searches, and the detail page with everything about one tenant.

The list shows lifecycle, plan and billing state, Qonto, the last sync and the latest error; the
detail page adds the subscription, the Qonto connection, the HubSpot installation, recent syncs,
invoices and audit lines, a diagnosis, and buttons for the actions (``connector.admin.actions``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from connector.admin.actions import TenantActionsAdmin
from connector.admin.audit_log import audit_who
from connector.admin.base import ReadOnlyMixin
from connector.admin.formatting import fmt_datetime, fmt_money, fmt_percent, html_table
from connector.models import AuditLog, Invoice, QontoConnection, SyncRun, Tenant


def _month_start() -> Any:
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@admin.register(Tenant)
class TenantAdmin(ReadOnlyMixin, TenantActionsAdmin):
    list_display = (
        "portal_id",
        "name",
        "status",
        "billing_state",
        "qonto_state",
        "last_synced_at",
        "last_sync_result",
        "invoices_this_month",
        "last_error",
    )
    list_filter = ("status",)
    search_fields = (
        "portal_id",
        "name",
        "hub_domain",
        "qonto_connection__organization_slug",
        "hubspot_installation__installer_email",
    )
    list_select_related = ("qonto_connection", "hubspot_installation")
    list_per_page = 50
    fieldsets = (
        (
            _("Tenant"),
            {
                "fields": (
                    "portal_id",
                    "name",
                    "hub_domain",
                    "status",
                    "status_reason",
                    "status_changed_at",
                    "created_at",
                )
            },
        ),
        (_("Abonnement"), {"fields": ("billing_detail",)}),
        (_("Qonto"), {"fields": ("qonto_detail",)}),
        (_("HubSpot"), {"fields": ("hubspot_detail",)}),
        (
            _("Facturation et synchronisation"),
            {
                "fields": (
                    "payment_terms_days",
                    "siret_property",
                    "allow_siren",
                    "sync_cursor",
                    "last_synced_at",
                    "recent_syncs",
                    "recent_invoices",
                )
            },
        ),
        (_("Diagnostic"), {"fields": ("diagnosis", "recent_audit")}),
    )
    # Every field the page shows is read-only: the same names, in the fieldsets' order.
    readonly_fields = flatten_fieldsets(fieldsets)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        latest_run = SyncRun.objects.filter(tenant=OuterRef("pk")).order_by("-started_at")
        latest_failed_invoice = Invoice.objects.filter(
            tenant=OuterRef("pk"), status=Invoice.Status.FAILED
        ).order_by("-updated_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                _last_run_status=Subquery(latest_run.values("status")[:1]),
                _last_run_error=Subquery(latest_run.values("error")[:1]),
                _last_run_at=Subquery(latest_run.values("started_at")[:1]),
                _last_invoice_error=Subquery(latest_failed_invoice.values("error_message")[:1]),
                _last_invoice_error_at=Subquery(latest_failed_invoice.values("updated_at")[:1]),
                _invoices_month=Count(
                    "invoices", filter=Q(invoices__created_at__gte=_month_start()), distinct=True
                ),
            )
        )

    # --- list columns -------------------------------------------------------------------------------
    @admin.display(description=_("Abonnement"))
    def billing_state(self, obj: Tenant) -> str:
        from billing.selectors import tenant_can_invoice

        decision = tenant_can_invoice(obj)
        plan = {"monthly": _("mensuel"), "annual": _("annuel")}.get(decision.plan or "", "—")
        return f"{decision.status} · {plan}"

    @admin.display(description=_("Qonto"))
    def qonto_state(self, obj: Tenant) -> str:
        connection = _qonto_connection(obj)
        if connection is None:
            return str(_("non connecté"))
        if connection.verified_at is None:
            return str(_("non vérifié"))
        return str(_("vérifié"))

    @admin.display(description=_("Dernière synchro"))
    def last_sync_result(self, obj: Tenant) -> str:
        status = getattr(obj, "_last_run_status", None)
        return str(SyncRun.Status(status).label) if status else "—"

    @admin.display(description=_("Factures ce mois"))
    def invoices_this_month(self, obj: Tenant) -> int:
        return int(getattr(obj, "_invoices_month", 0) or 0)

    @admin.display(description=_("Dernière erreur"))
    def last_error(self, obj: Tenant) -> str:
        candidates = []
        if getattr(obj, "_last_run_status", None) == SyncRun.Status.FAILED:
            candidates.append((obj._last_run_at, f"sync: {obj._last_run_error}"))  # type: ignore[attr-defined]
        if getattr(obj, "_last_invoice_error_at", None):
            candidates.append((obj._last_invoice_error_at, f"facture: {obj._last_invoice_error}"))  # type: ignore[attr-defined]
        connection = _qonto_connection(obj)
        if connection is not None and connection.last_error:
            candidates.append((connection.updated_at, f"qonto: {connection.last_error}"))
        if not candidates:
            return "—"
        text = max(candidates, key=lambda c: c[0])[1]
        return text if len(text) <= 120 else text[:119] + "…"

    # --- detail ------------------------------------------------------------------------------------
    @admin.display(description=_("Abonnement"))
    def billing_detail(self, obj: Tenant) -> str:
        from billing.selectors import subscription_get, tenant_can_invoice

        decision = tenant_can_invoice(obj)
        row = subscription_get(tenant=obj)
        return format_html(
            gettext("<strong>{}</strong> ({}) — {}<br>Stripe : {} / {} — {}"),
            _("autorisé") if decision.allowed else _("bloqué"),
            decision.status,
            decision.message,
            row.stripe_customer_id if row else "—",
            row.stripe_subscription_id if row else "—",
            (row.get_status_display() if row and row.status else "—"),
        )

    @admin.display(description=_("Connexion Qonto"))
    def qonto_detail(self, obj: Tenant) -> str:
        connection = _qonto_connection(obj)
        if connection is None:
            return str(_("non connecté"))
        # Only the hint of the key: the key itself and the staging token never reach a page.
        return format_html(
            gettext(
                "Organisation <strong>{}</strong> ({}) — {}<br>Clé : {} — environnement : {}<br>"
                "IBAN : {} — TVA : {} %<br>Vérifiée le : {}<br>Dernière erreur : {}"
            ),
            connection.organization_slug,
            connection.organization_id or "—",
            connection.legal_name or "—",
            connection.secret_key_hint or "—",
            connection.get_environment_display(),
            connection.iban or "—",
            fmt_percent(connection.vat_rate),
            fmt_datetime(connection.verified_at),
            connection.last_error or "—",
        )

    @admin.display(description=_("Installation HubSpot"))
    def hubspot_detail(self, obj: Tenant) -> str:
        installation = _installation(obj)
        if installation is None:
            return str(_("aucune installation"))
        return format_html(
            gettext(
                "Installée par {} le {} — jetons : {}<br>Setup terminé le : {}<br>Désinstallée le : {} {}<br>"
                "Scopes : {}"
            ),
            installation.installer_email or "—",
            fmt_datetime(installation.installed_at),
            _("présents") if installation.has_tokens else _("absents"),
            fmt_datetime(installation.setup_completed_at),
            fmt_datetime(installation.uninstalled_at),
            installation.uninstall_reason,
            ", ".join(installation.scopes or []) or "—",
        )

    @admin.display(description=_("Synchronisations récentes"))
    def recent_syncs(self, obj: Tenant) -> str:
        runs = SyncRun.objects.filter(tenant=obj).order_by("-started_at")[:5]
        return html_table(
            (
                gettext("Début"),
                gettext("Statut"),
                gettext("Vues"),
                gettext("Changées"),
                gettext("Deals écrits"),
                gettext("Erreur"),
            ),
            [
                (
                    fmt_datetime(r.started_at),
                    r.get_status_display(),
                    r.invoices_seen,
                    r.invoices_changed,
                    r.deals_written,
                    r.error,
                )
                for r in runs
            ],
        )

    @admin.display(description=_("Factures récentes"))
    def recent_invoices(self, obj: Tenant) -> str:
        rows = Invoice.objects.filter(tenant=obj).order_by("-created_at")[:10]
        return html_table(
            (
                gettext("Créée"),
                gettext("Deal"),
                gettext("Type"),
                gettext("Statut"),
                gettext("N°"),
                gettext("Total TTC"),
                gettext("Essais"),
                gettext("Erreur"),
            ),
            [
                (
                    fmt_datetime(i.created_at),
                    i.hubspot_deal_id,
                    i.get_kind_display(),
                    i.get_status_display(),
                    i.number or "—",
                    fmt_money(i.total_amount, i.currency),
                    i.attempts,
                    f"{i.error_code} {i.error_message}".strip(),
                )
                for i in rows
            ],
        )

    @admin.display(description=_("Diagnostic"))
    def diagnosis(self, obj: Tenant) -> str:
        from connector.doctor import tenant_diagnose

        findings = tenant_diagnose(obj)
        if not findings:
            return str(_("Tout est en ordre."))
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>[{}] {}</li>", ((f.severity, f.message) for f in findings)),
        )

    @admin.display(description=_("Journal d'audit"))
    def recent_audit(self, obj: Tenant) -> str:
        rows = AuditLog.objects.filter(tenant=obj).select_related("user").order_by("-created_at")[:10]
        return html_table(
            (gettext("Quand"), gettext("Qui"), gettext("Action"), gettext("Détail")),
            [(fmt_datetime(a.created_at), audit_who(a), a.get_action_display(), a.detail) for a in rows],
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The detail page offers the actions this user may run (templates/admin/connector/tenant/).
        actions = self.get_action_choices(request, default_choices=[])
        return super().change_view(
            request, object_id, form_url, extra_context={**(extra_context or {}), "tenant_actions": actions}
        )


def _qonto_connection(obj: Tenant) -> QontoConnection | None:
    try:
        return obj.qonto_connection
    except QontoConnection.DoesNotExist:
        return None


def _installation(obj: Tenant) -> Any:
    from hubspot_app.models import HubSpotInstallation

    try:
        return obj.hubspot_installation
    except HubSpotInstallation.DoesNotExist:
        return None
