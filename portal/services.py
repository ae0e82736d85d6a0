"""Portal writes that belong to no domain app: keeping django.contrib.sites' Site in step with settings.

Every business write of a portal page (apps, versions, keys) goes through the owning app's services, the
same ones the API calls; nothing here decides anything about apps or versions.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from mosis.core.siteurl import default_site_url

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]", "testserver"})


def site_domain() -> str:
    """The host (and port) emails name: ``SITE_URL``'s, else the first public ``ALLOWED_HOSTS`` entry, else
    the embedded server's ``127.0.0.1:8000``."""
    if settings.SITE_URL:
        return urlsplit(settings.SITE_URL).netloc
    for host in settings.ALLOWED_HOSTS:
        if host and host != "*" and not host.startswith(".") and host not in LOCAL_HOSTS:
            return host
    return urlsplit(default_site_url()).netloc


def site_sync(*, using: str = "default"):
    """Write ``SITE_NAME`` and ``site_domain()`` to the ``SITE_ID`` Site row (created if missing), so
    allauth's emails and pages name the store, not "example.com". Idempotent; returns the Site."""
    from django.contrib.sites.models import Site

    wanted = {"name": settings.SITE_NAME[:50], "domain": site_domain()[:100]}
    site = Site.objects.using(using).filter(pk=settings.SITE_ID).first()
    if site is None:
        site = Site.objects.using(using).create(pk=settings.SITE_ID, **wanted)
    elif any(getattr(site, name) != value for name, value in wanted.items()):
        for name, value in wanted.items():
            setattr(site, name, value)
        site.save(using=using, update_fields=list(wanted))
    Site.objects.clear_cache()
    return site


def site_sync_after_migrate(sender, using="default", **kwargs) -> None:
    """``post_migrate`` receiver for the sites app (whose own receiver, connected earlier, creates the
    default "example.com" row first): rename that row after the store."""
    if sender.label != "sites":
        return
    site_sync(using=using)
