"""Sending one webhook request, through the SSRF guard of ``addresses``.

The host is resolved once and every answer checked; the connection is then made to one of those addresses
(urllib3 pool opened on the address itself) while TLS still verifies the certificate for the URL's host
name (SNI and hostname check use ``Target.host``), and the ``Host`` header names it too. Redirects are never
followed (a 3xx is a failed attempt), there is one deadline for the whole request (``WEBHOOK_TIMEOUT``;
connecting gets a third of it), and at most ``RESPONSE_EXCERPT_BYTES`` of the answer are read.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import certifi
import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError, SSLError

from .addresses import AddressRefused, Target, resolve, url_target

logger = logging.getLogger("mosis.webhooks")

RESPONSE_EXCERPT_BYTES = 1024
READ_CHUNK = 512


@dataclass(frozen=True)
class SendResult:
    """What one attempt gave. ``outcome``: success (2xx), http_error (any other status, 3xx included),
    network_error (no answer: connection refused, timeout, TLS), refused (the guard sent nothing)."""

    outcome: str
    status_code: int | None
    duration_ms: int
    response_excerpt: str
    error: str

    @property
    def ok(self) -> bool:
        return self.outcome == "success"


def ca_bundle() -> str:
    return settings.WEBHOOK_CA_BUNDLE or certifi.where()


def _pool(target: Target, address, timeout: urllib3.Timeout):
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(
            str(address),
            port=target.port,
            timeout=timeout,
            retries=False,
            maxsize=1,
            cert_reqs="CERT_REQUIRED",
            ca_certs=ca_bundle(),
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    return urllib3.HTTPConnectionPool(
        str(address), port=target.port, timeout=timeout, retries=False, maxsize=1
    )


def _read_excerpt(response, deadline: float) -> bytes:
    """At most ``RESPONSE_EXCERPT_BYTES`` of the body, and nothing once the deadline has passed (a receiver
    that trickles bytes cannot hold the worker)."""
    excerpt = b""
    while len(excerpt) < RESPONSE_EXCERPT_BYTES and time.monotonic() < deadline:
        chunk = response.read1(min(READ_CHUNK, RESPONSE_EXCERPT_BYTES - len(excerpt)))
        if not chunk:
            break
        excerpt += chunk
    return excerpt


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def send(*, url: str, body: bytes, headers: dict, timeout: float | None = None) -> SendResult:
    """POST ``body`` to ``url`` once, if the guard allows it. Never raises for anything the network or the
    receiver does: every failure is a ``SendResult`` with its reason."""
    started = time.monotonic()
    timeout = settings.WEBHOOK_TIMEOUT if timeout is None else timeout
    deadline = started + timeout
    try:
        target = url_target(url)
        addresses = resolve(target)
    except AddressRefused as refusal:
        return SendResult("refused", None, _elapsed_ms(started), "", str(refusal))
    request_headers = {**headers, "Host": target.host_header}
    last_error = "no address answered"
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            last_error = f"timed out after {timeout:g} s"
            break
        pool = _pool(target, address, urllib3.Timeout(connect=min(remaining, timeout / 3), read=remaining))
        try:
            response = pool.urlopen(
                "POST",
                target.path,
                body=body,
                headers=request_headers,
                retries=False,
                redirect=False,
                assert_same_host=False,
                preload_content=False,
            )
        except (NewConnectionError, ConnectTimeoutError) as error:
            pool.close()
            last_error = f"could not connect to {address}: {error}"
            continue  # the next checked address of the same answer, if any
        except SSLError as error:
            pool.close()
            return SendResult("network_error", None, _elapsed_ms(started), "", f"TLS failed: {error}"[:500])
        except HTTPError as error:
            pool.close()
            return SendResult("network_error", None, _elapsed_ms(started), "", f"no answer: {error}"[:500])
        except Exception as error:  # a socket-level refusal raised by something under urllib3
            pool.close()
            logger.warning("webhook request to %s failed unexpectedly", address, exc_info=True)
            return SendResult("network_error", None, _elapsed_ms(started), "", f"no answer: {error}"[:500])
        try:
            excerpt = _read_excerpt(response, deadline)
        except (HTTPError, OSError) as error:
            excerpt = f"(response unreadable: {error})".encode()
        finally:
            response.release_conn()
            pool.close()
        status = response.status
        text = excerpt.decode("utf-8", "replace")
        if 200 <= status < 300:
            return SendResult("success", status, _elapsed_ms(started), text, "")
        error = f"HTTP {status}"
        if 300 <= status < 400:
            error += " (redirects are not followed)"
        return SendResult("http_error", status, _elapsed_ms(started), text, error)
    return SendResult("network_error", None, _elapsed_ms(started), "", last_error[:500])
