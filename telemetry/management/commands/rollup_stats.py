"""``manage.py rollup_stats --from --to``: recompute a day range of statistics (SPEC §10).

The one command for daily figures: the store's download counts (folded, recounted from the events it still
keeps, listing totals recomputed as of --to) and every app's daily downloads, active users and crashes.
Idempotent: every figure is rewritten as an absolute value.
"""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from telemetry.constants import ANALYTICS_MAX_DAYS
from telemetry.services import stats_recompute
from telemetry.services.partitions import utc_today


def _date(value: str, flag: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{flag} must be a date like 2026-11-01, not {value!r}.")


class Command(BaseCommand):
    help = (
        "Recompute daily statistics for --from..--to (UTC days): fold pending downloads and recount the "
        "store's per-day download counts, recompute listing totals as of --to, then rewrite every app's "
        "daily downloads, active users and crashes. Days older than TELEMETRY_RETENTION_DAYS have no raw "
        "events left: only their downloads are recomputed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="first UTC day, YYYY-MM-DD (default: --to)")
        parser.add_argument("--to", dest="end", help="last UTC day, YYYY-MM-DD (default: today)")

    def handle(self, *args, start=None, end=None, **options):
        today = utc_today()
        end_day = _date(end, "--to") if end else today
        start_day = _date(start, "--from") if start else end_day
        if start_day > end_day:
            raise CommandError("--from must not be after --to.")
        if (end_day - start_day).days >= ANALYTICS_MAX_DAYS:
            raise CommandError(f"the range may span at most {ANALYTICS_MAX_DAYS} days.")
        if end_day > today:
            raise CommandError("--to cannot be in the future.")
        report = stats_recompute(start=start_day, end=end_day)
        self.stdout.write(
            f"folded {report.downloads_folded} pending download events; recounted "
            f"{report.download_days_recounted} version-days; listings recomputed as of {end_day}; "
            f"rolled up {report.rollup.rows} app-days over {report.rollup.days} days from {start_day} to {end_day}"
        )
        if report.rollup.downloads_only_days:
            days = report.rollup.downloads_only_days
            self.stdout.write(
                f"{len(days)} day(s) from {days[0]} to {days[-1]} are past the event retention: "
                "their active users and crashes were kept as stored"
            )
