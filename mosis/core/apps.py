from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mosis.core"
    label = "core"
    verbose_name = "Mosis core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import metrics
        from .logging import install_request_id_record_factory

        install_request_id_record_factory()
        metrics.register()
