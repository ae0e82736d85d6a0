"""Drop the trigram indexes on the listing's name and package id (PostgreSQL only): search no longer
matches listings by trigram similarity (typos are corrected from ``store_searchword``, migration 0009), so
they only cost every listing write and 31 MB per 100 000 apps (14 MB name, 17 MB package id). Reversing
recreates them."""

from django.db import migrations

INDEXES = [
    ("listing_name_trgm", "USING gin (name gin_trgm_ops)"),
    ("listing_package_trgm", "USING gin (package_id gin_trgm_ops)"),
]


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON store_applisting {definition}")


class Migration(migrations.Migration):
    dependencies = [("store", "0010_search_words")]

    operations = [migrations.RunPython(drop_indexes, create_indexes, elidable=False)]
