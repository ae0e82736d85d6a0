"""Version reads (querysets designed for their callers: API list, review console, commands)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.models import ActivityEvent, App
from apps.selectors import app_list

from .constants import ReviewFlag, VersionStatus
from .models import AppVersion, CannedResponse, PackageDiff, PackageDiffFile, ReviewClaim, ReviewComment

# An app's latest published version, as ``/v1/apps`` and the portal show it: a read of versions, so it lives
# here (apps sits below versions and never reads them).
LATEST_VERSION_FIELDS = (
    "id",
    "app_id",
    "version_name",
    "version_code",
    "status",
    "package_size",
    "permissions",
    "min_mosis_version",
    "max_mosis_version",
    "release_notes",
    "published_at",
    "created_at",
)


def published_versions_prefetch() -> Prefetch:
    """Published, non-yanked versions newest first, into ``app.published_versions`` (one query per page).

    ``app_latest_version`` reads the first of them, so a list of apps costs one extra query in total.
    """
    return Prefetch(
        "versions",
        queryset=AppVersion.objects.filter(status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
        .only(*LATEST_VERSION_FIELDS)
        .order_by("-version_code"),
        to_attr="published_versions",
    )


def app_latest_version(*, app: App) -> AppVersion | None:
    """The newest published, non-yanked version of ``app`` (None if there is none)."""
    versions = getattr(app, "published_versions", None)
    if versions is None:
        return (
            AppVersion.objects.filter(app=app, status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
            .order_by("-version_code")
            .first()
        )
    return versions[0] if versions else None


def apps_with_latest_version(*, user, status: str | None = None) -> QuerySet[App]:
    """``user``'s apps (``apps.selectors.app_list``: newest first, category loaded) with their latest
    published version prefetched for ``app_latest_version``."""
    return app_list(user=user, status=status).prefetch_related(published_versions_prefetch())


def app_with_details(*, app: App) -> App:
    """Re-read one app with what its API representation needs (category, latest published version)."""
    return (
        App.objects.select_related("category").prefetch_related(published_versions_prefetch()).get(pk=app.pk)
    )


def package_filename(*, package_id: str, version_name: str) -> str:
    """The file name a package is downloaded under (``Content-Disposition``)."""
    return f"{package_id}-{version_name}.mpk"


def version_package_url(*, version: AppVersion) -> str | None:
    """A short-lived signed URL of ``version``'s own package for its owner (seed 000 ``package_url``): any
    state from upload-complete on (the sealed, then content-addressed, immutable copy); None before."""
    from django.conf import settings

    from mosis.core import storage

    if not version.package_key:
        return None
    name = package_filename(package_id=version.app.package_id, version_name=version.version_name)
    return storage.presigned_download(version.package_key, filename=name, expires=settings.DOWNLOAD_URL_TTL)


def version_list(*, app, status: str | None = None) -> QuerySet[AppVersion]:
    """An app's versions, newest ``version_code`` first (index app, status, -version_code)."""
    qs = AppVersion.objects.select_related("app").filter(app=app)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-version_code")


def version_get(*, app, version_id) -> AppVersion | None:
    try:
        return AppVersion.objects.select_related("app").filter(app=app, pk=version_id).first()
    except (ValueError, TypeError):
        return None


def with_review_facts(queryset: QuerySet[AppVersion]) -> QuerySet[AppVersion]:
    """Annotate each version with what the review console compares it with, in the same query:

    ``previous_id``, ``previous_version_name``, ``previous_permissions``, ``previous_dependencies``,
    ``previous_size`` (the app's last published version before it), ``open_abuse_reports`` (unresolved
    reports on the app) and ``earlier_submission`` (the developer submitted or published something before).
    """
    previous = AppVersion.objects.filter(
        app_id=OuterRef("app_id"), status=VersionStatus.PUBLISHED, version_code__lt=OuterRef("version_code")
    ).order_by("-version_code")
    abuse_report = App._meta.get_field("abuse_reports").related_model  # the store's, without importing store
    open_reports = (
        abuse_report.objects.filter(app_id=OuterRef("app_id"), resolved_at__isnull=True)
        .order_by()
        .values("app_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    earlier = (
        AppVersion.objects.filter(app__owner_id=OuterRef("app__owner_id"))
        .exclude(pk=OuterRef("pk"))
        .filter(
            Q(submitted_at__lt=OuterRef("submitted_at"))
            | Q(published_at__isnull=False)
            | Q(status__in=(VersionStatus.APPROVED, VersionStatus.PUBLISHED))
        )
    )
    return queryset.annotate(
        previous_id=Subquery(previous.values("id")[:1]),
        previous_version_name=Subquery(previous.values("version_name")[:1]),
        previous_permissions=Subquery(previous.values("permissions")[:1]),
        previous_dependencies=Subquery(previous.values("dependencies")[:1]),
        previous_size=Subquery(previous.values("package_size")[:1]),
        open_abuse_reports=Coalesce(Subquery(open_reports), 0),
        earlier_submission=Exists(earlier),
    )


def review_queue(*, viewer=None) -> QuerySet[AppVersion]:
    """Versions waiting for a reviewer, oldest submission first — the longest wait on top (index status,
    submitted_at) — with ``with_review_facts`` and each one's claim (``review_claim``) in one query.
    With ``viewer``, ``claimed_by_viewer`` says whether the claim (live or not) is theirs."""
    queryset = with_review_facts(
        AppVersion.objects.filter(status=VersionStatus.REVIEW).select_related(
            "app__owner", "review_claim__reviewer"
        )
    )
    if viewer is not None:
        queryset = queryset.annotate(
            claimed_by_viewer=ExpressionWrapper(
                Q(review_claim__reviewer_id=viewer.pk), output_field=BooleanField()
            )
        )
    return queryset.order_by("submitted_at", "created_at")


def review_version(*, version_id) -> AppVersion | None:
    """One version, in any status, with the facts the review page shows (``with_review_facts``)."""
    try:
        return (
            with_review_facts(
                AppVersion.objects.select_related("app__owner", "reviewed_by", "review_claim__reviewer")
            )
            .filter(pk=version_id)
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None


def previous_from_annotations(version: AppVersion) -> AppVersion | None:
    """The last published version as far as ``with_review_facts``' annotations describe it (for diffs)."""
    if getattr(version, "previous_id", None) is None:
        return None
    return AppVersion(
        id=version.previous_id,
        version_name=getattr(version, "previous_version_name", "") or "",
        permissions=_json(version.previous_permissions, list),
        dependencies=_json(version.previous_dependencies, dict),
        package_size=getattr(version, "previous_size", None),
    )


def _json(value, kind):
    """Subquery over a JSONField comes back decoded on PostgreSQL and as text on SQLite."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, kind) else kind()


def last_published_version(*, version: AppVersion) -> AppVersion | None:
    """The newest published version of the same app before this one (what a reviewer compares with)."""
    return (
        AppVersion.objects.filter(
            app_id=version.app_id, status=VersionStatus.PUBLISHED, version_code__lt=version.version_code
        )
        .order_by("-version_code")
        .first()
    )


def version_changes(*, version: AppVersion, previous: AppVersion | None) -> dict:
    """Permission and dependency diff against ``previous`` (None: everything is new)."""
    old_perms = set(previous.permissions or []) if previous else set()
    new_perms = set(version.permissions or [])
    old_deps = dict(previous.dependencies or {}) if previous else {}
    new_deps = dict(version.dependencies or {})
    return {
        "previous": previous,
        "permissions_added": sorted(new_perms - old_perms),
        "permissions_removed": sorted(old_perms - new_perms),
        "dependencies_added": {k: v for k, v in sorted(new_deps.items()) if k not in old_deps},
        "dependencies_removed": {k: v for k, v in sorted(old_deps.items()) if k not in new_deps},
        "dependencies_changed": {
            k: (old_deps[k], v) for k, v in sorted(new_deps.items()) if k in old_deps and old_deps[k] != v
        },
    }


# --- the review console -----------------------------------------------------------------------------------
def is_large_size_change(*, old: int | None, new: int | None) -> bool:
    """True when the package grew or shrank by at least ``REVIEW_LARGE_SIZE_CHANGE_PERCENT`` percent of the
    previous size and at least ``REVIEW_LARGE_SIZE_CHANGE_MIN_BYTES`` bytes."""
    if not old or new is None:
        return False
    delta = abs(new - old)
    return (
        delta * 100 >= old * settings.REVIEW_LARGE_SIZE_CHANGE_PERCENT
        and delta >= settings.REVIEW_LARGE_SIZE_CHANGE_MIN_BYTES
    )


def review_flags(version) -> list[str]:
    """The ``ReviewFlag`` values of a version carrying ``with_review_facts``' annotations, in the order of
    ``ReviewFlag``. Computed when read, because they depend on other rows that change (the last published
    version, abuse reports, the developer's other submissions)."""
    has_previous = version.previous_id is not None
    previous_permissions = set(_json(version.previous_permissions, list)) if has_previous else set()
    previous_dependencies = set(_json(version.previous_dependencies, dict)) if has_previous else set()
    flags = set()
    if not has_previous:
        flags.add(ReviewFlag.FIRST_VERSION)
    if set(version.sensitive_permissions or []) - previous_permissions:
        flags.add(ReviewFlag.NEW_SENSITIVE_PERMISSIONS)
    if set(version.dependencies or {}) - previous_dependencies:
        flags.add(ReviewFlag.NEW_DEPENDENCIES)
    if has_previous and is_large_size_change(old=version.previous_size, new=version.package_size):
        flags.add(ReviewFlag.LARGE_SIZE_CHANGE)
    if version.open_abuse_reports:
        flags.add(ReviewFlag.ABUSE_REPORTS)
    if not version.earlier_submission:
        flags.add(ReviewFlag.FIRST_SUBMISSION)
    return [flag for flag in ReviewFlag.values if flag in flags]


QUEUE_FACT_FIELDS = (
    "pk",
    "submitted_at",
    "package_size",
    "sensitive_permissions",
    "dependencies",
    "previous_id",
    "previous_permissions",
    "previous_dependencies",
    "previous_size",
    "open_abuse_reports",
    "earlier_submission",
    "review_claim__reviewer_id",
    "review_claim__expires_at",
)


def _queue_facts() -> list[SimpleNamespace]:
    """Every version in review as a light record with its flags and claim (one query, no model instances)."""
    rows = with_review_facts(AppVersion.objects.filter(status=VersionStatus.REVIEW)).values(
        *QUEUE_FACT_FIELDS
    )
    facts = []
    for row in rows:
        item = SimpleNamespace(
            **{name.replace("review_claim__", "claim_"): value for name, value in row.items()}
        )
        item.flags = review_flags(item)
        facts.append(item)
    return facts


def review_queue_ids_with_flag(flag: str) -> list:
    """Ids of the versions in review that carry ``flag`` (the queue's flag filter)."""
    return [item.pk for item in _queue_facts() if flag in item.flags]


def review_claim_filter(*, user, held: str, now: datetime | None = None) -> Q:
    """A filter for the queue's claim filter: ``held`` is ``unclaimed``, ``mine`` or ``others``."""
    now = now or timezone.now()
    live = Q(review_claim__isnull=False, review_claim__expires_at__gt=now)
    if held == "unclaimed":
        return ~live
    if held == "mine":
        return live & Q(review_claim__reviewer_id=user.pk)
    return live & ~Q(review_claim__reviewer_id=user.pk)


def review_queue_summary(*, user, now: datetime | None = None) -> dict:
    """The queue at a glance for the console's index: how many versions wait, the oldest submission, how
    many carry each flag, and who holds them. One query whatever the queue's length."""
    now = now or timezone.now()
    facts = _queue_facts()
    by_flag = Counter(flag for item in facts for flag in item.flags)
    live = [item for item in facts if item.claim_expires_at is not None and item.claim_expires_at > now]
    submitted = [item.submitted_at for item in facts if item.submitted_at is not None]
    return {
        "total": len(facts),
        "oldest_submitted_at": min(submitted) if submitted else None,
        "flags": [(flag, label, by_flag.get(flag, 0)) for flag, label in ReviewFlag.choices],
        "unclaimed": len(facts) - len(live),
        "claimed_by_me": sum(1 for item in live if item.claim_reviewer_id == user.pk),
        "claimed_by_others": sum(1 for item in live if item.claim_reviewer_id != user.pk),
    }


def review_flag_counts() -> dict[str, int]:
    """How many versions in review carry each flag."""
    counts = Counter(flag for item in _queue_facts() for flag in item.flags)
    return {flag: counts.get(flag, 0) for flag in ReviewFlag.values}


def active_claim(*, version: AppVersion, now: datetime | None = None) -> ReviewClaim | None:
    """The live claim on ``version`` (reads ``review_claim`` when it was selected with the version)."""
    now = now or timezone.now()
    try:
        claim = version.review_claim
    except ReviewClaim.DoesNotExist:
        return None
    return claim if claim.expires_at > now else None


DECISION_EVENT_TYPES = ("version.approved", "version.rejected")


def _decisions_filter() -> Q:
    """Reviewers' decisions (from ``review``, not validation's rejections) and app-status changes other than
    the automatic first publication."""
    return Q(type__in=DECISION_EVENT_TYPES, data__from=VersionStatus.REVIEW) | (
        Q(type="app.status_changed") & ~Q(data__from="draft")
    )


def app_review_memory(*, version: AppVersion, limit: int = 50) -> dict:
    """Everything the console remembers about ``version``'s app, for the review page (a fixed number of
    queries): earlier decisions with their notes, internal comments, abuse reports, and the developer's
    other apps with their recent decisions."""
    app = version.app
    decisions = list(
        ActivityEvent.objects.filter(_decisions_filter(), app_id=app.pk)
        .exclude(version_id=version.pk, type__in=DECISION_EVENT_TYPES)
        .select_related("actor", "version__app")
        .order_by("-created_at")[:limit]
    )
    comments = list(
        ReviewComment.objects.filter(app_id=app.pk)
        .select_related("author", "version__app")
        .order_by("-created_at")[:limit]
    )
    reports = app.abuse_reports.select_related("reporter").order_by("-created_at")
    report_counts = reports.aggregate(total=Count("pk"), open=Count("pk", filter=Q(resolved_at__isnull=True)))
    other_apps = list(
        App.objects.filter(owner_id=app.owner_id)
        .exclude(pk=app.pk)
        .annotate(
            published_count=Count("versions", filter=Q(versions__status=VersionStatus.PUBLISHED)),
            rejected_count=Count(
                "versions",
                filter=Q(versions__status=VersionStatus.REJECTED, versions__reviewed_at__isnull=False),
            ),
            review_count=Count("versions", filter=Q(versions__status=VersionStatus.REVIEW)),
        )
        .order_by("-created_at")[:limit]
    )
    other_decisions = list(
        ActivityEvent.objects.filter(_decisions_filter(), app__owner_id=app.owner_id)
        .exclude(app_id=app.pk)
        .select_related("actor", "app", "version__app")
        .order_by("-created_at")[:20]
    )
    return {
        "decisions": decisions,
        "comments": comments,
        "abuse_reports": list(reports[:limit]),
        "abuse_report_count": report_counts["total"],
        "open_abuse_report_count": report_counts["open"],
        "other_apps": other_apps,
        "other_decisions": other_decisions,
    }


def canned_responses() -> list[CannedResponse]:
    """Active canned responses in the order staff gave them."""
    return list(CannedResponse.objects.filter(active=True).order_by("position", "title"))


def package_diff_for(*, version: AppVersion) -> PackageDiff | None:
    return PackageDiff.objects.select_related("base_version").filter(version_id=version.pk).first()


def package_diff_files(*, diff: PackageDiff) -> QuerySet[PackageDiffFile]:
    """The files of a diff in reading order, without their diff text (loaded one by one, on demand)."""
    return diff.files.defer("diff_text").order_by("position")


def package_diff_file(*, version_id, file_id: int) -> PackageDiffFile | None:
    return (
        PackageDiffFile.objects.select_related("diff").filter(diff__version_id=version_id, pk=file_id).first()
    )


def recent_decisions_by(*, user, limit: int = 10) -> list[ActivityEvent]:
    """``user``'s latest review decisions and app-status changes (the console index's sidebar)."""
    return list(
        ActivityEvent.objects.filter(_decisions_filter(), actor_id=user.pk)
        .select_related("app", "version__app", "actor")
        .order_by("-created_at")[:limit]
    )
