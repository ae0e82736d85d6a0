"""``manage.py import_package``: publish a package file from disk as a given developer, through the same
services as the API (create → store → upload-complete → validate → submit → approve → publish)."""

from __future__ import annotations

import os
import uuid

from django.core.management.base import BaseCommand, CommandError

from accounts.models import SigningKey, User
from mosis.core.errors import ApplicationError
from versions.services import package_import

from .review import acting_staff


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class Command(BaseCommand):
    help = (
        "Import a .mpk package from disk as developer --email: creates the app if needed and the version, "
        "validates it; with --publish it is also submitted, approved (as --reviewer-email or the first "
        "superuser, who must not own the app) and published."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The package file (.mpk).")
        parser.add_argument("--email", required=True, help="The developer who owns the app.")
        parser.add_argument("--package-id", help="Expected package id (default: the manifest's).")
        parser.add_argument("--publish", action="store_true", help="Submit, approve and publish it.")
        parser.add_argument("--signature", default="", help="Base64 signature of the file.")
        parser.add_argument("--signature-file", help="A file holding the base64 signature.")
        parser.add_argument("--key", help="The signing key's id or fingerprint (one of the developer's).")
        parser.add_argument(
            "--reviewer-email", help="Staff user who approves (default: the first superuser)."
        )
        parser.add_argument("--release-notes", default="", help="Release notes of the version.")

    def handle(self, *args, **options):
        path = options["path"]
        if not os.path.isfile(path):
            raise CommandError(f"{path}: no such file.")
        owner = User.objects.filter(email__iexact=options["email"]).first()
        if owner is None:
            raise CommandError(f"No user with email {options['email']}.")
        signature = options["signature"]
        if options.get("signature_file"):
            try:
                with open(options["signature_file"]) as fh:
                    signature = fh.read().strip()
            except OSError as exc:
                raise CommandError(f"Cannot read the signature file: {exc}.")
        signing_key_id = None
        if options.get("key"):
            key = options["key"]
            keys = SigningKey.objects.filter(user=owner)
            match = keys.filter(fingerprint=key.lower()).first()
            if match is None and _is_uuid(key):
                match = keys.filter(pk=key).first()
            if match is None:
                raise CommandError(f"{key} is not one of {owner.email}'s signing keys.")
            signing_key_id = match.pk
        reviewer = acting_staff(options.get("reviewer_email")) if options["publish"] else None
        try:
            result = package_import(
                path=path,
                owner=owner,
                reviewer=reviewer,
                package_id=options.get("package_id"),
                signature=signature,
                signing_key_id=signing_key_id,
                publish=options["publish"],
                release_notes=options["release_notes"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message)
        version = result.version
        verb = "imported" if result.created_version else "already present"
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.app.package_id} {version.version_name} ({version.version_code}) {verb}: "
                f"{version.status} (version id {version.id})."
            )
        )
