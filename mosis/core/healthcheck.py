"""Container health probe: ``python -m mosis.core.healthcheck`` exits 0 when ``/v1/health`` answers 200.

Used by the Dockerfile's ``HEALTHCHECK``. It calls the server inside the container on ``127.0.0.1:$PORT`` with a
``Host`` taken from ``ALLOWED_HOSTS`` (Django refuses other hosts with a 400), and does not set up Django, so a
probe stays cheap. ``degraded`` still answers 200: only a dead database (503) or a dead server
fails the probe.
"""

import os
import sys
import urllib.error
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    for host in (h.strip() for h in allowed_hosts.split(",")):
        if host and host != "*":
            return host.lstrip(".")
    return "localhost"


def main() -> int:
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/health",
        headers={"Host": probe_host(os.environ.get("ALLOWED_HOSTS", "")), "X-Request-ID": "healthcheck"},
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - fixed local http URL
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"health probe failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
