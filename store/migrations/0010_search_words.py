"""The search vocabulary (``SearchWord``): the words of listed apps' names and tags, trigram-indexed on
PostgreSQL (GiST: ``word <-> 'typo'`` reads the nearest words from the index), filled from the listing rows.

And the index ``sort=recent`` reads on PostgreSQL: its order is ``last_published_at DESC NULLS LAST,
package_id``, which ``listing_recent`` (``DESC``, nulls first) cannot give, so every recent page sorted all
listed rows (found by tests/store/test_search_plans.py).

Both are raw SQL like ``0002``'s: they exist only on PostgreSQL (SQLite has no ``NULLS LAST`` in an index).
"""

from django.db import migrations, models


INDEXES = [
    ("search_word_trgm", "store_searchword USING gist (word gist_trgm_ops)"),
    ("listing_recent_order", "store_applisting (last_published_at DESC NULLS LAST, package_id) WHERE listed"),
]


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def fill(apps, schema_editor):
    from store.catalog.services.search_words import search_words_rebuild

    search_words_rebuild(
        listings=apps.get_model("store", "AppListing"), words=apps.get_model("store", "SearchWord")
    )


class Migration(migrations.Migration):
    dependencies = [("store", "0009_catalog_files")]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                ("word", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("apps", models.IntegerField(default=1)),
            ],
        ),
        migrations.RunPython(create_index, drop_index, elidable=False),
        migrations.RunPython(fill, migrations.RunPython.noop, elidable=False),
    ]
