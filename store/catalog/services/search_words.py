"""The search vocabulary's writes: a listed app's words added on refresh, the whole table recounted by
``manage.py rebuild_search_words`` (and by migration ``store.0009``). Reads are in ``selectors``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import transaction

from store.catalog.selectors import vocabulary_words
from store.models import AppListing, SearchWord

BATCH = 5_000


def search_words_add(*, name: str, tags: Iterable) -> None:
    """Add the words of a listed app's name and tags (a word already known keeps its count until the next
    rebuild: counts only order corrections between equally near words)."""
    words = vocabulary_words(name, *(str(tag) for tag in tags or ()))
    if words:
        SearchWord.objects.bulk_create([SearchWord(word=w) for w in words], ignore_conflicts=True)


@transaction.atomic
def search_words_rebuild(*, listings=AppListing, words=SearchWord) -> int:
    """Recount the vocabulary from every listed app; returns the number of words. ``listings``/``words`` are
    the models (a migration passes its historical ones)."""
    counts: Counter[str] = Counter()
    rows = listings.objects.filter(listed=True).values_list("name", "app__tags")
    for name, tags in rows.iterator(chunk_size=BATCH):
        counts.update(vocabulary_words(name, *(str(tag) for tag in tags or ())))
    words.objects.all().delete()
    items = sorted(counts.items())
    for start in range(0, len(items), BATCH):
        words.objects.bulk_create([words(word=w, apps=n) for w, n in items[start : start + BATCH]])
    return len(items)
