"""The support admin: see what happened to a tenant and act on it through services, never by hand.

Every row here is read-only. What support may do goes through admin actions that call one service
each, check a custom permission (``Tenant.Meta.permissions``, given to the "Admins support" group)
and write an ``AuditLog`` row. Secrets never reach a page: the Qonto key is shown as its hint only,
HubSpot tokens as "present" or not.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from connector.admin_login import configure_admin_site
from connector.audit import Action, TenantStatusRefused, audit, tenant_resume, tenant_suspend
from connector.models import AuditLog, Deal, Invoice, QontoConnection, SyncRun, TaskFailure, Tenant

admin.site.site_header = _("Qonto Connector — support")
admin.site.site_title = _("Qonto Connector — support")
configure_admin_site(admin.site, require_2fa=settings.ADMIN_REQUIRE_2FA)  # throttled, optional TOTP


class ReadOnlyMixin:
    """Support looks and replays; it never adds, edits or deletes rows by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _month_start() -> Any:
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


class StatusReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Raison"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text=_("Visible par le support et enregistrée dans le journal d'audit."),
    )


# --- tenants -----------------------------------------------------------------------------------------
@admin.register(Tenant)
class TenantAdmin(ReadOnlyMixin, admin.ModelAdmin):
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
    actions = ["test_qonto", "sync_now", "rerun_hubspot_setup", "suspend", "resume"]
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
    readonly_fields = (
        "portal_id",
        "name",
        "hub_domain",
        "status",
        "status_reason",
        "status_changed_at",
        "created_at",
        "billing_detail",
        "qonto_detail",
        "hubspot_detail",
        "payment_terms_days",
        "siret_property",
        "allow_siren",
        "sync_cursor",
        "last_synced_at",
        "recent_syncs",
        "recent_invoices",
        "diagnosis",
        "recent_audit",
    )

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
            "<strong>{}</strong> ({}) — {}<br>Stripe : {} / {} — {}",
            "autorisé" if decision.allowed else "bloqué",
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
            return "non connecté"
        # Only the hint of the key: the key itself and the staging token never reach a page.
        return format_html(
            "Organisation <strong>{}</strong> ({}) — {}<br>Clé : {} — environnement : {}<br>"
            "IBAN : {} — TVA : {} %<br>Vérifiée le : {}<br>Dernière erreur : {}",
            connection.organization_slug,
            connection.organization_id or "—",
            connection.legal_name or "—",
            connection.secret_key_hint or "—",
            connection.get_environment_display(),
            connection.iban or "—",
            connection.vat_rate,
            _fmt(connection.verified_at),
            connection.last_error or "—",
        )

    @admin.display(description=_("Installation HubSpot"))
    def hubspot_detail(self, obj: Tenant) -> str:
        installation = _installation(obj)
        if installation is None:
            return "aucune installation"
        return format_html(
            "Installée par {} le {} — jetons : {}<br>Setup terminé le : {}<br>Désinstallée le : {} {}<br>"
            "Scopes : {}",
            installation.installer_email or "—",
            _fmt(installation.installed_at),
            "présents" if installation.has_tokens else "absents",
            _fmt(installation.setup_completed_at),
            _fmt(installation.uninstalled_at),
            installation.uninstall_reason,
            ", ".join(installation.scopes or []) or "—",
        )

    @admin.display(description=_("Synchronisations récentes"))
    def recent_syncs(self, obj: Tenant) -> str:
        runs = SyncRun.objects.filter(tenant=obj).order_by("-started_at")[:5]
        return _table(
            ("Début", "Statut", "Vues", "Changées", "Deals écrits", "Erreur"),
            [
                (
                    _fmt(r.started_at),
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
        return _table(
            ("Créée", "Deal", "Type", "Statut", "N°", "Total TTC", "Essais", "Erreur"),
            [
                (
                    _fmt(i.created_at),
                    i.hubspot_deal_id,
                    i.get_kind_display(),
                    i.get_status_display(),
                    i.number or "—",
                    i.total_amount,
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
            return "Tout est en ordre."
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", "<li>[{}] {}</li>", ((f.severity, f.message) for f in findings)),
        )

    @admin.display(description=_("Journal d'audit"))
    def recent_audit(self, obj: Tenant) -> str:
        rows = AuditLog.objects.filter(tenant=obj).order_by("-created_at")[:10]
        return _table(
            ("Quand", "Qui", "Action", "Détail"),
            [(_fmt(a.created_at), a.user_email, a.get_action_display(), a.detail) for a in rows],
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

    # --- actions -----------------------------------------------------------------------------------
    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connector.operate_tenant")

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connector.suspend_tenant")

    @admin.action(description=_("Tester la connexion Qonto"), permissions=["operate"])
    def test_qonto(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        from connector.doctor import qonto_connection_check

        for tenant in queryset:
            result = qonto_connection_check(tenant=tenant)
            audit(
                action=Action.QONTO_TESTED,
                user=request.user,
                tenant=tenant,
                detail={"ok": result.ok, "message": result.message},
            )
            self.message_user(
                request, f"{tenant}: {result.message}", messages.SUCCESS if result.ok else messages.ERROR
            )

    @admin.action(description=_("Synchroniser maintenant"), permissions=["operate"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        from connector.tasks import tenant_sync_task

        for tenant in queryset:
            tenant_sync_task.delay(tenant.pk)
            audit(action=Action.SYNC_REQUESTED, user=request.user, tenant=tenant)
            self.message_user(request, f"{tenant}: synchronisation lancée.")

    @admin.action(description=_("Relancer le setup HubSpot"), permissions=["operate"])
    def rerun_hubspot_setup(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        from hubspot_app.services import hubspot_setup_enqueue

        for tenant in queryset:
            hubspot_setup_enqueue(tenant_id=tenant.pk)
            audit(action=Action.HUBSPOT_SETUP_REQUESTED, user=request.user, tenant=tenant)
            self.message_user(request, f"{tenant}: setup HubSpot relancé.")

    @admin.action(description=_("Suspendre (avec une raison)"), permissions=["suspend"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> HttpResponse | None:
        return self._change_status(request, queryset, suspend=True)

    @admin.action(description=_("Réactiver (avec une raison)"), permissions=["suspend"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> HttpResponse | None:
        return self._change_status(request, queryset, suspend=False)

    def _change_status(
        self, request: HttpRequest, queryset: QuerySet[Tenant], *, suspend: bool
    ) -> HttpResponse | None:
        """First call: a page asking for the reason. Second call (``apply``): change the status."""
        form = StatusReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            service = tenant_suspend if suspend else tenant_resume
            for tenant in queryset:
                try:
                    service(tenant=tenant, reason=form.cleaned_data["reason"], user=request.user)
                except TenantStatusRefused as exc:
                    self.message_user(request, str(exc.user_message), messages.WARNING)
                else:
                    done = "suspendu" if suspend else "réactivé"
                    self.message_user(request, f"{tenant}: {done}.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Suspendre") if suspend else _("Réactiver"),
            "opts": self.model._meta,
            "tenants": list(queryset),
            "form": form,
            "action": "suspend" if suspend else "resume",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "suspend": suspend,
        }
        return TemplateResponse(request, "admin/connector/tenant/status_reason.html", context)


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


def _fmt(value: Any) -> str:
    return f"{timezone.localtime(value):%d/%m/%Y %H:%M}" if value else "—"


def _table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return "—"
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join(
            "",
            "<tr>{}</tr>",
            ((format_html_join("", "<td>{}</td>", ((cell,) for cell in row)),) for row in rows),
        ),
    )


# --- Qonto connections -----------------------------------------------------------------------------
@admin.register(QontoConnection)
class QontoConnectionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # The secret key and staging token are never shown: only the key's last characters.
    list_display = ("tenant", "organization_slug", "environment", "legal_name", "verified_at")
    fields = (
        "tenant",
        "environment",
        "organization_slug",
        "organization_id",
        "secret_key_hint",
        "vat_rate",
        "iban",
        "legal_name",
        "verified_at",
        "last_error",
    )
    readonly_fields = fields
    search_fields = ("organization_slug", "legal_name", "tenant__portal_id")
    list_select_related = ("tenant",)


# --- invoices ----------------------------------------------------------------------------------------
class FailedFilter(admin.SimpleListFilter):
    title = _("échec")
    parameter_name = "failed"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("yes", _("En échec")),
            ("retryable", _("En échec, relançable")),
            ("no", _("Sans échec")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(status=Invoice.Status.FAILED)
        if self.value() == "retryable":
            return queryset.filter(
                status=Invoice.Status.FAILED, error_retryable=True, qonto_invoice_id__isnull=True
            )
        if self.value() == "no":
            return queryset.exclude(status=Invoice.Status.FAILED)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "tenant",
        "hubspot_deal_id",
        "kind",
        "status",
        "number",
        "total_amount",
        "attempts",
        "error_code",
        "created_at",
    )
    list_filter = (("tenant", admin.RelatedOnlyFieldListFilter), "status", "kind", FailedFilter)
    search_fields = ("id", "hubspot_deal_id", "qonto_invoice_id", "number", "reference", "tenant__portal_id")
    list_select_related = ("tenant",)
    raw_id_fields = ("tenant", "deal")
    date_hierarchy = "created_at"
    actions = ["retry"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connector.retry_invoice")

    @admin.action(description=_("Relancer les factures en échec"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        # invoice_retry refuses a row that holds a Qonto id or may have reached Qonto without being
        # reconciled first: the same never-twice guarantee as the card's Retry button.
        from connector.exceptions import ApplicationError
        from connector.invoice_services import invoice_retry

        for invoice in queryset.select_related("tenant"):
            try:
                invoice_retry(invoice=invoice)
            except ApplicationError as exc:
                outcome = {"ok": False, "code": exc.code, "detail": str(exc)}
                self.message_user(
                    request, f"{invoice.id}: non relancée ({exc.code}: {exc})", messages.WARNING
                )
            else:
                outcome = {"ok": True}
                self.message_user(request, f"{invoice.id}: relancée.")
            audit(
                action=Action.INVOICE_RETRIED,
                user=request.user,
                tenant=invoice.tenant,
                detail={"invoice_id": str(invoice.id), "deal_id": invoice.hubspot_deal_id, **outcome},
            )


# --- deals, sync runs, audit ---------------------------------------------------------------------------
@admin.register(Deal)
class DealAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("hubspot_deal_id", "tenant", "name", "amount", "pushed_at", "hubspot_deleted_at")
    list_filter = (
        ("hubspot_deleted_at", admin.EmptyFieldListFilter),
        ("tenant", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("hubspot_deal_id", "name", "tenant__portal_id")
    list_select_related = ("tenant",)


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "tenant",
        "status",
        "full",
        "started_at",
        "finished_at",
        "invoices_seen",
        "invoices_changed",
        "deals_written",
        "error",
    )
    list_filter = ("status", "full", ("tenant", admin.RelatedOnlyFieldListFilter))
    search_fields = ("tenant__portal_id", "tenant__name", "error")
    list_select_related = ("tenant",)
    date_hierarchy = "started_at"


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "user_email", "action", "tenant", "detail")
    list_filter = ("action",)
    search_fields = ("user_email", "tenant__portal_id", "tenant__name")
    list_select_related = ("tenant",)
    date_hierarchy = "created_at"


@admin.register(TaskFailure)
class TaskFailureAdmin(admin.ModelAdmin):
    """Background tasks that failed (read-only): what, when, and the masked error."""

    list_display = ("created_at", "task_name", "exception_type", "short_message", "task_id")
    list_filter = ("task_name", "exception_type")
    search_fields = ("task_id", "task_name", "message")
    readonly_fields = ("created_at", "task_name", "task_id", "args", "exception_type", "message", "traceback")
    date_hierarchy = "created_at"

    @admin.display(description=_("Message"))
    def short_message(self, obj: TaskFailure) -> str:
        return obj.message[:120]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
