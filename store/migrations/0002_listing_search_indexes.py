"""PostgreSQL search indexes for the listing read model (no-ops on SQLite).

- ``pg_trgm`` for typo-tolerant similarity on name and package id;
- GIN on ``search_vector`` (weighted full text: name A, tags B, description C);
- trigram GIN on name and package_id (pg_trgm lower-cases trigrams itself).

Created with raw SQL instead of ``Meta.indexes`` because they exist only on PostgreSQL.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("listing_search_vector_gin", "USING gin (search_vector)"),
    ("listing_name_trgm", "USING gin (name gin_trgm_ops)"),
    ("listing_package_trgm", "USING gin (package_id gin_trgm_ops)"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON store_applisting {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("store", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
