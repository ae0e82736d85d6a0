"""``manage.py sweep_uploads``: what the beat task does every 5 minutes, on demand."""

from django.core.management.base import BaseCommand

from versions.services import versions_sweep


class Command(BaseCommand):
    help = (
        "Return versions stuck in 'validating' past VALIDATION_STUCK_MINUTES to the validation queue "
        "(rejecting them INTERNAL after several attempts) and delete 'uploading' versions older than "
        "UPLOAD_ABANDONED_HOURS together with their stored objects."
    )

    def handle(self, *args, **options):
        report = versions_sweep()
        self.stdout.write(
            f"{len(report.requeued)} stuck validation(s) re-enqueued, "
            f"{len(report.failed)} rejected after too many attempts, "
            f"{len(report.abandoned)} abandoned upload(s) deleted."
        )
