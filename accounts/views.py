"""Thin DRF views of the accounts API (SPEC §5 Auth, Keys, Signing keys, Devices): validate, call, render."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet

from mosis.core.idempotency import idempotent
from mosis.core.pagination import PaginatedListMixin
from mosis.core.schema import ERROR_DESCRIPTIONS, ERROR_REF, MosisAutoSchema

from . import selectors, services
from .constants import Scope
from .lockout import authenticate_with_lockout
from .models import ApiKey, SigningKey
from .oauth import PROVIDERS, provider_client
from .permissions import HasScope, IsDeveloper, credential_scopes
from .serializers import (
    AccountActionResultSerializer,
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    AuthResultSerializer,
    DeveloperSerializer,
    DeviceRegisteredSerializer,
    DeviceRegisterSerializer,
    OAuthCallbackSerializer,
    OAuthRedirectSerializer,
    RefreshTokenSerializer,
    SigningKeyCreateSerializer,
    SigningKeySerializer,
    TokenObtainSerializer,
    TokenPairSerializer,
)


def _with_error_responses(responses: dict, statuses) -> dict:
    for status_code in statuses:
        responses.setdefault(
            str(status_code),
            {
                "content": {"application/json": {"schema": ERROR_REF}},
                "description": ERROR_DESCRIPTIONS[status_code],
            },
        )
    return responses


class CredentialExchangeSchema(MosisAutoSchema):
    """Endpoints that take no Authorization header but still answer 401 for a bad credential in the body."""

    def _get_response_bodies(self, direction="response"):
        return _with_error_responses(super()._get_response_bodies(direction), [401])


class OAuthCallbackSchema(CredentialExchangeSchema):
    """401 for a disabled account, 503 when the provider has no client credentials here."""

    def _get_response_bodies(self, direction="response"):
        return _with_error_responses(super()._get_response_bodies(direction), [503])


class OAuthStartSchema(MosisAutoSchema):
    """The OAuth endpoints also answer 503 when the server has no client credentials for the provider."""

    def _get_response_bodies(self, direction="response"):
        return _with_error_responses(super()._get_response_bodies(direction), [503])


class PublicAuthView(APIView):
    """No Authorization header is read (a stale one must not block signing in); counted as ``auth``."""

    authentication_classes = []
    permission_classes = [AllowAny]
    ratelimit_category = "auth"
    schema = CredentialExchangeSchema()


def _auth_result(user, pair) -> dict:
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "user": DeveloperSerializer(user).data,
    }


class TokenObtainView(PublicAuthView):
    @extend_schema(
        operation_id="auth_token_obtain",
        request=TokenObtainSerializer,
        responses={200: AuthResultSerializer},
        auth=[],
        summary="Email + password → JWT pair",
    )
    def post(self, request):
        data = TokenObtainSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate_with_lockout(request=request, **data.validated_data)  # 429 while locked
        return Response(_auth_result(user, services.token_obtain(user=user)))


class TokenRefreshView(PublicAuthView):
    @extend_schema(
        operation_id="auth_token_refresh",
        request=RefreshTokenSerializer,
        responses={200: TokenPairSerializer},
        auth=[],
        summary="Rotate a refresh token (the old one is blacklisted)",
    )
    def post(self, request):
        data = RefreshTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.token_refresh(refresh_token=data.validated_data["refresh_token"])
        return Response({"access_token": pair.access_token, "refresh_token": pair.refresh_token})


class LogoutView(APIView):
    permission_classes = [IsDeveloper]
    ratelimit_category = "auth"

    @extend_schema(
        operation_id="auth_logout",
        request=RefreshTokenSerializer,
        responses={200: AccountActionResultSerializer},
        summary="Blacklist the given refresh token",
    )
    def post(self, request):
        data = RefreshTokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.token_logout(user=request.user, refresh_token=data.validated_data["refresh_token"])
        return Response({"success": True})


class MeView(APIView):
    """Any developer credential (no scope needed: who you are is always readable); a device token is 401."""

    permission_classes = [IsDeveloper]

    @extend_schema(
        operation_id="auth_me", responses={200: DeveloperSerializer}, summary="The signed-in developer"
    )
    def get(self, request):
        return Response(DeveloperSerializer(request.user).data)


PROVIDER_PARAM = OpenApiParameter(
    "provider", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(PROVIDERS), description="Sign-in provider"
)


class OAuthStartView(PublicAuthView):
    schema = OAuthStartSchema()

    @extend_schema(
        operation_id="auth_oauth_start",
        request=None,
        parameters=[PROVIDER_PARAM],
        responses={200: OAuthRedirectSerializer},
        auth=[],
        summary="Start OAuth: the provider URL to send the browser to",
    )
    def post(self, request, provider: str):
        client = provider_client(request=request, provider=provider)
        return Response({"redirect_url": services.oauth_start(client=client)})


class OAuthCallbackView(PublicAuthView):
    schema = OAuthCallbackSchema()

    @extend_schema(
        operation_id="auth_oauth_callback",
        parameters=[PROVIDER_PARAM, OAuthCallbackSerializer],
        responses={200: AuthResultSerializer},
        auth=[],
        summary="OAuth callback: exchange the code, sign in or sign up, return the JWT pair",
    )
    def get(self, request, provider: str):
        query = OAuthCallbackSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        client = provider_client(request=request, provider=provider)
        user, pair = services.oauth_complete(client=client, **query.validated_data)
        return Response(_auth_result(user, pair))


class ApiKeyViewSet(PaginatedListMixin, mixins.ListModelMixin, GenericViewSet):
    """Listing, creating and revoking keys is key management: all need ``keys:manage``."""

    permission_classes = [IsDeveloper, HasScope]
    required_scopes = {"*": Scope.KEYS_MANAGE}
    queryset = ApiKey.objects.none()  # the model, for the schema; reads go through selectors
    serializer_class = ApiKeySerializer
    items_key = "keys"
    lookup_url_kwarg = "key_id"

    def get_queryset(self):
        return selectors.api_key_list(user=self.request.user)

    @extend_schema(operation_id="keys_list", summary="List API keys (revoked ones are left out)")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="keys_create",
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
        summary="Create an API key; the secret is in this answer only",
    )
    def create(self, request):
        data = ApiKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key, secret = services.api_key_create(
            user=request.user,
            name=data.validated_data["name"],
            scopes=data.validated_data["permissions"],
            expires_at=data.validated_data["expires_at"],
            granter_scopes=credential_scopes(request),
        )
        return Response({"key": ApiKeySerializer(key).data, "secret": secret}, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="keys_revoke",
        responses={200: AccountActionResultSerializer},
        summary="Revoke an API key",
    )
    def destroy(self, request, key_id):
        services.api_key_revoke(key=selectors.api_key_get(user=request.user, key_id=key_id))
        return Response({"success": True})


class SigningKeyViewSet(PaginatedListMixin, mixins.ListModelMixin, GenericViewSet):
    """Reads need only a developer credential (public keys are not secret; a CI key with ``versions:upload``
    must find its ``signing_key_id``); registering and revoking need ``keys:manage``."""

    permission_classes = [IsDeveloper, HasScope]
    required_scopes = {"create": Scope.KEYS_MANAGE, "destroy": Scope.KEYS_MANAGE}
    queryset = SigningKey.objects.none()  # the model, for the schema; reads go through selectors
    serializer_class = SigningKeySerializer
    items_key = "keys"
    lookup_url_kwarg = "key_id"

    def get_queryset(self):
        return selectors.signing_key_list(user=self.request.user)

    @extend_schema(operation_id="signing_keys_list", summary="List signing keys (revoked ones included)")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="signing_keys_register",
        request=SigningKeyCreateSerializer,
        responses={201: SigningKeySerializer},
        summary="Register a PEM public key (Ed25519, ECDSA P-256, RSA >= 2048)",
    )
    def create(self, request):
        data = SigningKeyCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = services.signing_key_register(user=request.user, **data.validated_data)
        return Response(SigningKeySerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="signing_keys_revoke",
        responses={200: AccountActionResultSerializer},
        summary="Revoke a signing key (the record is kept)",
    )
    def destroy(self, request, key_id):
        services.signing_key_revoke(key=selectors.signing_key_get(user=request.user, key_id=key_id))
        return Response({"success": True})


class DeviceRegisterView(PublicAuthView):
    schema = MosisAutoSchema()

    @extend_schema(
        operation_id="devices_register",
        request=DeviceRegisterSerializer,
        responses={201: DeviceRegisteredSerializer},
        auth=[],
        summary="Register a device; the md_ token is in this answer only",
    )
    @idempotent
    def post(self, request):
        data = DeviceRegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device, token = services.device_register(**data.validated_data)
        return Response({"device_id": str(device.pk), "device_token": token}, status=status.HTTP_201_CREATED)
