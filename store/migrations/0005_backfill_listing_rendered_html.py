"""Fill AppListing.long_description_html for rows that existed before 0004, so no listing renders per read."""

from django.db import migrations

BATCH = 500


def backfill(apps, schema_editor):
    from store.catalog.services.listing import render_long_description

    AppListing = apps.get_model("store", "AppListing")
    # NULL means "never rendered" (the serializer then renders per read); "" is a rendered empty text.
    pending = AppListing.objects.filter(long_description_html__isnull=True).values_list(
        "pk", "app__long_description"
    )
    batch = []
    for pk, text in pending.iterator(chunk_size=BATCH):
        batch.append(AppListing(pk=pk, long_description_html=render_long_description(text)))
        if len(batch) >= BATCH:
            AppListing.objects.bulk_update(batch, ["long_description_html"])
            batch = []
    if batch:
        AppListing.objects.bulk_update(batch, ["long_description_html"])


class Migration(migrations.Migration):
    dependencies = [("store", "0004_listing_rendered_html")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
