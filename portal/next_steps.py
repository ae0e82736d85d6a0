"""'What to do next' for one app on the dashboard, read from its state (no rule is decided here: the
services still refuse what is not allowed; this only points at the page where the next move is made)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from apps.constants import AppStatus
from versions.constants import VersionStatus

from .report import is_retryable

HIDDEN_BY_STAFF = (AppStatus.PENDING_DISABLE, AppStatus.SUSPENDED, AppStatus.DISABLED)


@dataclass(frozen=True)
class NextStep:
    text: str
    url: str
    tone: str  # "action" (the developer can act), "wait" (the store acts), "problem", "done"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def next_step_for(*, app, newest) -> NextStep:
    """The next move for ``app`` whose newest version (any state, highest version code) is ``newest``."""
    app_url = reverse("portal:app", args=[app.pk])
    new_version_url = reverse("portal:version-new", args=[app.pk])
    if app.status in HIDDEN_BY_STAFF:
        return NextStep(
            f"Your app is {AppStatus(app.status).label.lower()}: the store's staff emailed you why.",
            app_url,
            "problem",
        )
    if newest is None:
        return NextStep("Upload your first version", new_version_url, "action")
    name = newest.version_name
    url = reverse("portal:version", args=[app.pk, newest.pk])
    status = newest.status
    if status == VersionStatus.UPLOADING:
        return NextStep(f"Upload the package of {name}", url, "action")
    if status == VersionStatus.VALIDATING:
        return NextStep(f"Validation of {name} is running", url, "wait")
    if status == VersionStatus.REJECTED:
        report = newest.validation_report or {}
        if newest.reviewed_at is not None:
            return NextStep(f"Read the reviewer's notes on {name}", url, "problem")
        if is_retryable(report):
            return NextStep(f"Retry the validation of {name}", url, "action")
        errors = len(report.get("errors") or [])
        return NextStep(f"Fix {_plural(errors, 'validation error')} in {name}", url, "problem")
    if status == VersionStatus.DRAFT:
        return NextStep(f"Submit {name} for review", url, "action")
    if status == VersionStatus.REVIEW:
        return NextStep(f"{name} is waiting for a reviewer", url, "wait")
    if status == VersionStatus.APPROVED:
        return NextStep(f"Publish {name}", url, "action")
    if newest.yanked_at is not None:
        return NextStep(f"{name} was yanked: upload a fixed version", new_version_url, "action")
    if app.status == AppStatus.UNLISTED:
        return NextStep("Your app is unlisted: relist it to show it in the store", app_url, "action")
    return NextStep(f"{name} is live: upload the next version when it is ready", new_version_url, "done")
