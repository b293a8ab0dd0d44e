"""Create what `make run`'s demo needs on our side: a staff login for the admin.

The demo's HubSpot portal, Qonto organisation and Stripe prices live in the sandbox; the demo
tenant is created the way a customer's is, by installing the app from the sandbox's HubSpot.
Refuses to run outside DEBUG so a production database never gets a known password.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

DEMO_USERNAME = "demo-admin"
DEMO_PASSWORD = "demo-admin-password"  # noqa: S105 - local demo only, refused outside DEBUG


class Command(BaseCommand):
    help = "Create the demo staff account (local demo only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DEBUG=true (local demo).")
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME,
            defaults={"email": "support@demo.invalid", "is_staff": True, "is_superuser": True},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(f"Admin login: {DEMO_USERNAME} / {DEMO_PASSWORD}")
