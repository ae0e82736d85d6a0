"""Load the demo of ``make run`` (idempotent): categories (``apps.demo``), a staff reviewer and a developer
with printed credentials (``accounts.demo``), and a catalog of published apps built from real signed packages
through the real pipeline (``versions.demo``).

The command lives in versions, the highest app whose data it seeds: it composes the apps below it, and none
of them imports it.
"""

from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, seed_users
from apps.demo import seed_categories

from ...demo import seed_catalog


class Command(BaseCommand):
    help = "Create the demo categories and accounts (and catalog) used by `make run`. Safe to run repeatedly."

    def handle(self, *args, **options):
        categories = seed_categories()
        users = seed_users()
        self.stdout.write(f"{len(categories)} categories: {', '.join(c.slug for c in categories)}")
        # The catalog: real signed packages through the real pipeline; existing versions are skipped.
        catalog = seed_catalog(
            developer=users["dev@mosis.dev"],
            reviewer=users["staff@mosis.dev"],
            categories={c.slug: c for c in categories},
        )
        self.stdout.write(
            f"{catalog.apps} demo apps: {catalog.created_versions} version(s) published now, "
            f"{catalog.existing_versions} already there"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo accounts (password for both: {DEMO_PASSWORD}):\n"
                "  staff:     staff@mosis.dev  (admin at /admin/)\n"
                "  developer: dev@mosis.dev"
            )
        )
