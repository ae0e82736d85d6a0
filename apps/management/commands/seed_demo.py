"""Load a small demo: categories, a staff reviewer and a developer with printed credentials (idempotent).

The versions side extends this command with a catalog of published apps built from real packages; it calls
``seed_categories()`` and ``seed_users()`` so categories and accounts are defined once, here.
"""

from django.core.management.base import BaseCommand

from accounts.models import User
from apps.models import Category

DEMO_PASSWORD = "mosis-demo-pass"
DEMO_USERS = [
    {"email": "staff@mosis.dev", "name": "Store Staff", "is_staff": True, "is_superuser": True},
    {"email": "dev@mosis.dev", "name": "Demo Developer", "is_staff": False, "is_superuser": False},
]
DEMO_CATEGORIES = [
    ("productivity", "Productivity", "Notes, tasks, calendars and everything that gets work done."),
    ("developer-tools", "Developer tools", "Editors, linters, terminals and debugging aids."),
    ("communication", "Communication", "Chat, mail and calls."),
    ("media", "Media", "Music, video, photos and podcasts."),
    ("games", "Games", "Puzzles, arcade and strategy games."),
    ("utilities", "Utilities", "Small tools: calculators, converters, file managers."),
    ("education", "Education", "Learning, reference and languages."),
    ("themes", "Themes", "Colour schemes, icon packs and fonts."),
]


def seed_categories() -> list[Category]:
    """Create or refresh the demo categories (by slug); returns them in display order."""
    categories = []
    for position, (slug, name, description) in enumerate(DEMO_CATEGORIES):
        category, _ = Category.objects.update_or_create(
            slug=slug, defaults={"name": name, "description": description, "position": position}
        )
        categories.append(category)
    return categories


def seed_users() -> dict[str, User]:
    """Create the demo accounts if missing (an existing account's password is left alone)."""
    users = {}
    for spec in DEMO_USERS:
        user, created = User.objects.get_or_create(email=spec["email"], defaults={**spec, "verified": True})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users[spec["email"]] = user
    return users


class Command(BaseCommand):
    help = "Create the demo categories and accounts (and catalog) used by `make run`. Safe to run repeatedly."

    def handle(self, *args, **options):
        categories = seed_categories()
        users = seed_users()
        self.stdout.write(f"{len(categories)} categories: {', '.join(c.slug for c in categories)}")
        # The catalog (versions): real signed packages through the real pipeline; existing versions are skipped.
        from versions.demo import seed_catalog

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
