"""Activity events in words: the one human-readable rendering of an ``ActivityEvent`` (admin History views,
the review page, the console's index), e.g. "1.4.0: status: review → approved by ana@example.com".

Plain text; templates escape it. Every event type the services write has a sentence; an unknown type (a
newer app's) still reads as ``key: value`` pairs, never as a Python dict.
"""

from __future__ import annotations

from .models import ActivityEvent

UNSET = "(none)"


def _actor(event: ActivityEvent) -> str:
    """ "by <email>" for a person, "by the store" for automatic steps (validation, abuse threshold)."""
    if event.actor_id is None:
        return "by the store"
    return f"by {event.actor.email}" if event.actor.email else "by a deleted user"


def _version_label(event: ActivityEvent) -> str:
    data = event.data or {}
    name, code = data.get("version_name"), data.get("version_code")
    if name and code is not None:
        return f"{name} (code {code})"
    return str(name or code or "version")


def _value(value) -> str:
    if value in (None, ""):
        return UNSET
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value) or UNSET
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) or UNSET
    return str(value)


def describe_event(event: ActivityEvent) -> str:
    """One line (two when there are notes or a reason) saying what happened, to what, and who did it."""
    data = event.data or {}
    who = _actor(event)
    kind = event.type
    if kind == "app.status_changed":
        text = f"app status: {_value(data.get('from'))} → {_value(data.get('to'))} {who}"
        return _with_note(text, "reason", data.get("reason"))
    if kind == "app.created":
        return f"app {_value(data.get('package_id'))} created {who}"
    if kind == "app.updated":
        return f"listing edited ({_value(data.get('fields'))}) {who}"
    if kind == "app.max_mosis_version_changed":
        return f"max Mosis version: {_value(data.get('from'))} → {_value(data.get('to'))} {who}"
    if kind == "app.deleted":
        return f"app {_value(data.get('package_id'))} deleted {who}"
    if kind == "version.created":
        return f"{_version_label(event)} created {who}"
    if kind == "version.yanked":
        return f"{_version_label(event)} yanked from “latest” {who}"
    if kind == "version.deleted":
        return f"{_version_label(event)} deleted while {_value(data.get('status'))} {who}"
    if kind.startswith("version.") and "from" in data and "to" in data:
        text = f"{_version_label(event)}: status: {_value(data['from'])} → {_value(data['to'])} {who}"
        return _with_note(text, "notes", data.get("notes"))
    details = "; ".join(f"{key}: {_value(value)}" for key, value in data.items())
    return f"{kind}{' — ' + details if details else ''} {who}"


def _with_note(text: str, label: str, note) -> str:
    return f"{text}\n{label}: “{note}”" if note else text
