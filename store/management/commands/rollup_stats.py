"""Recompute download statistics for a day range (SPEC §10 ``rollup_stats``)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from store.services.downloads import downloads_recount_days, downloads_rollup, listing_downloads_recompute

MAX_RANGE_DAYS = 366


def _date(value: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{flag} must be a date like 2026-11-01, not {value!r}.")


class Command(BaseCommand):
    help = (
        "Fold pending download events, recount per-day downloads for --from..--to from the events still "
        "retained, and recompute every listing's total and last-7-days counts as of --to."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="first UTC day (default: --to)")
        parser.add_argument("--to", dest="end", help="last UTC day (default: today)")

    def handle(self, *args, start=None, end=None, **options):
        today = timezone.now().astimezone(dt.UTC).date()
        end_day = _date(end, "--to") if end else today
        start_day = _date(start, "--from") if start else end_day
        if start_day > end_day:
            raise CommandError("--from must not be after --to.")
        if (end_day - start_day).days >= MAX_RANGE_DAYS:
            raise CommandError(f"the range may span at most {MAX_RANGE_DAYS} days.")
        if end_day > today:
            raise CommandError("--to cannot be in the future.")
        folded = 0
        while True:
            batch = downloads_rollup(today=end_day)
            folded += batch
            if batch == 0:
                break
        recounted = downloads_recount_days(start=start_day, end=end_day)
        listing_downloads_recompute(today=end_day, app_ids=None)
        self.stdout.write(
            f"folded {folded} pending download events; recounted {recounted} version-days "
            f"from {start_day} to {end_day}; listings recomputed as of {end_day}"
        )
