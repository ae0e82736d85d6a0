"""Abuse reports (SPEC §5, seed 001): reports email staff, and enough distinct reporters hide the app.

Rules:

* Reasons: ``malware``, ``spam``, ``broken``, ``impersonation``, ``other``; comment ≤ 5000 characters.
* One open report per (user, app) per day: a repeat by the same user within ``ABUSE_REPORT_REPEAT_HOURS``
  (24 h) updates their report (reason, comment) instead of adding one, and never counts twice. Reporters are
  counted distinct over the app's *unresolved* reports, so reports that staff resolved do not trigger again.
* Once ``ABUSE_HIDE_THRESHOLD`` distinct *qualifying* users have open reports — or as soon as a staff member
  reports — a ``published`` or ``unlisted`` app moves to ``pending_disable`` through
  ``apps.services.app_set_status`` (``system=True``), which takes it out of the listings. Staff then decide
  in the admin (disable, suspend, or back to published). A reporter qualifies with a verified email and an
  account at least ``ABUSE_REPORTER_MIN_AGE_DAYS`` old (default 3; 0 turns the age rule off): three accounts
  made a minute ago cannot hide an app. Every report, qualifying or not, reaches staff.
* One user files at most ``ABUSE_REPORTS_PER_USER_DAY`` new reports in 24 hours (429 beyond).
* Each new report (not a same-day update) emails ``STAFF_NOTIFY_EMAILS`` after commit.
* The developer may not report their own app (403).
* Per-IP cap: ``ABUSE_REPORT_IP_RATE`` (default ``20/h``) reports from one IP address, counted like the
  API's rate limits (``mosis.core.ratelimit``), on top of the per-client ``write`` rate limit; over it
  answers 429.

The app row is locked while a report is counted, so concurrent reports cannot both miss the threshold.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from apps.constants import AppStatus
from apps.models import App
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.ratelimit import rate_limit_count
from mosis.core.siteurl import site_url
from store.models import AbuseReason, AbuseReport

logger = logging.getLogger(__name__)

COMMENT_MAX = 5000
HIDEABLE_STATUSES = (AppStatus.PUBLISHED, AppStatus.UNLISTED)


def _repeat_window() -> timedelta:
    return timedelta(hours=settings.ABUSE_REPORT_REPEAT_HOURS)


def abuse_ip_rate_check(*, ip: str) -> None:
    """Count one report against the caller's IP address; 429 ``RATE_LIMITED`` past ``ABUSE_REPORT_IP_RATE``
    (an unreachable cache lets the report through, like every rate limit)."""
    if not settings.RATE_LIMITS_ENABLED:
        return
    usage = rate_limit_count(
        category="abuse-report", principal=f"ip:{ip}", rate=settings.ABUSE_REPORT_IP_RATE
    )
    if usage is not None and usage.should_limit:
        raise ApplicationError(
            ErrorCode.RATE_LIMITED,
            "Too many abuse reports from this address; try again later.",
            headers={"Retry-After": str(usage.time_left)},
        )


def abuse_report_submit(*, app: App, reporter, reason: str, comment: str = "") -> tuple[AbuseReport, bool]:
    """File (or, within a day, update) ``reporter``'s report on ``app``. Returns ``(report, created)``."""
    comment = (comment or "").strip()
    if reason not in AbuseReason.values:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "Unknown abuse reason.",
            {"reason": [f"Must be one of: {', '.join(AbuseReason.values)}."]},
        )
    if len(comment) > COMMENT_MAX:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"A comment has at most {COMMENT_MAX} characters.",
            {"comment": [f"Ensure this field has no more than {COMMENT_MAX} characters."]},
        )
    if app.owner_id == reporter.pk:
        raise ApplicationError(ErrorCode.FORBIDDEN, "Developers may not report their own app.")
    day_ago = timezone.now() - timedelta(days=1)
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        since = timezone.now() - _repeat_window()
        report = (
            AbuseReport.objects.filter(
                app=locked, reporter=reporter, resolved_at__isnull=True, created_at__gte=since
            )
            .order_by("-created_at")
            .first()
        )
        created = report is None
        if created:
            filed = AbuseReport.objects.filter(reporter=reporter, created_at__gte=day_ago).count()
            if filed >= settings.ABUSE_REPORTS_PER_USER_DAY:
                raise ApplicationError(
                    ErrorCode.RATE_LIMITED,
                    f"You filed {filed} abuse reports in the last 24 hours, the most one account may; "
                    "staff have them all. Try again tomorrow.",
                    headers={"Retry-After": "3600"},
                )
            report = AbuseReport.objects.create(app=locked, reporter=reporter, reason=reason, comment=comment)
        else:
            report.reason, report.comment = reason, comment
            report.save(update_fields=["reason", "comment", "updated_at"])
        if locked.status in HIDEABLE_STATUSES and (
            reporter.is_staff or abuse_qualifying_reporter_count(app=locked) >= settings.ABUSE_HIDE_THRESHOLD
        ):
            _hide_pending_review(app=locked, reporter=reporter)
        if created:
            report_id = report.pk
            transaction.on_commit(lambda: abuse_notify_staff(report_id=report_id))
    return report, created


def abuse_open_reporter_count(*, app: App) -> int:
    """Distinct users with an unresolved report on ``app``."""
    return (
        AbuseReport.objects.filter(app=app, resolved_at__isnull=True).values("reporter_id").distinct().count()
    )


def abuse_qualifying_reporter_count(*, app: App) -> int:
    """Distinct users with an unresolved report on ``app`` who count toward the hide threshold: a verified
    email (allauth's EmailAddress) and an account at least ``ABUSE_REPORTER_MIN_AGE_DAYS`` old."""
    reports = AbuseReport.objects.filter(app=app, resolved_at__isnull=True).filter(
        Exists(EmailAddress.objects.filter(user_id=OuterRef("reporter_id"), verified=True))
    )
    min_age = settings.ABUSE_REPORTER_MIN_AGE_DAYS
    if min_age > 0:
        reports = reports.filter(reporter__created_at__lte=timezone.now() - timedelta(days=min_age))
    return reports.values("reporter_id").distinct().count()


def _hide_pending_review(*, app: App, reporter) -> None:
    from apps.services import app_set_status

    why = (
        "staff report"
        if reporter.is_staff
        else f"{settings.ABUSE_HIDE_THRESHOLD} distinct abuse reports from established accounts"
    )
    app_set_status(app=app, to=AppStatus.PENDING_DISABLE, reason=f"Abuse: {why}", system=True)


def abuse_notify_staff(*, report_id) -> None:
    """Email the staff list about one report (called after commit; a mail failure never loses the report)."""
    report = AbuseReport.objects.select_related("app", "reporter").filter(pk=report_id).first()
    recipients = list(settings.STAFF_NOTIFY_EMAILS)
    if report is None or not recipients:
        return
    app = report.app
    subject = f"[{settings.SITE_NAME}] Abuse report ({report.reason}) on {app.package_id}"
    body = (
        f"App: {app.name} ({app.package_id})\n"
        f"Status: {app.status}\n"
        f"Reason: {report.get_reason_display()}\n"
        f"Reporter: {report.reporter.email}\n"
        f"Open reports from distinct users: {abuse_open_reporter_count(app=app)} "
        f"({abuse_qualifying_reporter_count(app=app)} from established accounts, which count toward hiding "
        f"the app at {settings.ABUSE_HIDE_THRESHOLD})\n\n"
        f"{report.comment or '(no comment)'}\n\n"
        f"Review it in the admin: {site_url()}/admin/store/abusereport/?app__id__exact={app.pk}\n"
    )
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # the report is stored; staff also see it in the admin
        logger.exception("could not email staff about abuse report %s", report_id)


def abuse_reports_resolve(*, reports: QuerySet[AbuseReport]) -> int:
    """Staff: mark reports resolved (they stop counting towards the threshold)."""
    return reports.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


def abuse_apps_set_status(*, app_ids, to: str, actor, reason: str = "") -> int:
    """Staff decision on reported apps (disable, suspend, back to published) through ``app_set_status``."""
    from apps.services import app_set_status

    changed = 0
    for app in App.objects.filter(pk__in=list(app_ids)).order_by("pk"):
        if app.status != to:
            app_set_status(app=app, to=to, actor=actor, reason=reason or "Abuse report decision")
            changed += 1
    return changed
