from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PortalConfig(AppConfig):
    """The server-rendered developer portal (``/portal/``) and the pages' shared look (SPEC §9)."""

    name = "portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .services import site_sync_after_migrate

        # After every migrate, so a changed SITE_NAME / SITE_URL reaches the Site row on the next deploy.
        post_migrate.connect(site_sync_after_migrate, dispatch_uid="portal.site_sync")
