"""Input validation and output shape of the telemetry endpoints (no business rules here).

``EventBatchSerializer`` documents the body of ``POST /v1/telemetry/events`` in the schema; the batch is
checked event by event by ``telemetry.services.ingest`` (the same rules, one event's error never fails
the others), so it is not used to validate.
"""

from __future__ import annotations

import datetime as dt
import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mosis.core.fields import StrictCharField
from mosis.core.query import QuerySerializer

from .constants import (
    ANALYTICS_DEFAULT_DAYS,
    ANALYTICS_MAX_DAYS,
    ANALYTICS_METRICS,
    APP_VERSION_MAX_LENGTH,
    CRASH_MESSAGE_MAX_LENGTH,
    CRASH_TYPE_MAX_LENGTH,
    EVENT_TYPE_MAX_LENGTH,
    EVENT_TYPE_PATTERN,
    MAX_BATCH_EVENTS,
    STACK_TRACE_MAX_LENGTH,
)
from .services.partitions import utc_today


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(StrictCharField):
    """An ISO 8601 date-time with an offset, passed on as text: the service parses and clamps it."""

    MAX_LENGTH = 40

    def __init__(self, **kwargs):
        super().__init__(max_length=self.MAX_LENGTH, **kwargs)


# --- events ---------------------------------------------------------------------------------------------


class EventSerializer(serializers.Serializer):
    app_id = serializers.UUIDField(help_text="The app the event is about.")
    event_type = serializers.RegexField(
        EVENT_TYPE_PATTERN,
        max_length=EVENT_TYPE_MAX_LENGTH,
        help_text="Lowercase letters, digits, '_', '.', ':' and '-', starting with a letter; the 'mosis.' "
        "prefix is reserved.",
    )
    event_data = serializers.DictField(
        required=False, help_text="A JSON object of at most 8 KiB (compact JSON), nested at most 8 deep."
    )
    timestamp = TimestampField(
        required=False,
        help_text="When it happened (default: when received). Later than the moment of receipt is clamped to "
        "it; older than TELEMETRY_RETENTION_DAYS is rejected.",
    )


class EventBatchSerializer(serializers.Serializer):
    refuses_unknown_fields = (
        True  # TelemetryViewSet.events: any other top-level field is a 400 (a typo'd batch)
    )
    events = serializers.ListField(child=EventSerializer(), min_length=1, max_length=MAX_BATCH_EVENTS)


class RejectedEventSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in the batch (0-based).")
    error = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Events stored.")
    rejected = RejectedEventSerializer(many=True)


# --- crashes --------------------------------------------------------------------------------------------


class CrashReportInputSerializer(serializers.Serializer):
    app_id = serializers.UUIDField()
    app_version = StrictCharField(max_length=APP_VERSION_MAX_LENGTH)
    crash_type = StrictCharField(
        max_length=CRASH_TYPE_MAX_LENGTH, help_text="e.g. java.lang.NullPointerException"
    )
    message = StrictCharField(
        max_length=CRASH_MESSAGE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
    )
    stack_trace = StrictCharField(
        max_length=STACK_TRACE_MAX_LENGTH, required=False, allow_blank=True, default="", trim_whitespace=False
    )
    context = serializers.DictField(
        required=False, help_text="A JSON object of at most 16 KiB (compact JSON), nested at most 8 deep."
    )
    timestamp = TimestampField(required=False)


# The text fields of a crash report as CrashReportInputSerializer declares them: (name, max length, may be
# blank, whitespace trimmed, required).
_CRASH_TEXT_FIELDS = (
    ("app_version", APP_VERSION_MAX_LENGTH, False, True, True),
    ("crash_type", CRASH_TYPE_MAX_LENGTH, False, True, True),
    ("message", CRASH_MESSAGE_MAX_LENGTH, True, False, False),
    ("stack_trace", STACK_TRACE_MAX_LENGTH, True, False, False),
    ("timestamp", TimestampField.MAX_LENGTH, False, True, False),
)
_MISSING = object()


def crash_report_input(data) -> dict:
    """``CrashReportInputSerializer``'s validated data for ``data``; its ``ValidationError`` when invalid.

    A report whose every field is plainly valid (what devices send) is read here directly, with the
    serializer's own rules: building a DRF serializer (a deep copy of its fields) and running its validators
    character by character costs ~250 µs, more than the database spends counting the report. Anything else
    goes through the serializer, which alone words the errors. ``tests/telemetry/test_serializers.py`` checks
    both give the same answer.
    """
    valid = _plainly_valid_crash_report(data)
    if valid is not None:
        return valid
    serializer = CrashReportInputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _plainly_valid_crash_report(data) -> dict | None:
    """The validated data, or None whenever the serializer might answer anything else."""
    if type(data) is not dict:
        return None
    app_id = data.get("app_id")
    if type(app_id) is not str:
        return None
    try:
        validated = {"app_id": uuid.UUID(app_id)}  # what UUIDField does with a string
    except ValueError:
        return None
    for name, max_length, may_be_blank, trimmed, required in _CRASH_TEXT_FIELDS:
        value = data.get(name, _MISSING)
        if value is _MISSING:
            if required:
                return None
            if may_be_blank:  # message and stack_trace default to ""; a missing timestamp stays missing
                validated[name] = ""
            continue
        if type(value) is not str:
            return None
        if trimmed:
            value = value.strip()
        if (not value and not may_be_blank) or len(value) > max_length or "\x00" in value:
            return None
        if not value.isascii():
            try:
                value.encode()  # refuses exactly the surrogates DRF's validator refuses
            except UnicodeEncodeError:
                return None
        validated[name] = value
    context = data.get("context", _MISSING)
    if context is not _MISSING:
        if type(context) is not dict:
            return None
        validated["context"] = dict(context)  # DictField's copy; JSON keys are already strings
    return validated


class CrashCreatedSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="The crash group the report was counted in.")


class CrashVersionSerializer(serializers.Serializer):
    app_version = serializers.CharField()
    occurrences = serializers.IntegerField()
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()


class CrashSampleSerializer(serializers.Serializer):
    app_version = serializers.CharField()
    message = serializers.CharField()
    stack_trace = serializers.CharField()
    context = serializers.DictField()
    timestamp = serializers.DateTimeField()


class CrashReportSerializer(serializers.Serializer):
    """Seed 000's ``CrashReport``, grouped: one crash group, with its counts per app version."""

    id = serializers.UUIDField()
    app_id = serializers.UUIDField()
    app_version = serializers.CharField(source="shown_app_version")
    crash_type = serializers.CharField()
    message = serializers.CharField()
    stack_trace = serializers.CharField()
    context = serializers.DictField()
    occurrences = serializers.IntegerField(source="shown_occurrences")
    first_seen = serializers.DateTimeField(source="shown_first_seen")
    last_seen = serializers.DateTimeField(source="shown_last_seen")
    versions = CrashVersionSerializer(many=True, source="versions.all")


class CrashDetailSerializer(CrashReportSerializer):
    app_version = serializers.CharField()
    occurrences = serializers.IntegerField()
    first_seen = serializers.DateTimeField()
    last_seen = serializers.DateTimeField()
    samples = CrashSampleSerializer(many=True, source="recent_samples")


CRASH_VERSION_HELP = "Only this app version."


class CrashQuerySerializer(QuerySerializer):
    """The portal's crash filter validates with this (the API reads ``telemetry.filters``)."""

    version = StrictCharField(required=False, max_length=APP_VERSION_MAX_LENGTH, help_text=CRASH_VERSION_HELP)


# --- analytics ------------------------------------------------------------------------------------------
ANALYTICS_START_HELP = f"First UTC day (default: {ANALYTICS_DEFAULT_DAYS - 1} days before end_date)."
ANALYTICS_END_HELP = "Last UTC day, inclusive (default: today)."
ANALYTICS_METRICS_HELP = f"Comma-separated, any of {', '.join(ANALYTICS_METRICS)} (default: all)."
ANALYTICS_METRICS_MAX_LENGTH = 100


def analytics_metrics(value: str) -> tuple[str, ...]:
    """``metrics=downloads,crashes`` → the metrics asked for, in their fixed order; a ValidationError
    naming the unknown ones."""
    names = [name.strip() for name in value.split(",")]
    unknown = sorted({name for name in names if name not in ANALYTICS_METRICS})
    if unknown:
        raise serializers.ValidationError(
            f"Unknown metric(s): {', '.join(unknown)}. Known: {', '.join(ANALYTICS_METRICS)}."
        )
    return tuple(name for name in ANALYTICS_METRICS if name in names)


def analytics_range(*, start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    """The analytics days asked for, defaults filled in (the last 30 days up to today); a ValidationError
    naming ``start_date`` or ``end_date`` when start is after end or the range passes 366 days. The one rule
    of ``GET /v1/apps/{id}/analytics`` (``telemetry.filters``) and of the portal's analytics page."""
    end = end or utc_today()
    if start is None:
        try:
            start = end - dt.timedelta(days=ANALYTICS_DEFAULT_DAYS - 1)
        except OverflowError:  # an end_date in the first days of year 1
            start = dt.date.min
    if start > end:
        raise serializers.ValidationError({"start_date": ["Must not be after end_date."]})
    if (end - start).days >= ANALYTICS_MAX_DAYS:
        raise serializers.ValidationError(
            {"end_date": [f"The range may span at most {ANALYTICS_MAX_DAYS} days."]}
        )
    return start, end


class AnalyticsQuerySerializer(QuerySerializer):
    """The portal's analytics form validates with this (the API reads ``telemetry.filters``)."""

    start_date = serializers.DateField(
        required=False,
        help_text=ANALYTICS_START_HELP,
    )
    end_date = serializers.DateField(required=False, help_text=ANALYTICS_END_HELP)
    metrics = StrictCharField(
        required=False, max_length=ANALYTICS_METRICS_MAX_LENGTH, help_text=ANALYTICS_METRICS_HELP
    )

    def validate_metrics(self, value: str) -> tuple[str, ...]:
        return analytics_metrics(value)

    def validate(self, attrs):
        start, end = analytics_range(start=attrs.get("start_date"), end=attrs.get("end_date"))
        return {"start": start, "end": end, "metrics": attrs.get("metrics") or ANALYTICS_METRICS}


class AnalyticsDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    downloads = serializers.IntegerField(required=False, help_text="Distinct-client downloads that day.")
    active_users = serializers.IntegerField(required=False, help_text="Distinct devices that sent events.")
    crashes = serializers.IntegerField(required=False, help_text="Crash reports received for that day.")


class AnalyticsSerializer(serializers.Serializer):
    data = AnalyticsDaySerializer(many=True, help_text="One row per day, oldest first, zero-filled.")
