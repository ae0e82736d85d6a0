"""``manage.py review``: the review queue from the shell (``review_decide``, the admin console's service)."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from accounts.models import User
from mosis.core.errors import ApplicationError
from versions import selectors, services
from versions.models import AppVersion


def acting_staff(email: str | None) -> User:
    """The staff user a command acts as: ``--actor-email``, or the first superuser."""
    if email:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with email {email}.")
        if not user.is_staff:
            raise CommandError(f"{email} is not staff.")
        return user
    user = User.objects.filter(is_superuser=True, is_active=True).order_by("created_at").first()
    if user is None:
        raise CommandError("No superuser exists: pass --actor-email or run createsuperuser.")
    return user


class Command(BaseCommand):
    help = "List the review queue, or approve / reject a version in review (as a staff user)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="{list,approve,reject}")
        sub.add_parser("list", help="Versions waiting for review, oldest first.")
        for name, helptext in (
            ("approve", "Approve a version."),
            ("reject", "Reject a version (needs --notes)."),
        ):
            cmd = sub.add_parser(name, help=helptext)
            cmd.add_argument("version_id", help="The version's UUID (see `review list`).")
            cmd.add_argument("--notes", default="", help="Notes emailed to the developer.")
            cmd.add_argument("--actor-email", help="Staff user who decides (default: the first superuser).")
            cmd.add_argument(
                "--override-claim",
                action="store_true",
                help="Decide even when another reviewer has claimed the version in the console.",
            )

    def handle(self, *args, subcommand, **options):
        if subcommand == "list":
            return self.list_queue()
        try:
            version_id = uuid.UUID(options["version_id"])
        except ValueError:
            raise CommandError(f"{options['version_id']!r} is not a version id (a UUID).")
        version = AppVersion.objects.select_related("app__owner").filter(pk=version_id).first()
        if version is None:
            raise CommandError(f"No version {version_id}.")
        reviewer = acting_staff(options.get("actor_email"))
        try:
            services.review_decide(
                version=version,
                reviewer=reviewer,
                decision=subcommand,
                notes=options["notes"],
                override_claim=options["override_claim"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message)
        self.stdout.write(
            self.style.SUCCESS(
                f"{version.app.package_id} {version.version_name} ({version.version_code}) is now "
                f"{version.status} (by {reviewer.email})."
            )
        )

    def list_queue(self):
        queue = list(selectors.review_queue())
        if not queue:
            self.stdout.write("The review queue is empty.")
            return
        for version in queue:
            sensitive = ", ".join(version.sensitive_permissions or []) or "-"
            self.stdout.write(
                f"{version.id}  {version.app.package_id} {version.version_name} ({version.version_code})  "
                f"{version.app.owner.email}  {filesizeformat(version.package_size or 0)}  "
                f"submitted {version.submitted_at:%Y-%m-%d %H:%M}  sensitive: {sensitive}"
            )
