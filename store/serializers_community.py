"""Input validation and output shapes for reviews, abuse reports and the device endpoints (no rules here)."""

from rest_framework import serializers

from mosis.core.fields import StrictCharField
from store.models import AbuseReason, AbuseReport, DeviceApp, Review, ReviewReply
from store.serializers_catalog import StoreDownloadSerializer
from store.services.devices import MAX_INSTALLED_ITEMS
from store.services.reviews import BODY_MAX, TITLE_MAX

PACKAGE_ID_MAX = 150
PLAN_ITEMS_MAX = 200


# --- reviews ---------------------------------------------------------------------------------------------
class ReviewInputSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = StrictCharField(max_length=TITLE_MAX, required=False, allow_blank=True, default="")
    body = StrictCharField(max_length=BODY_MAX, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs.get("body", "").strip() and not attrs.get("title", "").strip():
            raise serializers.ValidationError({"title": ["A title is required when a review body is given."]})
        return attrs


class ReviewReplyInputSerializer(serializers.Serializer):
    body = StrictCharField(max_length=BODY_MAX)


class ReviewReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = ReviewReply
        fields = ["body", "created_at", "updated_at"]


class ReviewAuthorSerializer(serializers.Serializer):
    name = serializers.CharField(source="display_name")


class ReviewSerializer(serializers.ModelSerializer):
    author = ReviewAuthorSerializer(source="user", read_only=True)
    # A missing reverse one-to-one reads as None (DRF maps ObjectDoesNotExist to null).
    reply = ReviewReplySerializer(read_only=True, allow_null=True)

    class Meta:
        model = Review
        fields = [
            "id",
            "rating",
            "title",
            "body",
            "version_name",
            "author",
            "reply",
            "created_at",
            "updated_at",
        ]


# --- abuse -------------------------------------------------------------------------------------------------
class AbuseReportInputSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=AbuseReason.choices)
    comment = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")


class AbuseReportSerializer(serializers.ModelSerializer):
    package_id = serializers.CharField(source="app.package_id")

    class Meta:
        model = AbuseReport
        fields = ["id", "package_id", "reason", "comment", "created_at", "updated_at"]


# --- devices -----------------------------------------------------------------------------------------------
class InstalledAppSerializer(serializers.Serializer):
    package_id = StrictCharField(max_length=PACKAGE_ID_MAX)
    version_code = serializers.IntegerField(min_value=1, max_value=2_147_483_647)


class InstalledSetInputSerializer(serializers.Serializer):
    apps = InstalledAppSerializer(many=True, max_length=MAX_INSTALLED_ITEMS)


class InstalledSetUpdatesInputSerializer(serializers.Serializer):
    apps = InstalledAppSerializer(many=True, max_length=MAX_INSTALLED_ITEMS, required=False)


class DeviceAppSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceApp
        fields = ["package_id", "version_code", "reported_at"]


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


class PlanStepSerializer(serializers.Serializer):
    package_id = serializers.CharField()
    title = serializers.CharField()
    icon_url = serializers.CharField()
    action = serializers.ChoiceField(choices=["install", "upgrade", "downgrade"])
    installed_version_code = serializers.IntegerField(allow_null=True)
    version = serializers.CharField()
    version_code = serializers.IntegerField()
    dependencies = serializers.DictField(child=serializers.CharField())
    download = StoreDownloadSerializer(allow_null=True)


class BreakageSerializer(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    icon_url = serializers.CharField()
    reason = serializers.CharField()


class ViolationSerializer(serializers.Serializer):
    package_id = serializers.CharField()
    name = serializers.ChoiceField(choices=["missing", "incompatible-version", "incompatible-status"])
    required_by = serializers.CharField(allow_null=True)
    version_spec = serializers.CharField(allow_null=True)
    suggested_version = serializers.CharField(allow_null=True)
    status = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class PlanSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    install = PlanStepSerializer(many=True)
    uninstall = serializers.ListField(child=serializers.CharField())
    breakages = BreakageSerializer(many=True)
    violations = ViolationSerializer(many=True)
