from django.apps import AppConfig


class AppsConfig(AppConfig):
    name = "apps"
    default_auto_field = "django.db.models.BigAutoField"
