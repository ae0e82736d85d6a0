from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "mosis.core"
    label = "core"
    verbose_name = "Mosis core"
    default_auto_field = "django.db.models.BigAutoField"
