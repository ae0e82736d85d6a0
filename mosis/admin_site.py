"""The review console's admin site (SPEC §8): branded, the review queue first with its counts, and every
other model grouped by what a reviewer or operator goes there for.

Groups are chosen by model name (``Meta.object_name``), whichever app registers the model, so admins added
by other apps (webhooks, telemetry) land in the right group without touching this file; a model nobody
listed goes to its app's group when the app is listed, else to "System".
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse

# (key, title, model names in the order shown)
CONSOLE_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("review", "Review", ("reviewqueueitem", "abusereport", "cannedresponse")),
    ("catalog", "Catalog", ("app", "appversion", "category", "review", "reviewreply", "activityevent")),
    (
        "developers",
        "Developers",
        ("user", "apikey", "signingkey", "webhook", "webhookdelivery", "emailaddress", "socialaccount"),
    ),
    ("devices", "Devices and telemetry", ("device", "deviceapp")),
    ("system", "System", ()),
)
# Apps whose unlisted models have a home other than "System".
GROUP_BY_APP_LABEL = {"telemetry": "devices"}
# Clearer names on the index than the models' verbose names.
MODEL_TITLES = {
    "reviewqueueitem": "Review queue",
    "review": "Ratings and reviews",
    "reviewreply": "Replies to reviews",
    "apikey": "API keys",
}


def group_app_list(app_list: list[dict], *, index_url: str) -> list[dict]:
    """Regroup Django's per-app list (``AdminSite.get_app_list``) into ``CONSOLE_GROUPS``; empty groups are
    left out. Each group is shaped like an app entry, so the admin's templates render it."""
    group_of = {name: key for key, _, names in CONSOLE_GROUPS for name in names}
    position = {name: i for _, _, names in CONSOLE_GROUPS for i, name in enumerate(names)}
    members: dict[str, list[dict]] = {key: [] for key, _, _ in CONSOLE_GROUPS}
    for app in app_list:
        for model in app["models"]:
            name = model["object_name"].lower()
            key = group_of.get(name) or GROUP_BY_APP_LABEL.get(app["app_label"], "system")
            members[key].append({**model, "name": MODEL_TITLES.get(name, model["name"])})
    groups = []
    for key, title, _ in CONSOLE_GROUPS:
        models = sorted(
            members[key],
            key=lambda m: (position.get(m["object_name"].lower(), len(position)), str(m["name"]).lower()),
        )
        if models:
            groups.append(
                {
                    "name": title,
                    "app_label": f"group-{key}",
                    "app_url": f"{index_url}#group-{key}",
                    "has_module_perms": True,
                    "models": models,
                    "is_group": True,
                }
            )
    return groups


class ReviewConsoleSite(admin.AdminSite):
    site_header = "Mosis review console"
    site_title = "Mosis review console"
    index_title = "Review console"
    index_template = "admin/console_index.html"
    # The index lists every page by group; on the queue and the review page the width is the reviewer's.
    enable_nav_sidebar = False

    def get_app_list(self, request, app_label=None):
        """Grouped for the index and the navigation sidebar; one app's own page keeps its models."""
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        return group_app_list(app_list, index_url=reverse("admin:index", current_app=self.name))

    def index(self, request, extra_context=None):
        """The queue first: how many versions wait, since when, per flag and per claim; then the groups."""
        from versions import selectors

        context = {
            "queue": selectors.review_queue_summary(user=request.user),
            "recent_decisions": selectors.recent_decisions_by(user=request.user),
        }
        return super().index(request, {**context, **(extra_context or {})})
