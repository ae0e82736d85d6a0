from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import lockout, schema  # noqa: F401  (OpenAPI descriptions of our credentials; lockout signals)
