"""The demo accounts of ``manage.py seed_demo``: a staff reviewer and a developer with a printed password."""

from __future__ import annotations

from .models import User

DEMO_PASSWORD = "mosis-demo-pass"
DEMO_USERS = [
    {"email": "staff@mosis.dev", "name": "Store Staff", "is_staff": True, "is_superuser": True},
    {"email": "dev@mosis.dev", "name": "Demo Developer", "is_staff": False, "is_superuser": False},
]


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
