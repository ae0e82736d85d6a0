"""``manage.py set_app_status <package_id> <status>``: staff change an app's state from the shell (SPEC §10).

Goes through ``apps.services.app_set_status`` like the admin actions, so the change is checked against the
state machine, audited (``app.status_changed``) and the owner is emailed.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from apps.constants import STAFF_STATES, AppStatus
from apps.models import App
from apps.services import app_set_status
from mosis.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Set an app's status as staff (published, unlisted, pending_disable, suspended, disabled). "
        "The change is audited and the owner is emailed."
    )

    def add_arguments(self, parser):
        parser.add_argument("package_id", help="The app's package id, e.g. com.example.notes")
        parser.add_argument("status", help=f"Target status: {', '.join(sorted(STAFF_STATES))}")
        parser.add_argument(
            "--reason", default="", help="Why (recorded in the activity log, sent to the owner)"
        )
        parser.add_argument(
            "--actor-email",
            default=None,
            help="Staff account recorded as the actor (default: the first active superuser)",
        )

    def handle(self, *args, package_id, status, reason, actor_email, **options):
        if status not in AppStatus.values:
            raise CommandError(f"Unknown status {status!r}; use one of: {', '.join(sorted(STAFF_STATES))}.")
        app = App.objects.filter(package_id=package_id).first()
        if app is None:
            raise CommandError(f"No app with package id {package_id!r}.")
        actor = self._actor(actor_email)
        previous = app.status
        if previous == status:  # an operator's script may run twice: say so and succeed
            self.stdout.write(f"{package_id} is already {status}; nothing changed.")
            return
        try:
            app_set_status(app=app, to=status, actor=actor, reason=reason)
        except ApplicationError as exc:
            raise CommandError(exc.message)
        self.stdout.write(self.style.SUCCESS(f"{package_id}: {previous} -> {status} (by {actor.email})."))

    def _actor(self, email: str | None) -> User:
        if email:
            actor = User.objects.filter(email__iexact=email).first()
            if actor is None:
                raise CommandError(f"No user with email {email!r}.")
            if not (actor.is_active and actor.is_staff):
                raise CommandError(f"{email} is not an active staff account.")
            return actor
        actor = User.objects.filter(is_active=True, is_superuser=True).order_by("date_joined").first()
        if actor is None:
            raise CommandError("No active superuser to act as; pass --actor-email of a staff account.")
        return actor
