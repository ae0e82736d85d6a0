"""The emails of the review state machine, apart from it: the lifecycle sends them after a transition and
the review service after a decision, and neither has to import the other to do so."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from mosis.core.siteurl import absolute_url

from ..constants import ReviewDecision, VersionStatus
from ..models import AppVersion

logger = logging.getLogger("mosis.versions.review")


def version_portal_url(version: AppVersion) -> str:
    """The absolute URL of the version's page in the developer portal."""
    return absolute_url(f"/portal/apps/{version.app_id}/versions/{version.pk}/")


def review_decision_email(*, version_id, decision: str) -> None:
    """Email the owner a reviewer's decision: the verdict, the notes quoted line by line, and the version's
    portal page. A mail outage is logged, never raised: the decision is already committed."""
    version = AppVersion.objects.select_related("app__owner").filter(pk=version_id).first()
    if version is None or not version.app.owner.email:
        return
    app = version.app
    verdict = "approved" if decision == ReviewDecision.APPROVE else "rejected"
    context = {
        "app": app,
        "version": version,
        "verdict": verdict,
        "quoted_notes": [f"> {line}".rstrip() for line in version.review_notes.splitlines()],
        "portal_url": version_portal_url(version),
        "published": version.status == VersionStatus.PUBLISHED,
    }
    try:
        send_mail(
            subject=f"[{settings.SITE_NAME}] {app.package_id} {version.version_name} {verdict}",
            message=render_to_string("versions/email/review_decision.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[app.owner.email],
        )
    except Exception:  # the decision is committed; a mail outage must not turn it into an error
        logger.exception("review decision email for version %s failed", version_id)
