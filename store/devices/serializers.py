"""Input validation and output shapes of the device endpoints: the installed set, updates, plans and a
device's view of one app (no rules here)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mosis.core.fields import StrictCharField
from mosis.core.schema import NO_NUL_PATTERN
from mosis_package.manifest import CONFIG_KEY_PATTERN
from store.catalog.serializers import RequirementSerializer, ViolationSerializer
from store.devices.config import (
    MAX_CONFIG_KEYS,
    MAX_CONFIG_VALUE_LENGTH,
    MAX_INSTALLED_ITEMS,
    config_problems,
)
from store.downloads.serializers import StoreDownloadSerializer

PACKAGE_ID_MAX = 150
PLAN_ITEMS_MAX = 200


DEVICE_CONFIG_SCHEMA = {
    "type": "object",
    "maxProperties": MAX_CONFIG_KEYS,
    "description": (
        f"The app's settings: at most {MAX_CONFIG_KEYS}, names matching {CONFIG_KEY_PATTERN}, values a string "
        f"of at most {MAX_CONFIG_VALUE_LENGTH} characters, a boolean or a 64-bit integer; checked against the "
        "config its dependents require."
    ),
    "additionalProperties": {
        "oneOf": [
            {"type": "string", "maxLength": MAX_CONFIG_VALUE_LENGTH, "pattern": NO_NUL_PATTERN},
            {"type": "boolean"},
            {"type": "integer", "format": "int64", "minimum": -(2**63), "maximum": 2**63 - 1},
        ]
    },
}


@extend_schema_field(DEVICE_CONFIG_SCHEMA)
class DeviceConfigField(serializers.DictField):
    """What a device reports of one app's configuration (seed 002 ``incompatible-config``): at most
    ``MAX_CONFIG_KEYS`` settings named like ``sync`` or ``editor.font-size``, each a string (at most
    ``MAX_CONFIG_VALUE_LENGTH`` characters), a boolean or an integer."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.JSONField(), **kwargs)

    def to_internal_value(self, data):
        problems = config_problems(data)
        if problems:
            raise serializers.ValidationError(problems)
        return dict(data)


class InstalledAppSerializer(serializers.Serializer):
    package_id = StrictCharField(max_length=PACKAGE_ID_MAX)
    version_code = serializers.IntegerField(min_value=1, max_value=2_147_483_647)
    config = DeviceConfigField(required=False)


class InstalledSetInputSerializer(serializers.Serializer):
    apps = InstalledAppSerializer(many=True, max_length=MAX_INSTALLED_ITEMS)


class InstalledSetUpdatesInputSerializer(serializers.Serializer):
    apps = InstalledAppSerializer(many=True, max_length=MAX_INSTALLED_ITEMS, required=False)


class DeviceAppStoreViewSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.CharField(help_text="The app's status in the store.")
    disabled = serializers.BooleanField(help_text="Turn the app off (seed 001).")
    installed_version = serializers.CharField(
        allow_null=True, help_text="Name of the reported version_code, when the store published it."
    )
    yanked = serializers.BooleanField(help_text="The reported version was withdrawn (yanked).")
    latest_version = serializers.CharField(
        allow_null=True,
        help_text="Newest version installable on this device (null: none, or the app is hidden).",
    )
    latest_version_code = serializers.IntegerField(allow_null=True)
    update_available = serializers.BooleanField()


class DeviceAppSerializer(serializers.Serializer):
    package_id = serializers.CharField()
    version_code = serializers.IntegerField()
    config = serializers.DictField(child=serializers.JSONField())
    reported_at = serializers.DateTimeField()
    store = DeviceAppStoreViewSerializer(
        allow_null=True, help_text="The store's view of the app; null when the store does not describe it."
    )


class InstalledSetSerializer(serializers.Serializer):
    apps = DeviceAppSerializer(many=True)


class UpdateSerializer(serializers.Serializer):
    package_id = serializers.CharField()
    name = serializers.CharField()
    installed_version_code = serializers.IntegerField()
    version = serializers.CharField()
    version_code = serializers.IntegerField()
    release_notes = serializers.CharField()
    requires_restart = serializers.BooleanField()
    download = StoreDownloadSerializer()


class UpdatesSerializer(serializers.Serializer):
    updates = UpdateSerializer(many=True)
    disabled = serializers.ListField(child=serializers.CharField())


class PlanInstallItemSerializer(serializers.Serializer):
    package_id = StrictCharField(max_length=PACKAGE_ID_MAX)
    version = StrictCharField(max_length=100, required=False, allow_null=True, allow_blank=True)


class PlanInputSerializer(serializers.Serializer):
    install = PlanInstallItemSerializer(many=True, required=False, max_length=PLAN_ITEMS_MAX)
    uninstall = serializers.ListField(
        child=StrictCharField(max_length=PACKAGE_ID_MAX),
        required=False,
        max_length=PLAN_ITEMS_MAX,
    )
    decline = serializers.ListField(
        child=StrictCharField(max_length=PACKAGE_ID_MAX),
        required=False,
        max_length=PLAN_ITEMS_MAX,
        help_text="Optional dependencies not to install even though their default is to install them.",
    )


class PlanStepSerializer(serializers.Serializer):
    package_id = serializers.CharField()
    title = serializers.CharField()
    icon_url = serializers.CharField()
    action = serializers.ChoiceField(choices=["install", "upgrade", "downgrade"])
    installed_version_code = serializers.IntegerField(allow_null=True)
    version = serializers.CharField()
    version_code = serializers.IntegerField()
    dependencies = serializers.DictField(child=serializers.CharField())
    configure = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Settings to apply after installing: what the packages depending on it require.",
    )
    download = StoreDownloadSerializer(allow_null=True)


class BreakageSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    icon_url = serializers.CharField()
    reason = serializers.CharField()


class PlanSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    install = PlanStepSerializer(many=True)
    uninstall = serializers.ListField(child=serializers.CharField())
    breakages = BreakageSerializer(many=True)
    violations = ViolationSerializer(many=True)


class DeviceAppAvailableSerializer(serializers.Serializer):
    """Seed 002's ``ApiAppAvailableFull`` for the calling device."""

    id = serializers.CharField(help_text="The package id.")
    title = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["not_installed", "installed", "update_available", "incompatible"]
    )
    version_installed = serializers.CharField(allow_null=True)
    version_code_installed = serializers.IntegerField(allow_null=True)
    icon_url = serializers.CharField()
    version_latest = serializers.CharField(allow_null=True, help_text="Newest version installable here.")
    version_code_latest = serializers.IntegerField(allow_null=True)
    description_short = serializers.CharField()
    release_notes = serializers.CharField(allow_null=True)
    requirements = RequirementSerializer(many=True)
    description_long = serializers.CharField()
    description_long_html = serializers.CharField()
    versions = serializers.ListField(
        child=serializers.CharField(), help_text="Versions installable here, newest first."
    )
