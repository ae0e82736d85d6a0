"""Domain signals that decouple the writers (apps, versions, store reviews) from the public read side.

``catalog_changed`` is sent (after commit) whenever something a public listing shows may have changed:
an app's metadata or status, a version published or yanked, a review, an abuse decision. ``store``
listens: it refreshes the app's listing row and invalidates cached store reads and the catalog document.
"""

from django.db import transaction
from django.dispatch import Signal

# kwargs: app_id (UUID), reason (str, e.g. "status", "metadata", "published", "yanked", "review")
catalog_changed = Signal()


def send_catalog_changed(*, app_id, reason: str) -> None:
    """Send after the current transaction commits (immediately when not in one)."""
    transaction.on_commit(lambda: catalog_changed.send(sender=None, app_id=app_id, reason=reason))
