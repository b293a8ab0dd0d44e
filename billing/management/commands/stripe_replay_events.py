"""Process recorded Stripe events again: ``--failed`` (every failed one) and/or ``--ids evt_…``.

Safe to repeat: each event only makes us re-read the subscription from Stripe and upsert it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing.models import StripeEvent
from billing.services import stripe_events_replay


class Command(BaseCommand):
    help = "Replay recorded Stripe webhook events (failed ones, or the given ids)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--failed", action="store_true", help="Replay every event whose processing failed."
        )
        parser.add_argument("--ids", nargs="+", default=[], metavar="EVT_ID", help="Replay these events.")

    def handle(self, *args: Any, **options: Any) -> None:
        ids: list[str] = options["ids"]
        if not ids and not options["failed"]:
            raise CommandError("Give --failed and/or --ids evt_1 evt_2 …")
        unknown = set(ids) - set(StripeEvent.objects.filter(id__in=ids).values_list("id", flat=True))
        for event_id in sorted(unknown):
            self.stderr.write(f"{event_id}: unknown event")
        results = stripe_events_replay(event_ids=ids, failed=options["failed"])
        failed = 0
        for event in results:
            line = f"{event.id} {event.type}: {event.status}"
            if event.status == StripeEvent.Status.FAILED:
                failed += 1
                self.stderr.write(f"{line} ({event.error})")
            else:
                self.stdout.write(line)
        self.stdout.write(f"{len(results)} replayed, {failed} failed.")
        if failed or unknown:
            raise CommandError(f"{failed} event(s) failed, {len(unknown)} unknown")
