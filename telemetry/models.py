"""Telemetry data: raw events, crash groups with their per-version counts and samples, daily rollups."""

from django.db import models

from mosis.core.models import BaseModel


class TelemetryEvent(models.Model):
    """One raw event, as a device or a developer's backend sent it; the volume table.

    On PostgreSQL the table is partitioned by month on ``timestamp`` (native range partitions, created ahead
    by ``telemetry_partitions_maintain`` and dropped whole past ``TELEMETRY_RETENTION_DAYS``; migration 0001
    creates it with SQL). A partitioned table's primary key must contain the partition key, so there it is
    ``("timestamp", id)``, which is also the time index every rollup reads through; Django only ever sees
    ``id`` (no code looks an event up by id). On SQLite (embedded mode) it is an ordinary table.

    ``app`` and ``device`` carry no foreign-key constraint: a constraint check per row would cost the bulk
    load, and rows of a deleted draft app simply age out with their partition. Rows are only ever written
    by ``telemetry.services.ingest`` (COPY or one multi-row INSERT a batch).
    """

    id = models.BigAutoField(primary_key=True)
    timestamp = models.DateTimeField()  # when it happened (clamped: never after it was received)
    app = models.ForeignKey(
        "apps.App", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    # The reporting device (distinct devices a day = active users); null when a developer credential sent it.
    device = models.ForeignKey(
        "accounts.Device",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        db_index=False,
    )
    event_type = models.CharField(max_length=64)
    event_data = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        db_table = "telemetry_event"
        indexes = [models.Index(fields=["timestamp"], name="telemetry_event_ts")]

    def __str__(self):
        return f"{self.event_type} {self.timestamp:%Y-%m-%d %H:%M}"


class CrashGroup(BaseModel):
    """Crash reports of one app that share a fingerprint (crash type + normalised message + top frames).

    ``crash_type``, ``message``, ``stack_trace`` and ``context`` are the first report's; ``app_version`` is
    the latest report's. Counted by an upsert under the unique (app, fingerprint) constraint, so concurrent
    identical crashes can never make two groups.
    """

    app = models.ForeignKey(  # indexed by the unique constraint and the list index, both led by app
        "apps.App", on_delete=models.CASCADE, related_name="crash_groups", db_index=False
    )
    fingerprint = models.CharField(max_length=64)
    crash_type = models.CharField(max_length=200)
    message = models.TextField(blank=True)
    stack_trace = models.TextField(blank=True)
    context = models.JSONField(default=dict, blank=True)
    app_version = models.CharField(max_length=64)
    occurrences = models.BigIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app", "fingerprint"], name="uniq_crash_group_fingerprint"),
        ]
        indexes = [models.Index(fields=["app", "-last_seen"], name="crash_group_app_last_seen")]

    def __str__(self):
        return f"{self.crash_type}: {self.message[:60]}"


class CrashGroupVersion(models.Model):
    """A crash group's count for one app version (``GET /v1/apps/{id}/crashes?version=``)."""

    group = models.ForeignKey(CrashGroup, on_delete=models.CASCADE, related_name="versions", db_index=False)
    app = models.ForeignKey("apps.App", on_delete=models.CASCADE, related_name="+", db_index=False)
    app_version = models.CharField(max_length=64)
    occurrences = models.BigIntegerField(default=0)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "app_version"], name="uniq_crash_group_version"),
        ]
        indexes = [
            models.Index(fields=["app", "app_version", "-last_seen"], name="crash_version_app_last_seen"),
        ]

    def __str__(self):
        return f"{self.app_version}: {self.occurrences}"


class CrashSample(models.Model):
    """One of the last ``SAMPLES_PER_GROUP`` raw reports of a group: report n goes to slot n mod N (a ring),
    so the sample stays bounded with one upsert per report and no delete."""

    group = models.ForeignKey(CrashGroup, on_delete=models.CASCADE, related_name="samples", db_index=False)
    slot = models.PositiveSmallIntegerField()
    app_version = models.CharField(max_length=64)
    message = models.TextField(blank=True)
    stack_trace = models.TextField(blank=True)
    context = models.JSONField(default=dict, blank=True)
    timestamp = models.DateTimeField()
    device = models.ForeignKey(
        "accounts.Device", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "slot"], name="uniq_crash_sample_slot")]

    def __str__(self):
        return f"{self.app_version} {self.timestamp:%Y-%m-%d %H:%M}"


class AppDailyStats(models.Model):
    """One app's figures for one UTC day, rolled up from the store's download counts and the raw events.

    Written only by ``telemetry.services.rollups`` (beat, hourly, and ``manage.py rollup_stats``) as absolute
    values, so a re-run never double counts. ``GET /v1/apps/{id}/analytics`` reads only this table.
    """

    app = models.ForeignKey("apps.App", on_delete=models.CASCADE, related_name="daily_stats", db_index=False)
    day = models.DateField()
    downloads = models.BigIntegerField(default=0)
    active_users = models.BigIntegerField(default=0)
    crashes = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["app", "day"], name="uniq_app_daily_stats")]
        indexes = [models.Index(fields=["day"], name="app_daily_stats_day")]
        verbose_name_plural = "app daily stats"

    def __str__(self):
        return f"{self.day}"
