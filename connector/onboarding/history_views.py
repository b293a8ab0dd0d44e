"""Onboarding, after *Connect Qonto*: find the tenant's existing Qonto invoices and attach them to
their HubSpot deals, so the card's totals are right before the first click. Thin: start the task,
show the last run."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from connector import jobs
from connector.history.selectors import history_last_import, history_pending_count
from connector.models import HistoryImport, Tenant
from connector.onboarding.selectors import qonto_is_connected
from connector.tenancy import SESSION_USER_EMAIL, tenant_required

BILLING_PLANS_PATH = "/billing/plans"  # the next step, served by the billing app


@never_cache
@tenant_required
@require_http_methods(["GET", "POST"])
def history_step(request: HttpRequest) -> HttpResponse:
    tenant: Tenant = request.tenant  # type: ignore[attr-defined]
    if not qonto_is_connected(tenant):
        return redirect("onboarding_qonto")
    last = history_last_import(tenant)
    running = last is not None and last.status == HistoryImport.Status.RUNNING
    if request.method == "POST":
        if not running:
            who = request.session.get(SESSION_USER_EMAIL, "") or "onboarding"
            jobs.history_import(tenant.pk, requested_by=f"onboarding: {who}"[:254])
        return redirect("onboarding_history")
    return render(
        request,
        "onboarding/history.html",
        {
            "last": last,
            "running": running,
            "pending": history_pending_count(tenant) if last is not None else 0,
            "billing_plans_url": BILLING_PLANS_PATH,
            "step": 2,
        },
    )
