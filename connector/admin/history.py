"""The history import: its runs (read-only) and the invoices it could not place, for a person to
attach to the right deal (or dismiss). Each decision goes through a service and the audit log."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from connector.admin.base import MoneyFieldsMixin, ReadOnlyMixin
from connector.admin.formatting import fmt_money, money_display
from connector.invoicing.amounts import parse_decimal
from connector.models import HistoryCandidate, HistoryImport

REASON_LABELS = {
    "several_companies": _("Plusieurs entreprises HubSpot ont ce SIRET"),
    "several_deals": _("Plusieurs transactions possibles, aucune au montant exact"),
    "amount_exceeds_deal": _("La facture dépasse ce qui reste à facturer sur la transaction"),
    "deal_without_amount": _("La transaction n'a pas de montant"),
    "deal_not_eur": _("La transaction n'est pas en euros"),
}


@admin.register(HistoryImport)
class HistoryImportAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "tenant",
        "status",
        "started_at",
        "finished_at",
        "invoices_seen",
        "attached",
        "candidates",
        "unmatched",
        "truncated",
        "requested_by",
    )
    list_filter = ("status", ("tenant", admin.RelatedOnlyFieldListFilter))
    search_fields = ("tenant__portal_id", "tenant__name", "error")
    list_select_related = ("tenant",)
    date_hierarchy = "started_at"


def _amount(raw: Any) -> str:
    """A deal option's amount (a decimal string in the candidate's JSON) as "14 017,00 €"."""
    value = parse_decimal(str(raw)) if raw not in (None, "") else None
    return fmt_money(value) if value is not None else "—"


class ChooseDealForm(forms.Form):
    deal_id = forms.ChoiceField(label=_("Transaction HubSpot"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, options: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["deal_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (
                str(o["id"]),
                _("%(name)s (n° %(id)s) — montant %(amount)s HT, reste %(left)s HT")
                % {
                    "name": o.get("name") or "—",
                    "id": o["id"],
                    "amount": _amount(o.get("amount")),
                    "left": _amount(o.get("left")),
                },
            )
            for o in options
        ]


@admin.register(HistoryCandidate)
class HistoryCandidateAdmin(MoneyFieldsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "tenant",
        "client_name",
        "tax_id",
        "subtotal_ht",
        "issue_date",
        "reason_label",
        "state",
        "decide",
    )
    list_filter = ("state", "reason", ("tenant", admin.RelatedOnlyFieldListFilter))
    search_fields = ("qonto_invoice_id", "number", "client_name", "tax_id", "tenant__portal_id")
    list_select_related = ("tenant",)
    actions = ["dismiss"]
    money_fields = {"subtotal_amount": "subtotal_ht", "total_amount": "total_ttc"}
    subtotal_ht = money_display(HistoryCandidate, "subtotal_amount")
    total_ttc = money_display(HistoryCandidate, "total_amount")

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connector.operate_tenant")

    @admin.display(description=_("Pourquoi"))
    def reason_label(self, obj: HistoryCandidate) -> str:
        return str(REASON_LABELS.get(obj.reason, obj.reason))

    @admin.display(description=_("Décider"))
    def decide(self, obj: HistoryCandidate) -> str:
        if obj.state != HistoryCandidate.State.PENDING:
            return obj.deal_id or "—"
        url = reverse("admin:connector_historycandidate_resolve", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Choisir la transaction"))

    def get_urls(self) -> list[URLPattern]:
        extra = [
            path(
                "<int:pk>/resolve/",
                self.admin_site.admin_view(self.resolve_view),
                name="connector_historycandidate_resolve",
            )
        ]
        return extra + super().get_urls()

    def resolve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Attach the invoice to the deal chosen among the candidate's deals (one service call)."""
        from connector.exceptions import ApplicationError
        from connector.history.services import history_candidate_attach

        if not self.has_operate_permission(request):
            raise PermissionDenied
        candidate = get_object_or_404(HistoryCandidate.objects.select_related("tenant"), pk=pk)
        changelist = reverse("admin:connector_historycandidate_changelist")
        form = ChooseDealForm(
            request.POST if request.method == "POST" else None, options=list(candidate.options or [])
        )
        if request.method == "POST" and form.is_valid():
            try:
                inv = history_candidate_attach(
                    candidate=candidate, deal_id=form.cleaned_data["deal_id"], user=request.user
                )
            except ApplicationError as exc:
                self.message_user(request, f"{candidate}: {exc}", messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("Facture %(number)s rattachée à la transaction %(deal)s.")
                    % {"number": candidate.number or candidate.qonto_invoice_id, "deal": inv.hubspot_deal_id},
                )
            return HttpResponseRedirect(changelist)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Rattacher une facture Qonto à une transaction"),
            "opts": self.model._meta,
            "candidate": candidate,
            "subtotal": fmt_money(candidate.subtotal_amount),
            "total": fmt_money(candidate.total_amount),
            "reason": REASON_LABELS.get(candidate.reason, candidate.reason),
            "form": form,
            "changelist_url": changelist,
        }
        return TemplateResponse(request, "admin/connector/historycandidate/resolve.html", context)

    @admin.action(
        description=_("Écarter : ces factures ne vont sur aucune transaction"), permissions=["operate"]
    )
    def dismiss(self, request: HttpRequest, queryset: QuerySet[HistoryCandidate]) -> None:
        from connector.exceptions import ApplicationError
        from connector.history.services import history_candidate_dismiss

        for candidate in queryset.select_related("tenant"):
            try:
                history_candidate_dismiss(candidate=candidate, user=request.user)
            except ApplicationError as exc:
                self.message_user(request, f"{candidate}: {exc}", messages.WARNING)
            else:
                self.message_user(request, _("%(invoice)s écartée.") % {"invoice": candidate})
