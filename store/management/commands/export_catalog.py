"""Write the catalog document (the same JSON as GET /v1/store/catalog) to a file or stdout."""

import gzip
import json
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from store.catalog.services.document import catalog_document


class Command(BaseCommand):
    help = "Export the public catalog document as JSON (optionally gzip-compressed) to --output or stdout."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="file to write (default: stdout)")
        parser.add_argument("--gzip", action="store_true", dest="compress", help="gzip-compress the output")
        parser.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")

    def handle(self, *args, output=None, compress=False, indent=None, **options):
        if indent is not None and not 0 <= indent <= 8:
            raise CommandError("--indent must be between 0 and 8.")
        if output and os.path.isdir(output):
            raise CommandError(f"--output {output} is a directory; give a file path.")
        document = catalog_document()
        data = json.dumps(document, indent=indent, default=str).encode()
        if compress:
            data = gzip.compress(data, mtime=0)
        if output:
            try:
                with open(output, "wb") as fh:
                    fh.write(data)
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}")
            self.stderr.write(f"wrote {document['count']} apps to {output} ({len(data)} bytes)")
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
