"""drf-spectacular descriptions of the credentials of ``accounts.authentication`` (imported by
``AccountsConfig.ready``)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

JWT_BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "JWT access token"}
API_KEY_BEARER = {"type": "http", "scheme": "bearer", "description": "mk_live_ API key"}
DEVICE_BEARER = {"type": "http", "scheme": "bearer", "description": "md_ device token"}
API_KEY_HEADER = {"type": "apiKey", "in": "header", "name": "X-API-Key"}
METRICS_TOKEN_BEARER = {"type": "http", "scheme": "bearer", "description": "The operator's METRICS_TOKEN"}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = ["apiKeyBearer", "apiKeyHeader"]

    def get_security_definition(self, auto_schema):
        return [API_KEY_BEARER, API_KEY_HEADER]


class DeviceTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.DeviceTokenAuthentication"
    name = "deviceToken"

    def get_security_definition(self, auto_schema):
        return DEVICE_BEARER


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "jwtBearer"
    priority = 1  # before simplejwt's own extension for its parent class

    def get_security_definition(self, auto_schema):
        return JWT_BEARER


class MetricsTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.MetricsTokenAuthentication"
    name = "metricsToken"

    def get_security_definition(self, auto_schema):
        return METRICS_TOKEN_BEARER
