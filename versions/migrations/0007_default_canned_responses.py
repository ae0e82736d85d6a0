"""A starting set of canned responses; staff edit, reorder or deactivate them in the console."""

from django.db import migrations

DEFAULTS = [
    (
        "Approved: thank you",
        "approve",
        "Thank you for your submission. It meets the store's policies and is approved.",
    ),
    (
        "Sensitive permission not explained",
        "reject",
        "This version asks for a sensitive permission that the app's description does not explain. "
        "Say in the description what the permission is used for, or remove it, and submit a new version.",
    ),
    (
        "Does not work as described",
        "reject",
        "We could not use the app as its description says: it fails at start or its main feature does "
        "not work. Please fix it and submit a new version with a higher version_code.",
    ),
    (
        "Misleading listing",
        "reject",
        "The name, description or screenshots do not match what the app does, or suggest an affiliation "
        "it does not have. Please correct the listing and submit again.",
    ),
    (
        "Undisclosed network use",
        "reject",
        "The package sends data over the network that the description does not mention. Disclose what is "
        "sent and where, or remove it, and submit a new version.",
    ),
]


def create_defaults(apps, schema_editor):
    canned = apps.get_model("versions", "CannedResponse")
    for position, (title, decision, body) in enumerate(DEFAULTS):
        canned.objects.get_or_create(
            title=title, defaults={"decision": decision, "body": body, "position": position}
        )


def remove_defaults(apps, schema_editor):
    canned = apps.get_model("versions", "CannedResponse")
    canned.objects.filter(title__in=[title for title, _, _ in DEFAULTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("versions", "0006_review_console")]

    operations = [migrations.RunPython(create_defaults, remove_defaults)]
