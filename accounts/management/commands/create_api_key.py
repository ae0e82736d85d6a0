"""``manage.py create_api_key``: an API key for a developer, printed once (SPEC §10)."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from accounts.services import api_key_create
from mosis.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API key for a developer and print its secret (shown once; only its SHA-256 is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True, help="the developer's email")
        parser.add_argument("--name", required=True, help="a label for the key, e.g. 'CI'")
        parser.add_argument(
            "--scopes",
            required=True,
            help="comma-separated scopes, e.g. apps:read,apps:write,versions:upload",
        )
        parser.add_argument(
            "--expires-days", type=int, default=None, help="expire after N days (default: never)"
        )

    def handle(self, *args, email, name, scopes, expires_days, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with email {email!r}.")
        if expires_days is not None and expires_days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        requested = [s.strip() for s in scopes.split(",") if s.strip()]
        try:
            key, secret = api_key_create(user=user, name=name, scopes=requested, expires_at=expires_at)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Created API key {key.pk} ({key.name}) for {user.email}, scopes: {', '.join(key.scopes)}"
        )
        if key.expires_at:
            self.stdout.write(f"Expires: {key.expires_at.isoformat()}")
        self.stdout.write("Secret (shown once, store it now):")
        self.stdout.write(secret)
