"""`python manage.py avito_reconcile [--hours N | --since <ISO 8601>]`: one reconciliation run now.

Without a window it runs as beat does (from the watermark; on the very first start it only
sets the watermark). With one, it reads every chat updated in that window and delivers each
message the gateway never stored: the way to import history on purpose. Prints what it found.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone as django_timezone

from reconcile.models import ReconcileRun, RunOutcome, RunTrigger
from reconcile.services import reconcile_run


def _since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--since {text!r} is not an ISO 8601 time (e.g. 2025-12-01T09:00:00+03:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _hours(text: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = -1
    if not 0 < hours <= 24 * 366:
        raise CommandError(f"--hours {text!r} must be a number of hours above 0")
    return hours


class Command(BaseCommand):
    help = "Deliver the Avito messages whose notification never arrived (from the watermark, or over a window)."

    def add_arguments(self, parser: CommandParser) -> None:
        window = parser.add_mutually_exclusive_group()
        window.add_argument("--hours", help="read the chats updated in the last N hours")
        window.add_argument("--since", help="read the chats updated since this ISO 8601 time")

    def handle(self, *args, hours=None, since=None, **options) -> None:
        start = _since(since) if since else None
        if hours is not None:
            start = django_timezone.now() - timedelta(hours=_hours(hours))
        run = reconcile_run(trigger=RunTrigger.COMMAND, since=start)
        if run is None:
            raise CommandError("Another reconciliation run is going on; try again in a moment.")
        self.stdout.write(self._report(run))
        if run.outcome in (RunOutcome.ERROR, RunOutcome.BUDGET):
            raise CommandError(f"The run stopped early: {run.error}")

    @staticmethod
    def _report(run: ReconcileRun) -> str:
        if run.outcome == RunOutcome.STARTED:
            return (f"First start: the watermark is now {run.watermark.isoformat()}; no history was delivered. "
                    "Use --hours N or --since <time> to import messages of a past window.")
        return (f"Read {run.chats_seen} chat(s) updated since {run.since.isoformat()} with {run.calls} Avito "
                f"call(s): {run.messages_found} message(s) not stored before, now on their way to n8n. "
                f"Watermark: {run.watermark.isoformat() if run.watermark else 'none'}. Outcome: {run.outcome}.")
