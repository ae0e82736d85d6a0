"""Input validation and output shape of the versions API and of ``/v1/apps``' App (which embeds its latest
published version, so it is rendered here, above apps) (no business rules here)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.models import App
from mosis_package.manifest import SEMVER_PATTERN

from .constants import VersionStatus
from .models import AppVersion
from .selectors import app_latest_version, version_package_url
from .services.lifecycle import MAX_VERSION_CODE


class BlankAsNullCharField(serializers.CharField):
    """Optional strings stored as '' are answered as null (seed 000's ``field?: string``)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value or None


class LatestVersionSerializer(serializers.Serializer):
    """Summary of the newest published, non-yanked version (seed 000 ``AppVersion`` fields)."""

    id = serializers.UUIDField()
    app_id = serializers.UUIDField()
    version_name = serializers.CharField()
    version_code = serializers.IntegerField()
    status = serializers.CharField()
    package_size = serializers.IntegerField(allow_null=True)
    permissions = serializers.ListField(child=serializers.CharField())
    min_mosis_version = serializers.CharField()
    max_mosis_version = serializers.CharField()
    release_notes = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class AppSerializer(serializers.ModelSerializer):
    """The App of seed 000 plus SPEC §5's additions and ``latest_version``."""

    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    screenshots = serializers.ListField(child=serializers.URLField())
    max_mosis_version = serializers.CharField(source="max_mosis_version_override", read_only=True)
    latest_version = serializers.SerializerMethodField()

    class Meta:
        model = App
        fields = [
            "id",
            "package_id",
            "name",
            "description",
            "long_description",
            "category",
            "tags",
            "type",
            "status",
            "icon_url",
            "homepage_url",
            "support_url",
            "repository",
            "source",
            "screenshots",
            "requires_restart",
            "max_mosis_version",
            "latest_version",
            "first_published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LatestVersionSerializer(allow_null=True))
    def get_latest_version(self, app):
        version = app_latest_version(app=app)
        return LatestVersionSerializer(version).data if version is not None else None


class IssueSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    path = serializers.CharField(allow_null=True)
    severity = serializers.ChoiceField(choices=["error", "warning"])


class ValidationReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    errors = IssueSerializer(many=True)
    warnings = IssueSerializer(many=True)
    sha256 = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)


class AppVersionSerializer(serializers.ModelSerializer):
    """Seed 000 ``AppVersion`` plus what validation found and the lifecycle timestamps."""

    app_id = serializers.UUIDField(read_only=True)
    package_size = serializers.IntegerField(read_only=True, allow_null=True)
    signature = BlankAsNullCharField()
    signing_key_id = serializers.UUIDField(read_only=True, allow_null=True)
    signing_key_fingerprint = BlankAsNullCharField()
    sha256 = BlankAsNullCharField()
    min_mosis_version = BlankAsNullCharField()
    max_mosis_version = BlankAsNullCharField()
    release_notes = serializers.CharField(read_only=True)
    review_notes = BlankAsNullCharField()
    permissions = serializers.ListField(child=serializers.CharField(), read_only=True)
    sensitive_permissions = serializers.ListField(child=serializers.CharField(), read_only=True)
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    dependencies = serializers.DictField(child=serializers.CharField(), read_only=True)
    dependency_rules = serializers.DictField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Dependencies written in the manifest's object form: package id -> "
        "{optional, default, description, config} (docs/package-format.md, Dependencies).",
    )
    validation_report = ValidationReportSerializer(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=VersionStatus.choices, read_only=True)
    package_url = serializers.SerializerMethodField(
        help_text="A short-lived signed URL of this version's package (from upload-complete on), for its "
        "owner; null before."
    )

    class Meta:
        model = AppVersion
        fields = [
            "id",
            "app_id",
            "version_name",
            "version_code",
            "status",
            "release_notes",
            "review_notes",
            "package_size",
            "package_url",
            "sha256",
            "signature",
            "signing_key_id",
            "signing_key_fingerprint",
            "permissions",
            "sensitive_permissions",
            "dependencies",
            "dependency_rules",
            "languages",
            "min_mosis_version",
            "max_mosis_version",
            "requires_restart",
            "validation_report",
            "upload_expires_at",
            "submitted_at",
            "reviewed_at",
            "published_at",
            "yanked_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_package_url(self, version: AppVersion) -> str | None:
        return version_package_url(version=version)


class VersionCreateSerializer(serializers.Serializer):
    version_name = serializers.RegexField(
        SEMVER_PATTERN,
        max_length=64,
        error_messages={"invalid": "Must be a semantic version such as 1.4.0."},
        help_text="Semantic version (1.4.0, 2.0.0-beta.1); never reused within the app.",
    )
    version_code = serializers.IntegerField(min_value=1, max_value=MAX_VERSION_CODE)
    release_notes = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    size = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Package size in bytes; when given, the upload must be exactly this size.",
    )


class VersionCreatedSerializer(serializers.Serializer):
    version = AppVersionSerializer()
    upload_url = serializers.URLField(help_text="PUT the package body here.")
    upload_expires = serializers.DateTimeField()
    upload_method = serializers.ChoiceField(choices=["PUT"])
    upload_headers = serializers.DictField(
        child=serializers.CharField(), help_text="Headers the PUT must carry (Content-Type, Content-Length)."
    )


class UploadCompleteSerializer(serializers.Serializer):
    signature = serializers.CharField(
        max_length=2048,
        required=False,
        allow_blank=True,
        default="",
        help_text="Base64 signature over the package's SHA-256 (docs/package-format.md §7). Required when "
        "signing_key_id is given: a key id with an empty signature is a 400.",
    )
    signing_key_id = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="The registered signing key that signed it."
    )


class SuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()
