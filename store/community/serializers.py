"""Input validation and output shapes for reviews and abuse reports (no rules here)."""

from rest_framework import serializers

from mosis.core.fields import StrictCharField
from store.community.constants import BODY_MAX, TITLE_MAX
from store.models import AbuseReason, AbuseReport, Review, ReviewReply


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
