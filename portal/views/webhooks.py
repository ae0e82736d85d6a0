"""Webhooks: list and add (the secret shown once), ping, delete, and each one's deliveries with their
attempts. Every rule (the SSRF guard on the URL, the events, the secret, the per-developer limit) is in
``apps.webhooks.services``, the one ``/v1/webhooks`` calls; the form runs ``WebhookCreateSerializer``."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from apps.models import WebhookDelivery
from apps.policies import webhook_for_owner
from apps.webhooks import selectors, services
from mosis.core.errors import ApplicationError

from ..forms import WebhookForm
from ..ratelimit import rate_limit_spend
from .common import action_done, paginate, render_showing_secret_once

WEBHOOKS_PER_PAGE = 20  # a developer has at most MAX_WEBHOOKS_PER_OWNER (20): one page
DELIVERIES_PER_PAGE = 25


def _webhook_or_404(request, webhook_id):
    try:
        return webhook_for_owner(user=request.user, webhook_id=webhook_id)
    except ApplicationError:
        raise Http404("Webhook not found.") from None


def _webhooks_page(request, form, *, created=None, secret=None, status=200):
    return render_showing_secret_once(
        request,
        "portal/webhooks.html",
        {
            "form": form,
            "webhooks": paginate(
                request, selectors.webhooks_for_owner(owner=request.user), WEBHOOKS_PER_PAGE
            ),
            "created": created,
            "max_webhooks": services.MAX_WEBHOOKS_PER_OWNER,
            "max_attempts": services.MAX_ATTEMPTS,
            "timeout": f"{settings.WEBHOOK_TIMEOUT:g}",
        },
        secret=secret,
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def webhooks(request):
    if request.method != "POST":
        return _webhooks_page(request, WebhookForm())
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            rate_limit_spend(request, category="write")
            webhook, secret = services.webhook_create(owner=request.user, **form.validated)
        except ApplicationError as error:
            form.add_application_error(error)
        else:
            # Shown in this answer and never again, like an API key: not in the session, not redirected to.
            return _webhooks_page(request, WebhookForm(), created=webhook, secret=secret, status=201)
    return _webhooks_page(request, form, status=400)


@login_required
@require_safe
def webhook_detail(request, webhook_id):
    webhook = _webhook_or_404(request, webhook_id)
    deliveries = paginate(request, selectors.webhook_deliveries(webhook=webhook), DELIVERIES_PER_PAGE)
    return render(
        request,
        "portal/webhook_detail.html",
        {"webhook": webhook, "deliveries": deliveries, "max_attempts": services.MAX_ATTEMPTS},
    )


def _ping_told(request, delivery: WebhookDelivery) -> None:
    """What the developer reads once the ping was handed over: its result when tasks run in-process (the
    embedded mode), else that it is queued for a worker."""
    if delivery.status == WebhookDelivery.Status.SUCCEEDED:
        messages.success(request, "The ping was delivered: your endpoint answered with a 2xx.")
    elif delivery.status == WebhookDelivery.Status.FAILED:
        messages.error(request, f"The ping failed: {(delivery.last_error or 'no answer').rstrip('.')}.")
    else:
        messages.info(request, "A ping is on its way; reload to see its delivery below.")


@login_required
@require_POST
def webhook_ping(request, webhook_id):
    webhook = _webhook_or_404(request, webhook_id)
    url = reverse("portal:webhook", args=[webhook.pk])
    try:
        rate_limit_spend(request, category="write")
        delivery = services.webhook_ping(webhook=webhook, actor=request.user)
    except ApplicationError as error:
        return action_done(request, url, error=error)
    _ping_told(request, delivery)
    return redirect(url)


@login_required
@require_POST
def webhook_delete(request, webhook_id):
    webhook = _webhook_or_404(request, webhook_id)
    try:
        rate_limit_spend(request, category="write")
        services.webhook_delete(webhook=webhook, actor=request.user)
    except ApplicationError as error:
        return action_done(request, reverse("portal:webhook", args=[webhook.pk]), error=error)
    return action_done(
        request,
        reverse("portal:webhooks"),
        ok=f"The webhook to {webhook.url} was deleted with its deliveries.",
    )
