"""What every page's template needs: the store's name and the sign-in providers configured here."""

from django.conf import settings

from accounts.oauth import PROVIDERS, provider_is_enabled

PROVIDER_LABELS = {"github": "GitHub", "google": "Google"}


def site(request) -> dict:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "oauth_providers": [
            {"id": provider, "name": PROVIDER_LABELS.get(provider, provider.title())}
            for provider in PROVIDERS
            if provider_is_enabled(provider)
        ],
    }
