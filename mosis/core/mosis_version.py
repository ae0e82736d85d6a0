"""Mosis OS version numbers, shared by every app (a device's OS version, a package's ``min_mosis_version``)."""


def mosis_version_number(value: str | None) -> int | None:
    """ "1.2" / "1.2.3" -> a sortable integer (major*1e6 + minor*1e3 + patch) for SQL range filters."""
    if not value:
        return None
    parts = value.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and len(p) <= 3 for p in parts):
        raise ValueError(f"not a Mosis version: {value!r}")
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return nums[0] * 1_000_000 + nums[1] * 1_000 + nums[2]
