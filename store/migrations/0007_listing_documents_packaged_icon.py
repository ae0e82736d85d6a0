"""Drop the stored listing documents that 0006 rendered before icon_url fell back to the packaged icon.

Only apps without a developer icon_url whose latest version has a packaged icon show a different icon_url
now; their documents are set to NULL and each is rendered again by its first read (or ahead of reads by
``manage.py render_listings``). One UPDATE; nothing to undo.
"""

from django.db import migrations


def drop_stale_documents(apps, schema_editor):
    AppListing = apps.get_model("store", "AppListing")
    AppListing.objects.filter(listing_document__isnull=False, app__icon_url="").exclude(
        latest_version__icon_key=""
    ).exclude(latest_version__isnull=True).update(listing_document=None)


class Migration(migrations.Migration):
    dependencies = [("store", "0006_listing_document"), ("versions", "0001_initial")]

    operations = [migrations.RunPython(drop_stale_documents, migrations.RunPython.noop)]
