"""The portal spends the same rate-limit budgets as the API (SPEC §3): a developer's uploads from the
browser and from the CLI share one ``upload`` counter, their other changes one ``write`` counter, so the
portal is not a way around the limits. Counters, keys and rates are the API's own
(``mosis.core.ratelimit.client_key``, ``settings.RATE_LIMITS``); like the API, an unreachable cache lets
the request through."""

from __future__ import annotations

import math

from django.conf import settings

from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.ratelimit import client_key, rate_limit_count


def rate_limit_spend(request, *, category: str) -> None:
    """Count one request of ``category`` for the signed-in developer; ``ApplicationError`` RATE_LIMITED
    (its message says when to try again) once the budget is spent."""
    if not settings.RATE_LIMITS_ENABLED:
        return
    usage = rate_limit_count(category=category, principal=client_key(request))  # None: fail open
    if usage and usage.should_limit:
        minutes = max(1, math.ceil(usage.time_left / 60))
        raise ApplicationError(
            ErrorCode.RATE_LIMITED,
            f"Too many {'uploads' if category == 'upload' else 'changes'} in a short time: "
            f"try again in {minutes} minute{'' if minutes == 1 else 's'}.",
            headers={"Retry-After": str(usage.time_left)},
        )
