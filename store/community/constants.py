"""Bounds of what people write in the store (the serializers state them, the services enforce them)."""

TITLE_MAX = 200
BODY_MAX = 5000
