"""What a device may report: the bounds of its installed set and of one app's configuration (pure checks the
serializers and the services share)."""

from __future__ import annotations

import re

from mosis_package.manifest import CONFIG_KEY_PATTERN, CONFIG_VALUE_MAX_LENGTH, DEPENDENCY_CONFIG_MAX_KEYS

MAX_INSTALLED_ITEMS = 1000
# What a device may report of one app's configuration (seed 002 ``incompatible-config``): the bounds a
# manifest's dependency ``config`` has, so any rule can be met and nothing unbounded is stored.
MAX_CONFIG_KEYS = DEPENDENCY_CONFIG_MAX_KEYS
MAX_CONFIG_VALUE_LENGTH = CONFIG_VALUE_MAX_LENGTH
_CONFIG_KEY = re.compile(CONFIG_KEY_PATTERN)


def config_problems(config) -> list[str]:
    """Why ``config`` is not a configuration a device may report (empty when it is): an object of at most
    ``MAX_CONFIG_KEYS`` keys matching ``CONFIG_KEY_PATTERN``, each a string (at most
    ``MAX_CONFIG_VALUE_LENGTH`` characters), a boolean or an integer."""
    if not isinstance(config, dict):
        return ["Must be an object of settings."]
    if len(config) > MAX_CONFIG_KEYS:
        return [f"At most {MAX_CONFIG_KEYS} settings."]
    problems = []
    for key, value in config.items():
        if not isinstance(key, str) or not _CONFIG_KEY.fullmatch(key):
            problems.append(f"{str(key)[:70]!r} is not a setting name (lowercase, at most 64 characters).")
        elif isinstance(value, str):
            if len(value) > MAX_CONFIG_VALUE_LENGTH:
                problems.append(f"{key}: at most {MAX_CONFIG_VALUE_LENGTH} characters.")
            elif "\x00" in value:  # PostgreSQL cannot store NUL in JSON text
                problems.append(f"{key}: must not contain NUL characters.")
        elif not isinstance(value, bool | int) or not -(2**63) <= value < 2**63:
            problems.append(f"{key}: must be a string, a boolean or a 64-bit integer.")
    return problems
