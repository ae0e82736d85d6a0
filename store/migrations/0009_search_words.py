"""The search vocabulary (``SearchWord``): the words of listed apps' names and tags, trigram-indexed on
PostgreSQL (GiST: ``word <-> 'typo'`` reads the nearest words from the index), filled from the listing rows.

The GiST index is raw SQL like ``0002``'s: it exists only on PostgreSQL.
"""

from django.db import migrations, models


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS search_word_trgm ON store_searchword USING gist (word gist_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS search_word_trgm")


def fill(apps, schema_editor):
    from store.catalog.services.search_words import search_words_rebuild

    search_words_rebuild(
        listings=apps.get_model("store", "AppListing"), words=apps.get_model("store", "SearchWord")
    )


class Migration(migrations.Migration):
    dependencies = [("store", "0008_listing_source_and_device_config")]

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
