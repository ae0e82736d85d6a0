"""Write the catalog document (the same JSON as GET /v1/store/catalog) to a file or stdout."""

import io
import json
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from store.catalog.services.document import catalog_export


class Command(BaseCommand):
    help = (
        "Export the public catalog document as JSON (optionally gzip-compressed) to --output or stdout, rendered "
        "now from the database (for SITE_URL, else http://127.0.0.1:8000) and streamed. The served document is "
        "rebuilt by the worker; `manage.py rebuild_catalog` builds it now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")
        parser.add_argument("--gzip", action="store_true", dest="compress", help="gzip-compress the output")
        parser.add_argument(
            "--indent", type=int, default=None, help="pretty-print with this indent (reads it into memory)"
        )

    def handle(self, *args, output=None, compress=False, indent=None, **options):
        if indent is not None and not 0 <= indent <= 8:
            raise CommandError("--indent must be between 0 and 8.")
        if output and os.path.isdir(output):
            raise CommandError(f"--output {output} is a directory; give a file path.")
        if indent is not None and compress:
            raise CommandError("--indent and --gzip do not go together.")
        try:
            out = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}")
        try:
            if indent is not None:
                buffer = io.BytesIO()
                count = catalog_export(buffer, compress=False)
                out.write(
                    json.dumps(json.loads(buffer.getvalue()), indent=indent, ensure_ascii=False).encode()
                )
            else:
                count = catalog_export(out, compress=compress)
            out.flush()
        finally:
            if output:
                out.close()
        if output:
            self.stderr.write(f"wrote {count} apps to {output} ({os.path.getsize(output)} bytes)")
