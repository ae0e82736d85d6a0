"""The review queue and the review page (SPEC §8).

The queue lists versions in ``review`` oldest submission first (the longest wait on top) with how long each
has waited, its flags, who holds it, its size change and what changed since the last published version;
filters by flag and by claim. The review page shows everything a reviewer needs to decide — the flags, the
file-by-file package diff (manifest first; each text diff loaded when opened), the validation report, the
manifest, the memory of the app (earlier decisions, internal comments, abuse reports, the developer's other
apps) — and decides with notes a canned response can fill.

Every write calls a service (``review_claim``, ``review_claim_release``, ``review_comment_add``,
``review_decide``, ``package_diff_request``); the admin only adapts forms and messages.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from apps.activity import describe_event
from apps.admin_activity import ActivityHistoryMixin
from apps.models import ActivityEvent
from apps.policies import can_review_version
from mosis.core.errors import ApplicationError, ErrorCode

from .. import selectors, services
from ..constants import DiffStatus, ReviewDecision, ReviewFlag, VersionStatus
from ..models import ReviewQueueItem
from .common import (
    StaffOnlyMixin,
    changes_html,
    claim_html,
    download_url,
    flags_html,
    permissions_html,
    size_html,
    waiting_html,
)

DIFF_FILES_ON_PAGE = 200
DIFF_FILES_PER_PAGE = 500
QUEUE_URL = "admin:versions_reviewqueueitem_changelist"
REVIEW_URL = "admin:versions_reviewqueueitem_change"


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=ReviewDecision.choices)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        required=False,
        max_length=5000,
        help_text="Sent to the developer, quoted in the decision email. Required to reject.",
    )
    confirm_claim = forms.BooleanField(required=False)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), max_length=5000)


class BulkRejectForm(forms.Form):
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        max_length=5000,
        help_text="Sent to every developer concerned: say why.",
    )


class FlagFilter(admin.SimpleListFilter):
    title = "flag"
    parameter_name = "flag"

    def lookups(self, request, model_admin):
        counts = selectors.review_flag_counts()
        return [(flag, f"{label} ({counts[flag]})") for flag, label in ReviewFlag.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in ReviewFlag.values:
            return queryset.none()
        return queryset.filter(pk__in=selectors.review_queue_ids_with_flag(value))


class ClaimFilter(admin.SimpleListFilter):
    title = "claim"
    parameter_name = "claim"

    def lookups(self, request, model_admin):
        return [("unclaimed", "Unclaimed"), ("mine", "Claimed by me"), ("others", "Claimed by others")]

    def queryset(self, request, queryset):
        value = self.value()
        if value in ("unclaimed", "mine", "others"):
            return queryset.filter(selectors.review_claim_filter(user=request.user, held=value))
        return queryset


def canned_response_groups(*, decision: str | None = None) -> list[tuple[str, list]]:
    """Active canned responses grouped for a ``<select>``: for approval, for rejection, for either
    (``decision`` keeps only the groups that fit it)."""
    responses = selectors.canned_responses()
    groups = []
    for label, kind in (
        ("For approval", ReviewDecision.APPROVE),
        ("For rejection", ReviewDecision.REJECT),
        ("For either decision", ""),
    ):
        if decision is not None and kind not in (decision, ""):
            continue
        members = [canned for canned in responses if canned.decision == kind]
        if members:
            groups.append((label, members))
    return groups


def diff_lines(text: str) -> list[tuple[str, str]]:
    """A unified diff's lines with the CSS class each is shown with."""
    lines = []
    for line in text.split("\n") if text else []:
        if line.startswith(("+++", "---")):
            css = "diff-meta"
        elif line.startswith("@@"):
            css = "diff-hunk"
        elif line.startswith("+"):
            css = "diff-add"
        elif line.startswith("-"):
            css = "diff-del"
        else:
            css = "diff-context"
        lines.append((css, line))
    return lines


def _report_errors(request, version, exc: ApplicationError) -> None:
    messages.error(request, f"{version.app.package_id} {version.version_name}: {exc.message}")


def _decide_many(request, versions, *, decision: str, notes: str) -> None:
    """One decision on each selected version through ``review_decide``; each refusal is reported (a version
    claimed by another reviewer is skipped: its page asks for the confirmation)."""
    done = 0
    for version in versions:
        try:
            services.review_decide(version=version, reviewer=request.user, decision=decision, notes=notes)
        except ApplicationError as exc:
            if exc.code == ErrorCode.CONFLICT and "claim" in (exc.details or {}):
                messages.warning(
                    request,
                    f"{version.app.package_id} {version.version_name}: {exc.message} "
                    "Open it to confirm deciding anyway.",
                )
            else:
                _report_errors(request, version, exc)
            continue
        done += 1
    if done:
        verb = "approved" if decision == ReviewDecision.APPROVE else "rejected"
        messages.success(request, f"{done} version(s) {verb}.")


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(ActivityHistoryMixin, StaffOnlyMixin, admin.ModelAdmin):
    list_display = [
        "waiting",
        "version_col",
        "size",
        "permissions_col",
        "flags_col",
        "claim_col",
        "changes_col",
    ]
    list_display_links = ["version_col"]
    list_filter = [FlagFilter, ClaimFilter]
    search_fields = ["app__package_id", "app__name", "app__owner__email"]
    ordering = ["submitted_at", "created_at"]  # oldest submission first: the longest wait on top
    actions = ["claim_selected", "approve_selected", "reject_selected"]
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.review_queue(viewer=request.user)

    def changelist_view(self, request, extra_context=None):
        title = "Review queue — the longest wait first"
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def history_events(self, obj):
        return ActivityEvent.objects.filter(version=obj)

    def get_object(self, request, object_id, from_field=None):
        """Any version, decided or not (the queue's queryset holds only those in review): its review page
        and its History stay reachable after the decision."""
        return selectors.review_version(version_id=object_id)

    # --- columns -----------------------------------------------------------------------------------------
    @admin.display(description="waiting", ordering="submitted_at")
    def waiting(self, obj):
        return waiting_html(obj)

    @admin.display(description="version", ordering="app__package_id")
    def version_col(self, obj):
        return format_html(
            "<strong class='queue-package'>{}</strong> {}<br><span class='quiet'>{} · {}</span>",
            obj.app.package_id,
            obj.version_name,
            obj.app.name,
            obj.app.owner.email,
        )

    @admin.display(description="size", ordering="package_size")
    def size(self, obj):
        return size_html(obj)

    @admin.display(description="permissions")
    def permissions_col(self, obj):
        return permissions_html(obj)

    @admin.display(description="flags")
    def flags_col(self, obj):
        return flags_html(selectors.review_flags(obj))

    @admin.display(description="claim")
    def claim_col(self, obj):
        return claim_html(obj)

    @admin.display(description="since published")
    def changes_col(self, obj):
        return changes_html(obj, selectors.previous_from_annotations(obj))

    # --- bulk actions ----------------------------------------------------------------------------------
    @admin.action(description="Claim selected versions")
    def claim_selected(self, request, queryset):
        claimed = 0
        for version in queryset:
            try:
                services.review_claim(version=version, reviewer=request.user)
            except ApplicationError as exc:
                _report_errors(request, version, exc)
                continue
            claimed += 1
        if claimed:
            messages.success(request, f"{claimed} version(s) claimed by you.")

    @admin.action(description="Approve selected versions")
    def approve_selected(self, request, queryset):
        _decide_many(request, queryset, decision=ReviewDecision.APPROVE, notes="")

    @admin.action(description="Reject selected versions (asks for notes)")
    def reject_selected(self, request, queryset):
        form = BulkRejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            _decide_many(request, queryset, decision=ReviewDecision.REJECT, notes=form.cleaned_data["notes"])
            return None
        return TemplateResponse(
            request,
            "admin/versions/reject_selected.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject versions",
                "opts": self.model._meta,
                "versions": queryset,
                "form": form,
                "canned_responses": canned_response_groups(decision=ReviewDecision.REJECT),
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    # --- the review page and its parts ---------------------------------------------------------------
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/diff/", view(self.diff_files_view), name="versions_reviewqueueitem_diff"),
            path(
                "<path:object_id>/diff/<int:file_id>/",
                view(self.diff_file_view),
                name="versions_reviewqueueitem_diff_file",
            ),
            *super().get_urls(),
        ]

    def _version_or_404(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = selectors.review_version(version_id=object_id)
        if version is None:
            raise Http404("No such version.")
        return version

    def change_view(self, request, object_id, form_url="", extra_context=None):
        version = self._version_or_404(request, object_id)
        page_url = reverse(REVIEW_URL, args=[version.pk])
        decision_form = DecisionForm()
        confirmation = None
        if request.method == "POST":
            op = request.POST.get("op", "decide")
            if op == "decide":
                decision_form = DecisionForm(request.POST)
                if decision_form.is_valid():
                    data = decision_form.cleaned_data
                    try:
                        services.review_decide(
                            version=version,
                            reviewer=request.user,
                            decision=data["decision"],
                            notes=data["notes"],
                            override_claim=data["confirm_claim"],
                        )
                    except ApplicationError as exc:
                        if exc.code == ErrorCode.CONFLICT and "claim" in (exc.details or {}):
                            confirmation = {"message": exc.message, **data}
                        else:
                            messages.error(request, exc.message)
                    else:
                        verb = "Approved" if data["decision"] == ReviewDecision.APPROVE else "Rejected"
                        messages.success(request, f"{verb} {version.app.package_id} {version.version_name}.")
                        return HttpResponseRedirect(reverse(QUEUE_URL))
            else:
                self._page_action(request, version, op)
                return HttpResponseRedirect(page_url)
        context = {
            **self.admin_site.each_context(request),
            **self._review_context(request, version),
            "form": decision_form,
            "confirmation": confirmation,
            "comment_form": CommentForm(),
        }
        return TemplateResponse(request, "admin/versions/review.html", context)

    def _page_action(self, request, version, op: str) -> None:
        """Claim, release, comment or recompute the diff; the outcome is a message on the page."""
        try:
            if op == "claim":
                claim = services.review_claim(
                    version=version, reviewer=request.user, take_over=request.POST.get("take_over") == "1"
                )
                messages.success(request, f"You hold this version until {claim.expires_at:%H:%M} UTC.")
            elif op == "release":
                if services.review_claim_release(version=version, reviewer=request.user):
                    messages.success(request, "You released your claim.")
            elif op == "comment":
                services.review_comment_add(
                    version=version, author=request.user, body=request.POST.get("body", "")
                )
                messages.success(request, "Comment added (reviewers only).")
            elif op == "diff":
                if not can_review_version(request.user, version):
                    raise PermissionDenied
                services.package_diff_request(version=version)
                messages.success(request, "The diff is being computed.")
            else:
                messages.error(request, "Unknown action.")
        except ApplicationError as exc:
            messages.error(request, exc.message)

    def _review_context(self, request, version) -> dict:
        previous = selectors.previous_from_annotations(version)
        diff = selectors.package_diff_for(version=version)
        diff_files, more_files = [], 0
        if diff is not None and diff.status == DiffStatus.READY:
            files = selectors.package_diff_files(diff=diff)
            diff_files = list(files[: DIFF_FILES_ON_PAGE + 1])
            if len(diff_files) > DIFF_FILES_ON_PAGE:
                diff_files = diff_files[:DIFF_FILES_ON_PAGE]
                more_files = diff.files_added + diff.files_removed + diff.files_changed - DIFF_FILES_ON_PAGE
        claim = selectors.active_claim(version=version)
        events = version.events.select_related("actor").order_by("-created_at")[:50]
        return {
            "title": f"Review {version.app.package_id} {version.version_name}",
            "opts": self.model._meta,
            "version": version,
            "previous": previous,
            "flags": [(flag, dict(ReviewFlag.choices)[flag]) for flag in selectors.review_flags(version)],
            "changes": selectors.version_changes(version=version, previous=previous),
            "permissions": permissions_html(version),
            "manifest": json.dumps(version.manifest, indent=2, sort_keys=True) if version.manifest else "",
            "report": version.validation_report,
            "download_url": download_url(version),
            "diff": diff,
            "diff_stale": diff is not None
            and diff.status == DiffStatus.READY
            and diff.base_version_id != (previous.pk if previous else None),
            "diff_files": diff_files,
            "more_diff_files": more_files,
            "claim": claim,
            "claim_is_mine": claim is not None and claim.reviewer_id == request.user.pk,
            "memory": selectors.app_review_memory(version=version),
            "canned_responses": canned_response_groups(),
            "events": [(event, describe_event(event)) for event in events],
            "can_decide": version.status == VersionStatus.REVIEW
            and can_review_version(request.user, version),
            "own_app": version.app.owner_id == request.user.pk,
        }

    def diff_files_view(self, request, object_id):
        """Every file of a diff, 500 a page, for packages with more than the review page lists."""
        version = self._version_or_404(request, object_id)
        diff = selectors.package_diff_for(version=version)
        if diff is None or diff.status != DiffStatus.READY:
            raise Http404("This version has no computed diff.")
        page = Paginator(selectors.package_diff_files(diff=diff), DIFF_FILES_PER_PAGE).get_page(
            request.GET.get("p")
        )
        return TemplateResponse(
            request,
            "admin/versions/diff_files.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Files changed in {version.app.package_id} {version.version_name}",
                "opts": self.model._meta,
                "version": version,
                "diff": diff,
                "page_obj": page,
                "diff_files": page.object_list,
            },
        )

    def diff_file_view(self, request, object_id, file_id):
        """One file's unified diff as an HTML fragment (escaped by the template), loaded when opened."""
        version = self._version_or_404(request, object_id)
        item = selectors.package_diff_file(version_id=version.pk, file_id=file_id)
        if item is None:
            raise Http404("No such file in this version's diff.")
        return TemplateResponse(
            request, "admin/versions/_diff_file.html", {"file": item, "lines": diff_lines(item.diff_text)}
        )
