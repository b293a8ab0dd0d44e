"""Invoices (filters by failure, the audited retry) and the deals they belong to."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from connector.admin.base import MoneyFieldsMixin, ReadOnlyMixin
from connector.admin.formatting import money_display
from connector.audit import Action, audit
from connector.models import Deal, Invoice


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
class InvoiceAdmin(MoneyFieldsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "id",
        "tenant",
        "hubspot_deal_id",
        "kind",
        "status",
        "number",
        "total_ttc",
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
    money_fields = {
        "subtotal_amount": "subtotal_ht",
        "vat_amount": "vat",
        "total_amount": "total_ttc",
        "credited_subtotal": "credited_ht",
        "credited_total": "credited_ttc",
    }
    subtotal_ht = money_display(Invoice, "subtotal_amount")
    vat = money_display(Invoice, "vat_amount")
    total_ttc = money_display(Invoice, "total_amount")
    credited_ht = money_display(Invoice, "credited_subtotal")
    credited_ttc = money_display(Invoice, "credited_total")

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("connector.retry_invoice")

    @admin.action(description=_("Relancer les factures en échec"), permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> None:
        # invoice_retry refuses a row that holds a Qonto id or may have reached Qonto without being
        # reconciled first: the same never-twice guarantee as the card's Retry button.
        from connector.exceptions import ApplicationError
        from connector.invoices.request import invoice_retry

        for invoice in queryset.select_related("tenant"):
            try:
                invoice_retry(invoice=invoice)
            except ApplicationError as exc:
                outcome = {"ok": False, "code": exc.code, "detail": str(exc)}
                self.message_user(
                    request,
                    _("%(invoice)s: non relancée (%(code)s: %(detail)s)")
                    % {"invoice": invoice.id, "code": exc.code, "detail": exc},
                    messages.WARNING,
                )
            else:
                outcome = {"ok": True}
                self.message_user(request, _("%(invoice)s: relancée.") % {"invoice": invoice.id})
            audit(
                action=Action.INVOICE_RETRIED,
                user=request.user,
                tenant=invoice.tenant,
                detail={"invoice_id": str(invoice.id), "deal_id": invoice.hubspot_deal_id, **outcome},
            )


@admin.register(Deal)
class DealAdmin(MoneyFieldsMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("hubspot_deal_id", "tenant", "name", "amount_ht", "pushed_at", "hubspot_deleted_at")
    list_filter = (
        ("hubspot_deleted_at", admin.EmptyFieldListFilter),
        ("tenant", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("hubspot_deal_id", "name", "tenant__portal_id")
    list_select_related = ("tenant",)
    money_fields = {"amount": "amount_ht"}
    amount_ht = money_display(Deal, "amount")
