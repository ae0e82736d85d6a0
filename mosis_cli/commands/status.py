"""``mosis status`` and ``mosis yank``."""

from __future__ import annotations

from ..context import Context
from ..errors import CliError, ExitCode


def register(sub, common) -> None:
    status = sub.add_parser(
        "status",
        parents=[common],
        help="Your apps, or one app's versions and where each stands.",
        description="Without an argument: your apps with their state and latest version. With a package id: "
        "that app's versions (newest first) with their state, and the validation errors or review notes of "
        "rejected ones.",
    )
    status.add_argument("package_id", nargs="?", help="e.g. com.example.notes")
    status.set_defaults(handler=status_command)

    yank = sub.add_parser(
        "yank",
        parents=[common],
        help="Hide a published version from 'latest' (exact downloads keep working).",
        description="Yank a published version: devices and the store stop offering it as the latest, but a "
        "download of that exact version keeps working. There is no undo: publish a newer version instead.",
    )
    yank.add_argument("package_id", help="e.g. com.example.notes")
    yank.add_argument("version", help="The version_code (14) or version_name (1.4.0) to yank.")
    yank.set_defaults(handler=yank_command)


def find_app(ctx: Context, package_id: str) -> dict:
    for app in ctx.client.pages("/apps", "apps"):
        if app.get("package_id") == package_id:
            return app
    raise CliError(
        f"You have no app {package_id} at {ctx.store}.",
        fix="See your apps with `mosis status`; `mosis publish` creates an app on its first version.",
        exit_code=ExitCode.ERROR,
    )


def status_command(ctx: Context) -> int:
    out = ctx.out
    if not ctx.options.package_id:
        apps = list(ctx.client.pages("/apps", "apps"))
        if not apps:
            out.say(f"No apps at {ctx.store} yet: `mosis init` then `mosis publish`.")
        for app in apps:
            latest = app.get("latest_version") or {}
            shown = f"{latest['version_name']} ({latest['version_code']})" if latest else "none published"
            out.say(f"{app['package_id']:<40} {app['status']:<16} latest: {shown}")
        out.result({"store": ctx.store, "apps": apps})
        return 0
    app = find_app(ctx, ctx.options.package_id)
    versions = list(ctx.client.pages(f"/apps/{app['id']}/versions", "versions"))
    out.say(f"{app['package_id']} — {app['name']} — app {app['status']}")
    for version in versions:
        when = version.get("published_at") or version.get("submitted_at") or version.get("created_at") or ""
        yanked = " (yanked)" if version.get("yanked_at") else ""
        out.say(
            f"  {version['version_code']:>6}  {version['version_name']:<14} {version['status']:<10}{yanked} "
            f"{when[:16].replace('T', ' ')}"
        )
        report = version.get("validation_report") or {}
        if version["status"] == "rejected":
            if version.get("review_notes"):
                out.say(f"          reviewer: {version['review_notes']}")
            for issue in report.get("errors", []):
                out.say(f"          {issue['code']}: {issue['message']}")
    if not versions:
        out.say("  no versions yet: `mosis publish`.")
    out.result({"store": ctx.store, "app": app, "versions": versions})
    return 0


def yank_command(ctx: Context) -> int:
    app = find_app(ctx, ctx.options.package_id)
    wanted = ctx.options.version
    match = None
    for version in ctx.client.pages(f"/apps/{app['id']}/versions", "versions"):
        if str(version["version_code"]) == wanted or version["version_name"] == wanted:
            match = version
            break
    if match is None:
        raise CliError(
            f"{app['package_id']} has no version {wanted}.",
            fix=f"See its versions with `mosis status {app['package_id']}`.",
        )
    yanked = ctx.client.post(f"/apps/{app['id']}/versions/{match['id']}/yank")
    ctx.out.say(
        f"Yanked {app['package_id']} {yanked['version_name']} ({yanked['version_code']}): no longer offered as "
        "the latest; exact downloads keep working."
    )
    ctx.out.result({"app_id": app["id"], "version": yanked})
    return 0
