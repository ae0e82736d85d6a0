"""Rate limits per principal and category (SPEC §3), counted in fixed windows in the cache.

A view picks its category with ``ratelimit_category`` (``auth``, ``read``, ``write``, ``upload``,
``telemetry``): one for the view, or a dict keyed by viewset action, method or ``"*"``; by default safe
methods count as ``read`` and the others as ``write``. Going over answers 429 ``RATE_LIMITED`` with
``Retry-After``.

Cost: one request is counted once, in **one** Redis round trip (a registered Lua script: ``INCR``, and
``EXPIRE`` on a window's first request), whichever path answers it: ``mosis.core.fastpath`` counts an
anonymous read and hands the counted ``Usage`` to DRF's throttle if DRF answers after all; nothing else is
read for the response headers. Without Redis (embedded mode) the counters live in Django's cache
(``add`` + ``incr``).

Headers: ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` go on every counted
response except an anonymous ``GET``/``HEAD`` that succeeded. That answer is the public, shared-cacheable
one (``Cache-Control: public`` on the store's reads): per-IP counters on it would be stored by a CDN or
proxy and shown to every other client, and ``Vary`` cannot name a client address. Personal answers (the
principal is a user or a device), anonymous writes such as sign-in, and every 429 carry them; an anonymous
reader learns its budget from the 429 (``Retry-After`` and the headers). docs/api.md says so.

When the cache is unreachable the limits fail open (requests pass, a warning is logged): an outage of Redis
must not become an outage of the API.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from . import redis as redis_adapter
from .clientip import client_ip

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PUBLIC_METHODS = {"GET", "HEAD"}  # methods whose anonymous answers a shared cache may store
logger = logging.getLogger("mosis.ratelimit")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
EXPIRY_SLACK = 5  # seconds a window's counter outlives the window (clock skew between web processes)

# KEYS = [window counter]; ARGV = [TTL]. Counts one request; returns the window's count.
_COUNT = redis_adapter.Script(
    """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
end
return count
"""
)


def parse_rate(rate: str) -> tuple[int, int]:
    """``"1000/h"`` → ``(1000, 3600)``; ``"10/5m"`` → ``(10, 300)``. ValueError for anything else."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"not a rate: {rate!r} (expected e.g. 100/h, 10/m, 5/30s)")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _UNITS[unit]


@dataclass(frozen=True)
class Usage:
    """A principal's counter in the current window of one category."""

    principal: str
    limit: int
    count: int
    reset: int  # epoch seconds when the window ends

    @property
    def should_limit(self) -> bool:
        return self.count > self.limit

    @property
    def time_left(self) -> int:
        return max(1, self.reset - int(time.time()))

    @property
    def is_personal(self) -> bool:
        """The principal is a user or a device: the answer is not a public one."""
        return not self.principal.startswith("ip:")

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.count)),
            "X-RateLimit-Reset": str(self.reset),
        }


def rate_limit_count(*, category: str, principal: str, rate: str | None = None) -> Usage | None:
    """Count one request of ``principal`` in ``category`` against ``rate`` (default: the category's
    ``RATE_LIMITS`` entry). One Redis round trip; None when the counters are unreachable (fail open, logged)."""
    limit, period = parse_rate(rate or settings.RATE_LIMITS[category])
    now = int(time.time())
    reset = now - now % period + period
    name = f"rl:{category}:{principal}:{reset}"
    try:
        if redis_adapter.enabled():
            count = int(_COUNT(keys=[redis_adapter.key(name)], args=[period + EXPIRY_SLACK]))
        else:
            cache.add(name, 0, timeout=period + EXPIRY_SLACK)
            count = cache.incr(name)
    except Exception:  # noqa: BLE001 - a cache outage must not take the API down with it
        logger.warning("rate-limit counters unavailable; letting the request through", exc_info=True)
        return None
    return Usage(principal=principal, limit=limit, count=count, reset=reset)


def client_key(request) -> str:
    """The principal a counter belongs to: the user behind a JWT or an API key (all of a developer's keys
    share one budget: minting more keys buys no more requests), the device, else the client IP."""
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    auth = getattr(request, "auth", None)
    if getattr(auth, "credential_kind", None) == "device" and getattr(auth, "pk", None):
        return f"device:{auth.pk}"
    return f"ip:{client_ip(request)}"


def category_for(request, view) -> str:
    explicit = getattr(view, "ratelimit_category", None)
    if isinstance(explicit, dict):  # keyed like HasScope's required_scopes: a viewset action, a method, "*"
        action = getattr(view, "action", None)
        explicit = (action and explicit.get(action)) or explicit.get(request.method) or explicit.get("*")
    if explicit:
        return explicit
    return "read" if request.method in SAFE_METHODS else "write"


class RateLimitRecord:
    """What was counted for one request (``usage``, None until counted or when the cache was down)."""

    __slots__ = ("usage",)

    def __init__(self):
        self.usage: Usage | None = None


def rate_limit_record(request) -> RateLimitRecord:
    """The request's record, made on first use. ``ApiErrorMiddleware`` makes it on the Django request
    before any view runs; DRF's ``Request`` reads unknown attributes through to that request, so the fast
    path, the throttle and the middleware all share one record without touching DRF's internals."""
    record = getattr(request, "ratelimit_record", None)
    if record is None:
        record = request.ratelimit_record = RateLimitRecord()
    return record


def response_headers(request, status_code: int) -> dict[str, str]:
    """The ``X-RateLimit-*`` headers for this response: none on an anonymous read's answer (see above)."""
    usage = rate_limit_record(request).usage
    if usage is None:
        return {}
    if request.method in PUBLIC_METHODS and not usage.is_personal and status_code != 429:
        return {}
    return usage.headers()


class CategoryRateThrottle(BaseThrottle):
    """DRF throttle on ``rate_limit_count``; a request the fast path already counted is not counted again."""

    def allow_request(self, request, view) -> bool:
        if not settings.RATE_LIMITS_ENABLED:
            return True
        record = rate_limit_record(request)
        if record.usage is None:
            record.usage = rate_limit_count(
                category=category_for(request, view), principal=client_key(request)
            )
        usage = record.usage
        if usage is None:
            return True
        self._wait = usage.time_left
        return not usage.should_limit

    def wait(self):
        return max(1, getattr(self, "_wait", 1))
