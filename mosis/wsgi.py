import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mosis.settings.local")
application = get_wsgi_application()

# Embedded mode: the periodic tasks run in this web process (mosis.core.periodic); production runs beat.
from mosis.core.periodic import start_periodic_work  # noqa: E402 - needs the loaded application

start_periodic_work()
