"""Rate limits per client and category (SPEC §3), counted in the cache by django-ratelimit.

Every API response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset``;
going over answers 429 ``RATE_LIMITED`` with ``Retry-After``. A view picks its category with
``ratelimit_category`` (``auth``, ``read``, ``write``, ``upload``, ``telemetry``); by default safe methods
count as ``read`` and the others as ``write``.

When the cache is unreachable the limits fail open (requests pass, a warning is logged): an outage of Redis
must not become an outage of the API.
"""

import logging
import time

from django.conf import settings
from django_ratelimit.core import _split_rate, get_usage
from rest_framework.throttling import BaseThrottle

from .clientip import client_ip

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
logger = logging.getLogger("mosis.ratelimit")


def client_key(group, request) -> str:
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
    if isinstance(explicit, dict):
        explicit = explicit.get(request.method) or explicit.get("*")
    if explicit:
        return explicit
    return "read" if request.method in SAFE_METHODS else "write"


class CategoryRateThrottle(BaseThrottle):
    """DRF throttle backed by django-ratelimit's cache counters; records usage for the response headers."""

    def allow_request(self, request, view) -> bool:
        if not settings.RATE_LIMITS_ENABLED:
            return True
        category = category_for(request, view)
        rate = settings.RATE_LIMITS[category]
        try:
            usage = get_usage(
                request._request,
                group=f"rl:{category}",
                key=lambda group, _request: client_key(group, request),
                rate=rate,
                # mosis.core.fastpath already counted a request it then handed to DRF
                increment=not getattr(request._request, "fastpath_counted", False),
            )
        except Exception:  # noqa: BLE001 - a cache outage must not take the API down with it
            logger.warning("rate-limit counters unavailable; letting the request through", exc_info=True)
            return True
        if usage is None:
            return True
        request._request.ratelimit_headers = _headers(rate, usage)
        self._wait = usage["time_left"]
        return not usage["should_limit"]

    def wait(self):
        return max(1, getattr(self, "_wait", 1))


def _headers(rate: str, usage: dict) -> dict:
    limit, _period = _split_rate(rate)
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, limit - usage["count"])),
        "X-RateLimit-Reset": str(int(time.time()) + max(0, int(usage["time_left"]))),
    }


def peek_headers(request) -> dict:
    """Headers for a ``/v1`` response that no throttle counted (unknown path, refused credentials, health).

    Shows the IP's counters of the method's default category without spending a request; reads one cache
    key and never touches the database or the session.
    """
    category = "read" if request.method in SAFE_METHODS else "write"
    rate = settings.RATE_LIMITS[category]
    try:
        usage = get_usage(
            request,
            group=f"rl:{category}",
            key=lambda group, _request: f"ip:{client_ip(request)}",
            rate=rate,
            increment=False,
        )
    except Exception:  # noqa: BLE001 - headers are informative; never fail a response over them
        return {}
    return _headers(rate, usage) if usage else {}
