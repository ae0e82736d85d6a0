"""Build the served catalog document now (what the worker's debounced task does after a change)."""

from django.core.management.base import BaseCommand

from store.catalog.services.document import catalog_rebuild


class Command(BaseCommand):
    help = (
        "Render the catalog document of every base URL that has one (or of --base, e.g. https://store.example) "
        "into package storage and make it the served one, now, in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base",
            help="the scheme://host the document's URLs name (default: every known one, else SITE_URL)",
        )

    def handle(self, *args, base=None, **options):
        etags = catalog_rebuild(base.rstrip("/") if base else None)
        for etag in etags:
            self.stdout.write(f"catalog built: {etag}")
