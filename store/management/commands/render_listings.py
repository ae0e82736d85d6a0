"""Render the stored listing documents (and their Markdown HTML) of reachable apps in batches."""

from django.core.management.base import BaseCommand

from store.catalog.services.document import catalog_mark_stale
from store.catalog.services.listing import listing_documents_fill


class Command(BaseCommand):
    help = (
        "Render AppListing.listing_document for reachable apps that have none (after migration 0006, or after "
        "rows were loaded in bulk); --all renders every one again (after a change to the listing's format). "
        "Reads render a missing document themselves, so this only saves the first reads that work. "
        "With --all the catalog document, which carries the same fields, is rebuilt too (debounced)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="render every reachable app's document again")
        parser.add_argument("--batch-size", type=int, default=500, help="rows per SELECT and bulk UPDATE")

    def handle(self, *args, all=False, batch_size=500, **options):
        written = listing_documents_fill(only_missing=not all, batch_size=max(1, batch_size))
        self.stdout.write(f"rendered {written} listing document(s)")
        if all and catalog_mark_stale():
            self.stdout.write("catalog rebuild scheduled")
