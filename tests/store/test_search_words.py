"""The search vocabulary: filled by listing refreshes, recounted by rebuild_search_words, read by typo
correction (PostgreSQL)."""

import pytest
from django.core.management import call_command

from apps.constants import AppStatus
from store.catalog.selectors import corrected_search_text, vocabulary_words
from store.catalog.services.listing import listing_refresh
from store.models import SearchWord
from tests.conftest import requires_postgres

from .conftest import make_published_app

pytestmark = pytest.mark.django_db


def _words():
    return dict(SearchWord.objects.values_list("word", "apps"))


def test_vocabulary_words_are_lowercased_runs_of_3_to_40_letters_or_digits():
    assert vocabulary_words("Dark-Theme Pro", "x", "v2", "2026", "ünïcode_ok") == {
        "dark",
        "theme",
        "pro",
        "ünïcode",
    }


def test_a_listed_app_adds_its_name_and_tag_words():
    make_published_app(name="Pocket Calendar", tags=["planner", "to do"])
    assert {"pocket", "calendar", "planner"} <= set(_words())
    assert "to" not in _words()  # shorter than 3


def test_a_hidden_app_adds_nothing_and_the_rebuild_drops_words_no_listed_app_uses():
    make_published_app(name="Shared Notes")
    gone = make_published_app(name="Vanishing Notes")
    make_published_app(name="Secret Diary", status=AppStatus.SUSPENDED)
    assert "secret" not in _words()
    gone.status = AppStatus.SUSPENDED
    gone.save(update_fields=["status"])
    listing_refresh(app_id=gone.pk)
    call_command("rebuild_search_words")
    words = _words()
    assert words["notes"] == 1 and words["shared"] == 1
    assert "vanishing" not in words


@requires_postgres
def test_unknown_words_are_corrected_to_the_nearest_known_word_on_postgres():
    make_published_app(name="Calendar")
    make_published_app(name="Markdown Editor")
    assert corrected_search_text("calender") == "calendar"
    assert corrected_search_text("Markdwon editor") == "markdown editor"
    assert corrected_search_text("editor") is None  # every word known
    assert corrected_search_text("zzqxv") is None  # nothing near enough
