"""Input validation and output shapes of the accounts API (seed 000 ``Developer``, ``APIKey``)."""

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from mosis.core.fields import StrictCharField

from .constants import Scope
from .models import ApiKey, SigningKey, User

MAX_PEM_CHARS = 16 * 1024
MOSIS_VERSION_PATTERN = r"^[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]{1,3})?$"


class DeveloperSerializer(serializers.ModelSerializer):
    avatar_url = serializers.CharField(allow_null=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name", "avatar_url", "verified", "created_at", "updated_at"]
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["avatar_url"] = data["avatar_url"] or None
        return data


class TokenObtainSerializer(serializers.Serializer):
    email = StrictCharField(max_length=254)
    password = StrictCharField(max_length=128, trim_whitespace=False)


class RefreshTokenSerializer(serializers.Serializer):
    refresh_token = StrictCharField(max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()


class AuthResultSerializer(TokenPairSerializer):
    user = DeveloperSerializer()


class OAuthRedirectSerializer(serializers.Serializer):
    redirect_url = serializers.URLField()


class OAuthCallbackSerializer(serializers.Serializer):
    code = StrictCharField(max_length=2048, required=False, default="")
    state = StrictCharField(max_length=128)
    error = StrictCharField(max_length=200, required=False, default="")


class AccountActionResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class ApiKeySerializer(serializers.ModelSerializer):
    permissions = serializers.ListField(child=serializers.CharField(), source="scopes")

    class Meta:
        model = ApiKey
        fields = ["id", "name", "key_prefix", "permissions", "last_used_at", "expires_at", "created_at"]
        read_only_fields = fields


@extend_schema_field({"type": "string", "enum": sorted(Scope.values)})
class ScopeField(StrictCharField):
    """A scope name: the schema lists the known ones; an unknown one is refused by the key service, whose
    message names every known scope."""

    def __init__(self, **kwargs):
        super().__init__(max_length=50, **kwargs)


class ApiKeyCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    permissions = serializers.ListField(child=ScopeField(), min_length=1, max_length=len(Scope.values) * 2)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ApiKeyCreatedSerializer(serializers.Serializer):
    key = ApiKeySerializer()
    secret = serializers.CharField(help_text="The mk_live_ secret. Shown once, never again.")


class SigningKeySerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active")

    class Meta:
        model = SigningKey
        fields = [
            "id",
            "name",
            "algorithm",
            "public_key",
            "fingerprint",
            "active",
            "created_at",
            "revoked_at",
        ]
        read_only_fields = fields


class SigningKeyCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=100)
    public_key = StrictCharField(max_length=MAX_PEM_CHARS, help_text="PEM SubjectPublicKeyInfo")


class DeviceRegisterSerializer(serializers.Serializer):
    platform = StrictCharField(max_length=50)
    mosis_version = StrictCharField(
        max_length=11,
        validators=[
            RegexValidator(
                MOSIS_VERSION_PATTERN, message="Expected MAJOR.MINOR[.PATCH], each at most 3 digits."
            )
        ],
        help_text="MAJOR.MINOR[.PATCH], each part at most 3 digits",
    )


class DeviceRegisteredSerializer(serializers.Serializer):
    device_id = serializers.UUIDField()
    device_token = serializers.CharField(help_text="The md_ device token. Shown once, never again.")
