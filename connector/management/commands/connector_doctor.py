"""What is misconfigured, for one tenant or all, and why. Exits non-zero when something is wrong."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from connector.doctor import ERROR, Finding, deployment_diagnose, tenant_diagnose
from connector.models import Tenant


class Command(BaseCommand):
    help = (
        "Diagnose the deployment (the URL HubSpot signs: ALLOWED_HOSTS, the last refused card call) and "
        "the tenants: HubSpot tokens, Qonto verification and IBAN, plan, HubSpot setup, last sync, "
        "deals deleted in HubSpot. Exit code 1 on an error (or a warning with --strict)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", type=int, metavar="PORTAL_ID", help="only this HubSpot portal")
        parser.add_argument(
            "--skip-uninstalled", action="store_true", help="leave out tenants that uninstalled the app"
        )
        parser.add_argument("--strict", action="store_true", help="warnings also make the exit code 1")

    def handle(self, *args: Any, **options: Any) -> None:
        tenants = Tenant.objects.order_by("portal_id")
        if options["tenant"]:
            tenants = tenants.filter(portal_id=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"No tenant with portal id {options['tenant']}.")
        elif options["skip_uninstalled"]:
            tenants = tenants.exclude(status=Tenant.Status.UNINSTALLED)
        failing = 0
        deployment = deployment_diagnose()
        deployment_failing = bool(deployment) and (
            options["strict"] or any(f.severity == ERROR for f in deployment)
        )
        if deployment:
            self.stdout.write(f"Deployment: {len(deployment)} problem(s)")
            self._write(deployment)
        else:
            self.stdout.write(self.style.SUCCESS("Deployment: OK"))
        for tenant in tenants.iterator():
            findings = tenant_diagnose(tenant)
            if not findings:
                self.stdout.write(self.style.SUCCESS(f"{tenant}: OK"))
                continue
            self.stdout.write(f"{tenant}: {len(findings)} problem(s)")
            self._write(findings)
            if options["strict"] or any(f.severity == ERROR for f in findings):
                failing += 1
        if failing or deployment_failing:
            parts = (["the deployment"] if deployment_failing else []) + (
                [f"{failing} tenant(s)"] if failing else []
            )
            raise CommandError(f"{' and '.join(parts)} need attention.", returncode=1)

    def _write(self, findings: list[Finding]) -> None:
        for f in findings:
            style = self.style.ERROR if f.severity == ERROR else self.style.WARNING
            self.stdout.write(style(f"  [{f.severity}] {f.code}: {f.message}"))
