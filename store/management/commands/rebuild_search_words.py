from django.core.management.base import BaseCommand

from store.catalog.services.search_words import search_words_rebuild


class Command(BaseCommand):
    help = (
        "Recount the search vocabulary (the words of listed apps' names and tags that typo correction reads) "
        "and drop the words no listed app uses any more. listing_refresh adds new words as apps change; run "
        "this after rows were loaded in bulk (bench/dataset.py) or now and then to prune (docs/operations.md)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"{search_words_rebuild()} search word(s)")
