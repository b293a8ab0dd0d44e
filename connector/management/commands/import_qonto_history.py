"""Attach a tenant's existing Qonto invoices to its HubSpot deals now, in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connector.history.services import MAX_PAGES, history_import
from connector.models import QontoConnection, Tenant


class Command(BaseCommand):
    help = (
        "Find the tenant's existing Qonto invoices and attach those that clearly belong to a HubSpot "
        "deal; the doubtful ones are listed in the admin (History candidates)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--tenant", type=int, metavar="PORTAL_ID", required=True, help="the HubSpot portal"
        )
        parser.add_argument(
            "--max-pages",
            type=int,
            default=MAX_PAGES,
            help=f"Qonto pages of 100 to read (default {MAX_PAGES})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.objects.filter(portal_id=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with portal id {options['tenant']}.")
        if not QontoConnection.objects.filter(tenant=tenant, verified_at__isnull=False).exists():
            raise CommandError(f"Portal {options['tenant']} has no verified Qonto connection.")
        if options["max_pages"] < 1:
            raise CommandError("--max-pages must be at least 1.")
        run = history_import(tenant_id=tenant.pk, max_pages=options["max_pages"], requested_by="command")
        if run is None:
            self.stdout.write(f"portal {tenant.portal_id}: skipped (another import is running)")
            return
        line = (
            f"portal {tenant.portal_id}: {run.status}, {run.invoices_seen} Qonto invoices read "
            f"({run.pages} pages{', stopped early' if run.truncated else ''}), {run.attached} attached, "
            f"{run.candidates} to decide in the admin, {run.unmatched} unmatched, "
            f"{run.already_known} already known; {run.qonto_calls} Qonto + {run.hubspot_calls} HubSpot calls"
        )
        if run.error:
            line += f" — {run.error}"
        self.stdout.write(line)
