"""The download answer and its query (``?redirect``, ``?mosis_version``)."""

from __future__ import annotations

from rest_framework import serializers

from store.catalog.serializers import MosisVersionQuerySerializer


class DownloadQuerySerializer(MosisVersionQuerySerializer):
    redirect = serializers.BooleanField(
        required=False, default=False, help_text="Answer 302 to download_url instead of JSON"
    )


class StoreDownloadSerializer(serializers.Serializer):
    download_url = serializers.CharField()
    version = serializers.CharField()
    version_code = serializers.IntegerField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    signature = serializers.CharField()
    signing_key_fingerprint = serializers.CharField()
