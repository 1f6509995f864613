"""WSGI entry point: ``gunicorn interpersonal.web.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interpersonal.web.settings")

application = get_wsgi_application()
