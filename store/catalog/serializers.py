"""Output shapes of the public catalog side (seed 000 PublicApp, SPEC §5 listing, seed 004 versions)."""

from __future__ import annotations

import re
import threading
from datetime import UTC

import markdown
import nh3
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.constants import AppStatus
from store.catalog.constants import rating_average
from store.catalog.links import store_icon_url_for
from versions.constants import mosis_version_number

SORT_CHOICES = ("popular", "recent", "name", "rating", "relevance")


_markdown = threading.local()


def render_long_description(text: str) -> str:
    """Markdown source → sanitized HTML (nh3 drops scripts, event handlers and unsafe URLs).

    One ``Markdown`` instance per thread, reset between texts: building one (loading its extensions) cost
    more than converting a typical description.
    """
    if not text:
        return ""
    converter = getattr(_markdown, "converter", None)
    if converter is None:
        converter = _markdown.converter = markdown.Markdown(extensions=["extra", "sane_lists"])
    try:
        return nh3.clean(converter.convert(text))
    finally:
        converter.reset()


MOSIS_VERSION_REGEX = r"^\d{1,3}(\.\d{1,3}){0,2}$"


class MosisVersionField(serializers.RegexField):
    """A Mosis version string ("1.2" / "1.2.3"); validated value is its sortable number (None when blank)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Only compatible versions, e.g. 1.4 or 1.4.2")
        super().__init__(MOSIS_VERSION_REGEX, **kwargs)
        self.error_messages["invalid"] = "Must be a Mosis version like 1.2 or 1.2.3."

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return mosis_version_number(value) if value else None
        except ValueError:
            raise serializers.ValidationError(self.error_messages["invalid"])

    def run_validators(self, value):
        # RegexField's validator would see the number; mosis_version_number() already enforces the shape.
        return None


class MosisVersionQuerySerializer(serializers.Serializer):
    mosis_version = MosisVersionField(required=False, allow_blank=True)


class PublicAppSerializer(serializers.Serializer):
    """Seed 000's PublicApp plus type, downloads_recent, rating_count and version_code.

    Reads an AppListing with ``app``/``category`` joined and ``shown_version`` set (the newest compatible
    version when browsing by Mosis version, else the latest).
    """

    package_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(source="app.description")
    category = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.CharField(), source="app.tags")
    icon_url = serializers.SerializerMethodField()
    author_name = serializers.CharField()
    latest_version = serializers.SerializerMethodField()
    version_code = serializers.SerializerMethodField()
    type = serializers.CharField()
    download_count = serializers.IntegerField(source="downloads_total")
    downloads_recent = serializers.IntegerField()
    rating = serializers.SerializerMethodField()
    rating_count = serializers.IntegerField()
    created_at = serializers.DateTimeField(source="app.created_at")
    updated_at = serializers.DateTimeField(source="app.updated_at")
    source = serializers.CharField(
        help_text="Where the app comes from (seed 004): `mosis` when published here."
    )
    repository = serializers.CharField(source="app.repository", help_text="Source repository URL, or empty.")
    published_at = serializers.SerializerMethodField(help_text="When the shown version was published.")
    checksum = serializers.SerializerMethodField(help_text="`sha256:<hex>` of the shown version's package.")
    size = serializers.SerializerMethodField(help_text="Size in bytes of the shown version's package.")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_published_at(self, obj):
        version = self._shown(obj)
        if version is None or version.published_at is None:
            return None
        return serializers.DateTimeField().to_representation(version.published_at)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_checksum(self, obj):
        version = self._shown(obj)
        return f"sha256:{version.sha256}" if version is not None else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_size(self, obj):
        version = self._shown(obj)
        return (version.package_size or 0) if version is not None else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_category(self, obj):
        return obj.category.slug if obj.category_id else None

    def _shown(self, obj):
        return getattr(obj, "shown_version", obj.latest_version)

    @extend_schema_field(OpenApiTypes.STR)
    def get_icon_url(self, obj):
        return store_icon_url_for(
            icon_url=obj.app.icon_url, package_id=obj.package_id, version=self._shown(obj)
        )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_latest_version(self, obj):
        version = self._shown(obj)
        return version.version_name if version else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_version_code(self, obj):
        version = self._shown(obj)
        return version.version_code if version else None

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_rating(self, obj):
        return rating_average(rating_sum=obj.rating_sum, rating_count=obj.rating_count)


class DependencyRuleSerializer(serializers.Serializer):
    """What the manifest's object form says of one dependency (docs/package-format.md, Dependencies)."""

    optional = serializers.BooleanField()
    default = serializers.BooleanField()
    description = serializers.CharField()
    config = serializers.DictField(child=serializers.JSONField())


DEPENDENCY_RULES_FIELD = serializers.DictField(
    child=DependencyRuleSerializer(),
    help_text="The dependencies written in the manifest's object form, by package id (the others are required).",
)


class ChangelogEntrySerializer(serializers.Serializer):
    version = serializers.CharField(source="version_name")
    version_code = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)
    release_notes = serializers.CharField()
    yanked = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_yanked(self, obj):
        return obj.yanked_at is not None


class ListingSerializer(PublicAppSerializer):
    """SPEC §5 listing: PublicApp plus every detail field of seed 001."""

    long_description = serializers.CharField(source="app.long_description")
    long_description_html = serializers.SerializerMethodField()
    screenshots = serializers.ListField(child=serializers.CharField(), source="app.screenshots")
    homepage_url = serializers.CharField(source="app.homepage_url")
    support_url = serializers.CharField(source="app.support_url")
    ratings = serializers.SerializerMethodField()
    downloads_total = serializers.IntegerField()
    last_published_at = serializers.DateTimeField(allow_null=True)
    requires_restart = serializers.SerializerMethodField()
    languages = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()
    dependencies = serializers.SerializerMethodField()
    dependency_rules = serializers.SerializerMethodField()
    min_mosis_version = serializers.SerializerMethodField()
    max_mosis_version = serializers.SerializerMethodField()
    listed = serializers.BooleanField()
    disabled = serializers.SerializerMethodField()
    changelog = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_long_description_html(self, obj):
        if obj.long_description_html is not None:  # rendered by listing_refresh
            return obj.long_description_html
        return render_long_description(obj.app.long_description)

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField(), min_length=5, max_length=5))
    def get_ratings(self, obj):
        return [obj.ratings_1, obj.ratings_2, obj.ratings_3, obj.ratings_4, obj.ratings_5]

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_requires_restart(self, obj):
        version = self._shown(obj)
        return bool(obj.app.requires_restart or (version and version.requires_restart))

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_languages(self, obj):
        version = self._shown(obj)
        return list(version.languages or []) if version else []

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_permissions(self, obj):
        version = self._shown(obj)
        return list(version.permissions or []) if version else []

    @extend_schema_field(serializers.DictField(child=serializers.CharField()))
    def get_dependencies(self, obj):
        version = self._shown(obj)
        return dict(version.dependencies or {}) if version else {}

    @extend_schema_field(DEPENDENCY_RULES_FIELD)
    def get_dependency_rules(self, obj):
        version = self._shown(obj)
        return dict(version.dependency_rules or {}) if version else {}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_min_mosis_version(self, obj):
        version = self._shown(obj)
        return (version.min_mosis_version or None) if version else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_max_mosis_version(self, obj):
        version = self._shown(obj)
        if version is None:
            return None
        return obj.app.max_mosis_version_override or version.max_mosis_version or None

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_disabled(self, obj):
        return obj.app.status == AppStatus.DISABLED

    @extend_schema_field(ChangelogEntrySerializer(many=True))
    def get_changelog(self, obj):
        return ChangelogEntrySerializer(self.context.get("changelog", []), many=True).data


class PublicVersionSerializer(serializers.Serializer):
    """Seed 004's version entry: where to download it and how to check it."""

    version = serializers.CharField(source="version_name")
    version_code = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField()
    checksum = serializers.SerializerMethodField()
    size = serializers.SerializerMethodField()
    yanked = serializers.SerializerMethodField()
    min_mosis_version = serializers.SerializerMethodField()
    max_mosis_version = serializers.SerializerMethodField()
    release_notes = serializers.CharField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_download_url(self, obj):
        return reverse("store-version-download", args=[obj.app.package_id, obj.version_code])

    @extend_schema_field(OpenApiTypes.STR)
    def get_checksum(self, obj):
        return f"sha256:{obj.sha256}"

    @extend_schema_field(OpenApiTypes.INT)
    def get_size(self, obj):
        return obj.package_size or 0

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_yanked(self, obj):
        return obj.yanked_at is not None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_min_mosis_version(self, obj):
        return obj.min_mosis_version or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_max_mosis_version(self, obj):
        return obj.max_mosis_version or None


class ViolationSerializer(serializers.Serializer):
    package_id = serializers.CharField()
    name = serializers.ChoiceField(
        choices=["missing", "incompatible-version", "incompatible-status", "incompatible-config"]
    )
    required_by = serializers.CharField(allow_null=True)
    version_spec = serializers.CharField(allow_null=True)
    suggested_version = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    rule_violations = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="incompatible-config: each unmet setting."
    )
    required_config = serializers.DictField(
        child=serializers.JSONField(),
        allow_null=True,
        help_text="incompatible-config: the settings to apply.",
    )
    auto_configurable = serializers.BooleanField(
        allow_null=True, help_text="incompatible-config: whether the store could apply them (never, today)."
    )


class RequirementSerializer(serializers.Serializer):
    """Seed 002's ``AppDependencyRequirement``: one dependency of a version."""

    id = serializers.CharField(help_text="The dependency's package id.")
    title = serializers.CharField()
    icon_url = serializers.CharField()
    optional = serializers.BooleanField()
    default = serializers.BooleanField(
        help_text="Installed unless declined (always true for a required dependency)."
    )
    version_spec = serializers.CharField(help_text="npm semver range.")
    description = serializers.CharField(allow_null=True)
    config = serializers.DictField(
        child=serializers.JSONField(), help_text="Settings the dependency must have (empty: none)."
    )
    violation = ViolationSerializer(
        allow_null=True, help_text="What stands in the way on this device (always null without a device)."
    )


class PublicVersionDetailSerializer(PublicVersionSerializer):
    """One published version (seed 002's version-specific data, seed 004's version entry): what it needs and
    how to check it. Reads an AppVersion with ``app`` set and ``requirements`` attached."""

    sha256 = serializers.CharField()
    requires_restart = serializers.SerializerMethodField()
    permissions = serializers.ListField(child=serializers.CharField())
    languages = serializers.ListField(child=serializers.CharField())
    dependencies = serializers.DictField(child=serializers.CharField())
    requirements = RequirementSerializer(many=True)

    @extend_schema_field(OpenApiTypes.BOOL)
    def get_requires_restart(self, obj):
        return bool(obj.requires_restart or obj.app.requires_restart)


class CategorySerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    app_count = serializers.IntegerField()


class CatalogVersionSerializer(serializers.Serializer):
    version = serializers.CharField(source="version_name")
    version_code = serializers.IntegerField()
    published_at = serializers.DateTimeField(allow_null=True)
    min_mosis_version = serializers.SerializerMethodField()
    max_mosis_version = serializers.SerializerMethodField()
    dependencies = serializers.DictField(child=serializers.CharField())
    dependency_rules = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_min_mosis_version(self, obj):
        return obj.min_mosis_version or None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_max_mosis_version(self, obj):
        return obj.max_mosis_version or None

    @extend_schema_field(DEPENDENCY_RULES_FIELD)
    def get_dependency_rules(self, obj):
        return dict(obj.dependency_rules or {})


class CatalogEntrySerializer(ListingSerializer):
    """One catalog app: the listing minus the heavy long description, plus installable versions."""

    title = serializers.CharField(source="name")
    versions = serializers.SerializerMethodField()
    last_updated = serializers.DateTimeField(source="last_published_at", allow_null=True)

    class Meta:
        exclude_fields = ("long_description", "long_description_html", "changelog", "screenshots")

    def get_fields(self):
        fields = super().get_fields()
        for name in self.Meta.exclude_fields:
            fields.pop(name, None)
        return fields

    @extend_schema_field(CatalogVersionSerializer(many=True))
    def get_versions(self, obj):
        return CatalogVersionSerializer(getattr(obj.app, "installable_versions", []), many=True).data


class CatalogSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    count = serializers.IntegerField()
    download_url_template = serializers.CharField(
        help_text="Absolute URL of a version's download answer, with {package_id} and {version_code} to fill in."
    )
    detail_url_template = serializers.CharField(
        help_text="Absolute URL of an app's listing, with {package_id} to fill in."
    )
    icon_url_template = serializers.CharField(
        help_text="Absolute URL of a version's packaged icon, with {package_id} and {version_code} to fill in."
    )
    apps = CatalogEntrySerializer(many=True)


_ETAG = re.compile(r'^(?:W/)?"?([0-9a-f]{40})(?:-gzip)?"?$')


class CatalogQuerySerializer(serializers.Serializer):
    """``?since=``: a previous document's ``ETag`` (as received, quoted or not, either encoding's) or an ISO 8601
    timestamp (UTC when it names no offset)."""

    since = serializers.CharField(
        required=False,
        allow_blank=True,  # so that an empty value reaches validate_since (a 400), not "absent"
        max_length=100,
        help_text=(
            "A previous catalog's ETag or an ISO 8601 timestamp: answer only the apps changed and removed since "
            "then. An ETag no longer known, a moment older than the retention, or too many changes: the full "
            "document."
        ),
    )

    def validate_since(self, value: str):
        """``("etag", '"<hex>"')`` or ``("time", aware datetime)``."""
        if not value.strip():
            raise serializers.ValidationError("Give a previous catalog's ETag or an ISO 8601 timestamp.")
        match = _ETAG.match(value.strip())
        if match:
            return ("etag", f'"{match.group(1)}"')
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            moment = None
        if moment is None:
            raise serializers.ValidationError("Give a previous catalog's ETag or an ISO 8601 timestamp.")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, UTC)
        return ("time", moment)


class CatalogDeltaSerializer(serializers.Serializer):
    """What changed since a previous catalog (``?since=``): apply ``changed`` (whole entries) and ``removed``
    (package ids) to it, then keep ``etag`` for the next poll."""

    generated_at = serializers.DateTimeField(help_text="When the current document was generated.")
    etag = serializers.CharField(help_text="The current document's ETag: the next poll's `since`.")
    since = serializers.DateTimeField(help_text="The moment the changes are counted from.")
    download_url_template = serializers.CharField()
    detail_url_template = serializers.CharField()
    icon_url_template = serializers.CharField()
    changed = CatalogEntrySerializer(many=True, help_text="Apps added or changed since then, whole.")
    removed = serializers.ListField(
        child=serializers.CharField(), help_text="Package ids of the apps that left the catalog since then."
    )


class CacheStatsSerializer(serializers.Serializer):
    list_entries = serializers.IntegerField()
    metadata_entries = serializers.IntegerField()
    version_entries = serializers.IntegerField()
    total_entries = serializers.IntegerField()
    hits = serializers.IntegerField()
    misses = serializers.IntegerField()
