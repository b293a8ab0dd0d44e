"""Run the Qonto → HubSpot status sync now, in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connector.models import QontoConnection, SyncRun, Tenant
from connector.sync import operational_tenant_ids, tenant_sync


class Command(BaseCommand):
    help = "Sync invoice statuses from Qonto to our records and the HubSpot deals."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", type=int, metavar="PORTAL_ID", help="only this HubSpot portal")
        parser.add_argument("--full", action="store_true", help="full reconciliation (ignore the cursor)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["tenant"]:
            tenant = Tenant.objects.filter(portal_id=options["tenant"]).first()
            if tenant is None:
                raise CommandError(f"No tenant with portal id {options['tenant']}.")
            if not QontoConnection.objects.filter(tenant=tenant).exists():
                raise CommandError(f"Portal {options['tenant']} has no Qonto connection to sync.")
            ids = [tenant.pk]
        else:
            ids = operational_tenant_ids()
        if not ids:
            self.stdout.write("No operational tenant to sync.")
            return
        counts = {"succeeded": 0, "failed": 0, "skipped": 0}
        for tenant_id in ids:
            run = tenant_sync(tenant_id=tenant_id, full=options["full"])
            if run is None:
                counts["skipped"] += 1
                self.stdout.write(f"tenant {tenant_id}: skipped (another sync is running)")
                continue
            counts["succeeded" if run.status == SyncRun.Status.SUCCEEDED else "failed"] += 1
            line = (
                f"portal {run.tenant.portal_id}: {run.status}, {run.invoices_seen} seen, "
                f"{run.invoices_changed} changed, {run.deals_written} deals written, "
                f"{run.qonto_calls} Qonto + {run.hubspot_calls} HubSpot calls"
            )
            if run.error:
                line += f" — {run.error}"
            self.stdout.write(line)
        if len(ids) > 1:
            self.stdout.write(
                f"{len(ids)} tenants: {counts['succeeded']} succeeded, {counts['failed']} failed, "
                f"{counts['skipped']} skipped"
            )
