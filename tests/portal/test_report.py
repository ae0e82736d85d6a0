"""The validation report as the portal shows it: every issue code has a fix; errors come first."""

from mosis_package import ISSUE_CODES, ISSUE_FIXES
from portal.report import DEFAULT_FIX, is_retryable, report_items


def test_every_issue_code_the_validator_can_emit_has_a_fix():
    assert set(ISSUE_FIXES) == set(ISSUE_CODES)


def test_errors_come_before_warnings_and_each_carries_its_fix():
    report = {
        "warnings": [
            {"code": "ICON_NOT_SQUARE", "message": "80x64", "path": "icon.png", "severity": "warning"}
        ],
        "errors": [
            {"code": "ICON_MISSING", "message": "no icon", "path": "icon.png", "severity": "error"},
            {"code": "SOMETHING_NEW", "message": "?", "path": None, "severity": "error"},
        ],
    }
    items = report_items(report)
    assert [(i.severity, i.code) for i in items] == [
        ("error", "ICON_MISSING"),
        ("error", "SOMETHING_NEW"),
        ("warning", "ICON_NOT_SQUARE"),
    ]
    assert items[0].fix == ISSUE_FIXES["ICON_MISSING"]
    assert items[1].fix == DEFAULT_FIX
    assert items[2].path == "icon.png"


def test_a_missing_or_odd_report_reads_as_empty():
    assert report_items(None) == []
    assert report_items({"errors": ["not a dict"], "warnings": None}) == []


def test_only_an_internal_failure_is_retryable():
    assert is_retryable({"errors": [{"code": "INTERNAL"}]})
    assert not is_retryable({"errors": [{"code": "ICON_MISSING"}]})
    assert not is_retryable(None)
