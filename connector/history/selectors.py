"""Reads about the history import, for the onboarding page and the admin."""

from __future__ import annotations

from connector.models import HistoryCandidate, HistoryImport, Tenant


def history_last_import(tenant: Tenant) -> HistoryImport | None:
    """The tenant's latest import run, or None if it never ran."""
    return HistoryImport.objects.filter(tenant=tenant).order_by("-started_at").first()


def history_pending_count(tenant: Tenant) -> int:
    """Invoices listed for a person to decide (support resolves them in the admin)."""
    return HistoryCandidate.objects.filter(tenant=tenant, state=HistoryCandidate.State.PENDING).count()
