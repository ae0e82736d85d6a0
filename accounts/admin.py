"""Back office for developers and credentials. Secrets and their hashes are never shown; revocation goes
through the same services as the API and is written to the admin log."""

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm
from rest_framework_simplejwt.token_blacklist.admin import OutstandingTokenAdmin
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from . import services
from .models import ApiKey, Device, SigningKey, User


class DeveloperCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class DeveloperChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class DeveloperAdmin(DjangoUserAdmin):
    form = DeveloperChangeForm
    add_form = DeveloperCreationForm
    list_display = ["email", "name", "verified", "is_staff", "is_active", "created_at"]
    list_filter = ["is_staff", "is_superuser", "is_active", "verified"]
    search_fields = ["email", "name"]
    ordering = ["email"]
    readonly_fields = ["created_at", "updated_at", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["name", "avatar_url", "verified"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


class _RevocableAdmin(admin.ModelAdmin):
    """Read-only records with a bulk "revoke" action that calls the service for each selected row."""

    revoke_service = None

    def has_add_permission(self, request):
        return False  # created through the API or `manage.py create_api_key`, so the secret is shown once

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revocation keeps the record (audit trail, published versions' signatures)

    @admin.action(description="Revoke selected")
    def revoke(self, request, queryset):
        count = 0
        for obj in queryset:
            if obj.revoked_at is None:
                type(self).revoke_service(obj)
                self.log_change(request, obj, "Revoked")
                count += 1
        self.message_user(request, f"Revoked {count} item(s).", messages.SUCCESS)

    actions = ["revoke"]


@admin.register(ApiKey)
class ApiKeyAdmin(_RevocableAdmin):
    list_display = [
        "name",
        "user",
        "key_prefix",
        "scopes",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "created_at",
    ]
    list_filter = ["revoked_at"]
    search_fields = ["name", "key_prefix", "user__email"]
    list_select_related = ["user"]
    fields = [
        "id",
        "user",
        "name",
        "key_prefix",
        "scopes",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "created_at",
    ]
    readonly_fields = fields  # key_hash is deliberately absent

    @staticmethod
    def revoke_service(obj):
        return services.api_key_revoke(key=obj)


@admin.register(SigningKey)
class SigningKeyAdmin(_RevocableAdmin):
    list_display = ["name", "user", "algorithm", "fingerprint", "revoked_at", "created_at"]
    list_filter = ["algorithm", "revoked_at"]
    search_fields = ["name", "fingerprint", "user__email"]
    list_select_related = ["user"]
    fields = ["id", "user", "name", "algorithm", "fingerprint", "public_key", "revoked_at", "created_at"]
    readonly_fields = fields

    @staticmethod
    def revoke_service(obj):
        return services.signing_key_revoke(key=obj)


@admin.register(Device)
class DeviceAdmin(_RevocableAdmin):
    list_display = ["id", "platform", "mosis_version", "last_seen_at", "revoked_at", "created_at"]
    list_filter = ["platform", "revoked_at"]
    search_fields = ["id", "platform", "mosis_version"]
    fields = ["id", "platform", "mosis_version", "last_seen_at", "revoked_at", "created_at"]
    readonly_fields = fields  # token_hash is deliberately absent

    @staticmethod
    def revoke_service(obj):
        return services.device_revoke(device=obj)


class ReadOnlyOutstandingTokenAdmin(OutstandingTokenAdmin):
    """simplejwt's admin says it may change a token on GET (so its page shows Save buttons that a POST then
    refuses): view-only instead."""

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(OutstandingToken)
admin.site.register(OutstandingToken, ReadOnlyOutstandingTokenAdmin)


class _ViewOnly:
    """django-axes' admins allow "change" on pages where every field is read-only (Save buttons a POST then
    ignores): view-only instead. Deleting an attempt — unlocking an account or address — stays allowed."""

    def has_change_permission(self, request, obj=None):
        return False


for _model, _admin_class in (
    (AccessAttempt, AccessAttemptAdmin),
    (AccessLog, AccessLogAdmin),
    (AccessFailureLog, AccessFailureLogAdmin),
):
    admin.site.unregister(_model)
    admin.site.register(_model, type(f"ViewOnly{_admin_class.__name__}", (_ViewOnly, _admin_class), {}))
