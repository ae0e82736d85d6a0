"""The validation report as a developer reads it: errors first, each with what to do about it.

The validator's report (``AppVersion.validation_report``) says what is wrong; ``mosis_package.ISSUE_FIXES``
says how to fix it — the one table of fixes, which the CLI prints and docs/package-format.md shows too.
"""

from __future__ import annotations

from dataclasses import dataclass

from mosis_package import ISSUE_FIXES

DEFAULT_FIX = "See the validation report table in the package format guide."


@dataclass(frozen=True)
class ReportItem:
    severity: str  # "error" | "warning"
    code: str
    message: str
    path: str | None
    fix: str


def report_items(report: dict | None) -> list[ReportItem]:
    """The report's issues, errors first then warnings, each with its fix."""
    report = report or {}
    items: list[ReportItem] = []
    for severity, key in (("error", "errors"), ("warning", "warnings")):
        for issue in report.get(key) or []:
            if not isinstance(issue, dict):
                continue
            code = str(issue.get("code") or "")
            items.append(
                ReportItem(
                    severity=severity,
                    code=code,
                    message=str(issue.get("message") or ""),
                    path=issue.get("path") or None,
                    fix=ISSUE_FIXES.get(code, DEFAULT_FIX),
                )
            )
    return items


def is_retryable(report: dict | None) -> bool:
    """A rejection caused by the store (``INTERNAL``): upload-complete may be sent again."""
    return any((issue or {}).get("code") == "INTERNAL" for issue in (report or {}).get("errors") or [])
