"""Stored listing documents now carry their figures (downloads, ratings) as ListingSerializer renders them;
documents of the earlier format had the figures spliced in at read time. Drop them: a read renders a
missing document, and ``manage.py render_listings`` renders them all ahead (docs/operations.md)."""

from django.db import migrations


def drop_documents(apps, schema_editor):
    apps.get_model("store", "AppListing").objects.exclude(listing_document=None).update(listing_document=None)


class Migration(migrations.Migration):
    dependencies = [("store", "0011_drop_listing_trigram_indexes")]

    operations = [migrations.RunPython(drop_documents, migrations.RunPython.noop, elidable=True)]
