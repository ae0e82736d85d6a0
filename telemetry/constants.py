"""Telemetry limits and names (SPEC §5 Telemetry, §11). Every bound here has a test."""

import re

# --- event batches (POST /v1/telemetry/events) -------------------------------------------------------------
MAX_BATCH_EVENTS = 1000  # more is a 400; the 1 MiB body bound is MAX_JSON_BODY (413)
EVENT_TYPE_MAX_LENGTH = 64
# A bounded slug: starts with a letter; lowercase letters, digits, "_", ".", ":" and "-".
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_.:-]{0,63}$"
EVENT_TYPE_RE = re.compile(EVENT_TYPE_PATTERN)
# The store writes its own events under this prefix (a crash report is also an event, counted per day);
# clients cannot send them.
RESERVED_EVENT_PREFIX = "mosis."
CRASH_EVENT_TYPE = "mosis.crash"
EVENT_DATA_MAX_BYTES = 8 * 1024  # event_data serialized as compact JSON
JSON_MAX_DEPTH = 8  # nesting of event_data and crash context
EVENT_FIELDS = frozenset({"app_id", "event_type", "event_data", "timestamp"})

# --- crash reports (POST /v1/telemetry/crash) --------------------------------------------------------------
APP_VERSION_MAX_LENGTH = 64
CRASH_TYPE_MAX_LENGTH = 200
CRASH_MESSAGE_MAX_LENGTH = 4096
STACK_TRACE_MAX_LENGTH = 64 * 1024
CONTEXT_MAX_BYTES = 16 * 1024
FINGERPRINT_FRAMES = 5  # top frames of the stack that take part in the fingerprint
SAMPLES_PER_GROUP = 10  # raw reports kept per crash group: the most recent ones, in a ring

# --- analytics --------------------------------------------------------------------------------------------
ANALYTICS_METRICS = ("downloads", "active_users", "crashes")
ANALYTICS_MAX_DAYS = 366
ANALYTICS_DEFAULT_DAYS = 30
