"""Load a small demo: a staff reviewer and a developer with printed credentials (idempotent)."""

from django.core.management.base import BaseCommand

from accounts.models import User

DEMO_PASSWORD = "mosis-demo-pass"
DEMO_USERS = [
    {"email": "staff@mosis.dev", "name": "Store Staff", "is_staff": True, "is_superuser": True},
    {"email": "dev@mosis.dev", "name": "Demo Developer", "is_staff": False, "is_superuser": False},
]


class Command(BaseCommand):
    help = "Create the demo accounts (and catalog) used by `make run`. Safe to run repeatedly."

    def handle(self, *args, **options):
        for spec in DEMO_USERS:
            user, created = User.objects.get_or_create(
                email=spec["email"], defaults={**spec, "verified": True}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo accounts (password for both: {DEMO_PASSWORD}):\n"
                "  staff:     staff@mosis.dev  (admin at /admin/)\n"
                "  developer: dev@mosis.dev"
            )
        )
