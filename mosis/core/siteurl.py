"""Absolute URLs (upload, download, icons, emails) for whatever host the store is served from.

``SITE_URL`` wins when it is set (production behind a proxy or a CDN name). Otherwise the URL is built from
the current request's scheme and ``Host`` (validated against ``ALLOWED_HOSTS`` by Django), so a store served
on another port or name works without configuration. Outside a request (a Celery worker, a management
command) the fallback is ``DEFAULT_SITE_URL``.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings

DEFAULT_SITE_URL = "http://127.0.0.1:8000"  # settings.DEFAULT_SITE_URL's default: the embedded server

_request_base: ContextVar[str | None] = ContextVar("request_base", default=None)


def default_site_url() -> str:
    """Where the store is served when nothing else says (``settings.DEFAULT_SITE_URL``: the embedded server's
    address; the test client's host in tests)."""
    return getattr(settings, "DEFAULT_SITE_URL", DEFAULT_SITE_URL)


def site_url() -> str:
    """The base URL without a trailing slash."""
    configured = settings.SITE_URL
    if configured:
        return configured.rstrip("/")
    return (_request_base.get() or default_site_url()).rstrip("/")


def stored_base() -> str:
    """The base URL documents stored for every host name (``SITE_URL``, else ``DEFAULT_SITE_URL``): what a
    stored listing document's absolute URLs say, whoever rendered it."""
    return (settings.SITE_URL or default_site_url()).rstrip("/")


def serves_stored_base() -> bool:
    """True when this request's absolute URLs are the stored documents' (always with ``SITE_URL``; without
    it, only for a request to ``DEFAULT_SITE_URL``'s host: ``make run`` served on another port builds its
    own answers)."""
    return site_url() == stored_base()


def absolute_url(path: str) -> str:
    """``path`` (starting with ``/``) under ``site_url()``."""
    return f"{site_url()}{path}"


def set_request_base(request):
    """Remember the request's ``scheme://host`` for this context; returns the token for ``reset``.

    An invalid ``Host`` (not in ``ALLOWED_HOSTS``) is not remembered: Django answers that request with 400
    itself when a view reads the host.
    """
    try:
        base = f"{request.scheme}://{request.get_host()}"
    except Exception:  # noqa: BLE001 - DisallowedHost and friends: fall back to the default
        base = None
    return _request_base.set(base)


def reset_request_base(token) -> None:
    _request_base.reset(token)


@contextmanager
def request_base(base: str):
    """Build absolute URLs under ``base`` (``scheme://host``) inside this block, as a request from that host
    would (without ``SITE_URL``): a worker building a document for one of the hosts the store is read from."""
    token = _request_base.set(base)
    try:
        yield
    finally:
        _request_base.reset(token)
