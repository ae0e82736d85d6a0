"""Seed 004 and seed 002 on the store side: the listing's ``source`` (copied from App.source, filtered by
``?source=`` through its index), the configuration a device reports of each installed app, and the stored
listing documents dropped so each is rendered again with ``source``, ``repository``, ``published_at``,
``checksum`` and ``size`` (by its first read, or ahead of reads by ``manage.py render_listings``)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_sources_and_drop_documents(apps, schema_editor):
    App = apps.get_model("apps", "App")
    AppListing = apps.get_model("store", "AppListing")
    AppListing.objects.update(
        source=Subquery(App.objects.filter(pk=OuterRef("app_id")).values("source")[:1]),
        listing_document=None,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("apps", "0006_webhook_send_due_schedule"),
        ("store", "0007_listing_documents_packaged_icon"),
        ("versions", "0008_dependency_rules"),
    ]

    operations = [
        migrations.AddField(
            model_name="applisting",
            name="source",
            field=models.CharField(default="mosis", max_length=30),
        ),
        migrations.AddField(
            model_name="deviceapp",
            name="config",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddIndex(
            model_name="applisting",
            index=models.Index(fields=["listed", "source"], name="listing_source"),
        ),
        migrations.RunPython(copy_sources_and_drop_documents, migrations.RunPython.noop),
    ]
