"""The demo categories of ``manage.py seed_demo``."""

from __future__ import annotations

from .models import Category

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
