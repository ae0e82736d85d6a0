from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "store"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Connect the catalog_changed receiver (refresh listing rows, invalidate store caches).
        from . import signals  # noqa: F401
