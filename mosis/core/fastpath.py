"""Answering the hottest anonymous GETs without DRF's request cycle, while the view stays a DRF ``APIView``.

DRF's dispatch (``Request`` wrapping, authentication, permission and throttle classes, content negotiation,
``Response`` rendering) costs about as much as a whole cached answer on the store's hot reads (measured in
``docs/performance.md``). ``fast_view(ViewClass, answer)`` returns the URL callback: a plain Django view
that first offers the request to ``answer(request, **kwargs)``; when that returns an ``HttpResponse`` it
is sent, when it returns ``None`` the request goes through ``ViewClass.as_view()`` unchanged. So:

- the OpenAPI schema is generated from ``ViewClass`` (the callback carries ``cls`` and ``initkwargs`` the
  way ``APIView.as_view()`` does), and the fast answer must be byte-for-byte what the DRF path sends;
- anything unusual — another method, credentials, query parameters the fast answer does not parse, a cache
  miss it does not want to build, any error — returns ``None`` and DRF answers it, with its validation and
  the SPEC §3 error body;
- rate limits still apply: the fast path counts the request in the same counter as
  ``CategoryRateThrottle`` (anonymous client = IP; one Redis round trip) and records it on the request; a
  client over its limit falls through to DRF, whose throttle reuses that count (no second round trip) and
  answers the 429.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .clientip import client_ip
from .ratelimit import category_for, rate_limit_count, rate_limit_record

# A session or credentials make the request someone's: DRF authenticates it (and counts it per user).
_PERSONAL_HEADERS = ("HTTP_AUTHORIZATION", "HTTP_X_API_KEY")


def is_anonymous(request: HttpRequest) -> bool:
    """No credentials and no session cookie: the fast path may answer it as an anonymous client."""
    if any(request.META.get(name) for name in _PERSONAL_HEADERS):
        return False
    return settings.SESSION_COOKIE_NAME not in request.COOKIES


def within_rate_limit(request: HttpRequest, view_class) -> bool:
    """Count this anonymous request like ``CategoryRateThrottle`` would; False when over the limit."""
    if not settings.RATE_LIMITS_ENABLED:
        return True
    record = rate_limit_record(request)
    record.usage = rate_limit_count(
        category=category_for(request, view_class), principal=f"ip:{client_ip(request)}"
    )
    return record.usage is None or not record.usage.should_limit


def allow_header(view_class) -> str:
    """The ``Allow`` header DRF's ``finalize_response`` puts on every answer of ``view_class``."""
    instance = view_class()
    if hasattr(instance, "get") and not hasattr(instance, "head"):
        instance.head = instance.get  # as View.setup() does
    return ", ".join(instance.allowed_methods)


def fast_view(view_class, answer: Callable[..., HttpResponse | None]):
    """The URL callback for ``view_class``: ``answer`` first for anonymous GETs, DRF for everything else."""
    drf_view = view_class.as_view()
    allow = allow_header(view_class)

    def view(request: HttpRequest, *args, **kwargs):
        if request.method == "GET" and is_anonymous(request):
            if not within_rate_limit(request, view_class):
                return drf_view(request, *args, **kwargs)  # DRF's throttle answers the 429
            response = answer(request, *args, **kwargs)
            if response is not None:
                if not response.has_header("Allow"):
                    response["Allow"] = allow  # what DRF's finalize_response adds to every answer
                return response
        return drf_view(request, *args, **kwargs)

    view.cls = view_class
    view.initkwargs = drf_view.initkwargs
    view.csrf_exempt = True
    view.__name__ = drf_view.__name__
    view.__doc__ = view_class.__doc__
    view.__module__ = view_class.__module__
    return view
