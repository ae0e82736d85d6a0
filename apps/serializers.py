"""Input validation of ``/v1/apps`` (its App output embeds the latest version: ``versions.serializers``) and
the output shape of ``/v1/events`` (no business rules here)."""

from __future__ import annotations

import re

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mosis.core.fields import StrictCharField

from .constants import PACKAGE_ID_PATTERN
from .models import ActivityEvent, Category

MAX_TAGS = 20
MAX_TAG_LENGTH = 30
MAX_SCREENSHOTS = 10
# Never writable through the developer API (SPEC §4): a request naming one is a 400, not silently ignored.
READ_ONLY_FIELDS = (
    "id",
    "package_id",
    "status",
    "owner",
    "owner_id",
    "max_mosis_version",
    "max_mosis_version_override",
    "source",
    "first_published_at",
    "status_changed_at",
    "latest_version",
    "created_at",
    "updated_at",
)


def _validate_tags(value: list[str]) -> list[str]:
    if len(value) > MAX_TAGS:
        raise serializers.ValidationError(f"At most {MAX_TAGS} tags.")
    cleaned: list[str] = []
    for tag in value:
        tag = tag.strip()
        if not tag:
            raise serializers.ValidationError("Tags cannot be blank.")
        if len(tag) > MAX_TAG_LENGTH:
            raise serializers.ValidationError(f"Each tag is at most {MAX_TAG_LENGTH} characters.")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


def _validate_screenshots(value: list[str]) -> list[str]:
    if len(value) > MAX_SCREENSHOTS:
        raise serializers.ValidationError(f"At most {MAX_SCREENSHOTS} screenshots.")
    for url in value:
        if not url.lower().startswith("https://"):
            raise serializers.ValidationError("Screenshot URLs must use https.")
    return value


class CategoryField(serializers.SlugRelatedField):
    """A category's slug, or null for none. DRF reads "" as null on related fields; the schema says a slug
    (minLength 1), so "" is a 400 that says to send null."""

    default_error_messages = {"blank": "Must not be blank: send null for no category."}

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("blank")
        return super().run_validation(data)


class AppWriteSerializer(serializers.Serializer):
    """Fields a developer may set; naming a read-only field (``status``, ``package_id`` on PATCH, ...) is a
    400 that names it."""

    name = StrictCharField(max_length=100)
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    long_description = StrictCharField(max_length=20000, required=False, allow_blank=True)
    category = CategoryField(
        slug_field="slug", queryset=Category.objects.all(), required=False, allow_null=True
    )
    tags = serializers.ListField(
        child=StrictCharField(max_length=MAX_TAG_LENGTH),
        required=False,
        max_length=MAX_TAGS,
    )
    type = serializers.ChoiceField(choices=settings.APP_TYPES, required=False)
    homepage_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    support_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    repository = serializers.URLField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="The app's source repository (seed 004 `repository`).",
    )
    screenshots = serializers.ListField(
        child=serializers.URLField(max_length=500), required=False, max_length=MAX_SCREENSHOTS
    )
    icon_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    requires_restart = serializers.BooleanField(required=False)

    read_only_names = READ_ONLY_FIELDS

    def to_internal_value(self, data):
        if isinstance(data, dict):
            named = [name for name in self.read_only_names if name in data]
            if named:
                raise serializers.ValidationError({name: ["This field is read-only."] for name in named})
        return super().to_internal_value(data)

    def validate_tags(self, value):
        return _validate_tags(value)

    def validate_screenshots(self, value):
        return _validate_screenshots(value)


class AppCreateSerializer(AppWriteSerializer):
    package_id = serializers.RegexField(
        PACKAGE_ID_PATTERN,
        max_length=150,
        trim_whitespace=False,
        error_messages={
            "invalid": "Must look like com.developer.appname: lowercase letters and digits in "
            "dot-separated parts, each starting with a letter."
        },
    )

    read_only_names = tuple(name for name in READ_ONLY_FIELDS if name != "package_id")

    def validate_package_id(self, value):
        if not re.fullmatch(PACKAGE_ID_PATTERN, value):  # RegexField uses search(); be exact
            raise serializers.ValidationError("Invalid package_id.")
        return value


class AppUpdateSerializer(AppWriteSerializer):
    name = serializers.CharField(max_length=100, required=False)


class DeleteResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class ActorSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ActivityEventSerializer(serializers.ModelSerializer):
    app_id = serializers.UUIDField(allow_null=True)
    package_id = serializers.SerializerMethodField()
    version_id = serializers.UUIDField(allow_null=True)
    version_code = serializers.SerializerMethodField()
    actor = serializers.SerializerMethodField()
    data = serializers.DictField()

    class Meta:
        model = ActivityEvent
        fields = [
            "id",
            "type",
            "app_id",
            "package_id",
            "version_id",
            "version_code",
            "actor",
            "data",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_package_id(self, event):
        if event.app_id is not None:
            return event.app.package_id
        return event.data.get("package_id")

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_version_code(self, event):
        return event.version.version_code if event.version_id is not None else None

    @extend_schema_field(ActorSerializer(allow_null=True))
    def get_actor(self, event):
        if event.actor_id is None:
            return None
        return {"id": str(event.actor_id), "name": event.actor.display_name}
