"""The client's IP address, read through a configured number of trusted proxies (SPEC §3).

Behind ``TRUSTED_PROXY_COUNT`` proxies that each append the address they received the request from to
``X-Forwarded-For``, the client is the ``TRUSTED_PROXY_COUNT``-th address from the right (the rule of DRF's
``NUM_PROXIES`` and Werkzeug's ``ProxyFix``): entries further left were written by the client and prove
nothing. With 0 (the default) the header is ignored, because anyone can send it. A forwarded value that is
not an IP address falls back to the connection's address, so garbage cannot put every client in one bucket.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's IP address as text (``""`` when the connection has none, e.g. a Unix socket)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if trusted <= 0 or not forwarded:
        return remote
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(trusted, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
