"""drf-spectacular wiring: every operation documents the error body of SPEC §3 for the statuses it can answer."""

from drf_spectacular.openapi import AutoSchema

ERROR_REF = {"$ref": "#/components/schemas/Error"}


ERROR_DESCRIPTIONS = {
    400: "VALIDATION_ERROR: invalid input; field errors in details",
    401: "UNAUTHORIZED: missing, invalid, expired or revoked credentials",
    403: "FORBIDDEN: the credential lacks a scope or the caller may not do this",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT: the object's state does not allow this",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED: see Retry-After",
    500: "INTERNAL_ERROR",
}


class MosisAutoSchema(AutoSchema):
    """Adds the shared error responses to every operation (views may add or override their own)."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = not self.get_auth() or getattr(self.view, "schema_public", False)
        statuses = [400, 404, 405, 415, 429, 500]
        if not public:
            statuses += [401, 403]
        if self.method in ("POST", "PUT", "PATCH"):
            statuses += [409, 413]
        for status in statuses:
            key = str(status)
            if key not in responses:
                responses[key] = {
                    "content": {"application/json": {"schema": ERROR_REF}},
                    "description": ERROR_DESCRIPTIONS[status],
                }
        return responses


def pagination_component_hook(result, generator, request, public):
    """Registers the shared ``Pagination`` and ``Error`` components used by every list and error response."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Pagination",
        {
            "type": "object",
            "required": ["page", "limit", "total", "total_pages"],
            "properties": {
                "page": {"type": "integer"},
                "limit": {"type": "integer"},
                "total": {"type": "integer"},
                "total_pages": {"type": "integer"},
            },
        },
    )
    schemas.setdefault(
        "Error",
        {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details", "request_id"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object", "additionalProperties": True},
                        "request_id": {"type": "string"},
                    },
                }
            },
        },
    )
    return result
