"""What support does to a tenant, each an audited admin action behind a custom permission.

*Tester la connexion Qonto*, *Synchroniser maintenant*, *Importer l'historique Qonto*, *Relancer le
setup HubSpot*, *Suspendre* and *Réactiver* (both ask for a reason first). Offered on the tenant
list and as buttons on the tenant's detail page; run from there, the action brings support back to
that page (``_tenant_page``), its message shown at the top, instead of to the tenant list.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import action
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from connector.audit import Action, TenantStatusRefused, audit, tenant_resume, tenant_suspend
from connector.models import Tenant

# Posted by the buttons of the tenant's detail page (and carried by the reason page).
TENANT_PAGE_FIELD = "_tenant_page"


class StatusReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Raison"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text=_("Visible par le support et enregistrée dans le journal d'audit."),
    )


class TenantActionsAdmin(admin.ModelAdmin):
    """The actions of ``TenantAdmin``, which derives from this class."""

    actions = ["test_qonto", "sync_now", "import_history", "rerun_hubspot_setup", "suspend", "resume"]

    def response_action(
        self, request: HttpRequest, queryset: QuerySet[Tenant], *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        """Django sends an action back to the list; one run from a tenant's page returns to it."""
        response = super().response_action(request, queryset, *args, **kwargs)
        back = self.tenant_page_url(request)
        if back and (response is None or isinstance(response, HttpResponseRedirect)):
            return HttpResponseRedirect(back)
        return response

    def tenant_page_url(self, request: HttpRequest) -> str | None:
        """The detail page the action was run from: only our own URL, built from one selected pk."""
        if request.POST.get(TENANT_PAGE_FIELD) != "1":
            return None
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        if len(selected) != 1 or not selected[0].isdigit():
            return None
        if not Tenant.objects.filter(pk=int(selected[0])).exists():
            return None
        return reverse("admin:connector_tenant_change", args=[int(selected[0])])

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connector.operate_tenant")

    def has_suspend_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connector.suspend_tenant")

    @action(description=_("Tester la connexion Qonto"), permissions=["operate"])
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
                request,
                _("%(tenant)s : %(message)s") % {"tenant": tenant, "message": result.message},
                messages.SUCCESS if result.ok else messages.ERROR,
            )

    @action(description=_("Synchroniser maintenant"), permissions=["operate"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        from connector.tasks import tenant_sync_task

        for tenant in queryset:
            tenant_sync_task.delay(tenant.pk)
            audit(action=Action.SYNC_REQUESTED, user=request.user, tenant=tenant)
            self.message_user(request, _("%(tenant)s : synchronisation lancée.") % {"tenant": tenant})

    @action(
        description=_("Importer l'historique Qonto (rattacher les factures existantes)"),
        permissions=["operate"],
    )
    def import_history(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        from connector import jobs

        for tenant in queryset:
            jobs.history_import(tenant.pk, requested_by=str(request.user.get_username())[:254])
            audit(action=Action.HISTORY_IMPORT_REQUESTED, user=request.user, tenant=tenant)
            self.message_user(
                request,
                _(
                    "%(tenant)s : import de l'historique Qonto lancé ; les factures à décider apparaîtront "
                    "dans « Factures existantes à rattacher »."
                )
                % {"tenant": tenant},
            )

    @action(description=_("Relancer le setup HubSpot"), permissions=["operate"])
    def rerun_hubspot_setup(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        from hubspot_app.services import hubspot_setup_enqueue

        for tenant in queryset:
            hubspot_setup_enqueue(tenant_id=tenant.pk)
            audit(action=Action.HUBSPOT_SETUP_REQUESTED, user=request.user, tenant=tenant)
            self.message_user(request, _("%(tenant)s : setup HubSpot relancé.") % {"tenant": tenant})

    @action(description=_("Suspendre (avec une raison)"), permissions=["suspend"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> HttpResponse | None:
        return self._change_status(request, queryset, suspend=True)

    @action(description=_("Réactiver (avec une raison)"), permissions=["suspend"])
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
                    done = _("%(tenant)s : suspendu.") if suspend else _("%(tenant)s : réactivé.")
                    self.message_user(request, done % {"tenant": tenant})
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
            "tenant_page": self.tenant_page_url(request),
            "tenant_page_field": TENANT_PAGE_FIELD,
        }
        return TemplateResponse(request, "admin/connector/tenant/status_reason.html", context)
