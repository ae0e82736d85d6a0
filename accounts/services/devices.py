"""Device registrations and their ``md_`` tokens (SPEC §5 Devices)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.mosis_version import mosis_version_number

from ..models import Device
from ..tokens import hash_secret, new_device_token

logger = logging.getLogger("mosis.accounts")


def device_register(*, platform: str, mosis_version: str) -> tuple[Device, str]:
    """A new device and its ``md_`` token (returned once; only the SHA-256 is stored)."""
    platform = (platform or "").strip()
    if not platform:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, "platform is required.", {"platform": ["Required."]}
        )
    try:
        if mosis_version_number(mosis_version) is None:
            raise ValueError
    except ValueError:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "mosis_version must look like 1.2 or 1.2.3.",
            {"mosis_version": ["Expected MAJOR.MINOR[.PATCH], each at most 3 digits."]},
        ) from None
    token = new_device_token()
    device = Device.objects.create(
        platform=platform, mosis_version=mosis_version, token_hash=hash_secret(token)
    )
    logger.info("device registered id=%s platform=%s", device.pk, platform)
    return device, token


@transaction.atomic
def device_revoke(*, device: Device) -> Device:
    """Its token stops authenticating at once; the record stays for telemetry history."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.revoked_at is not None:
        return device
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at", "updated_at"])
    logger.info("device revoked id=%s", device.pk)
    return device
