"""Settings for the bench's server when ``collectstatic`` fails: the project's settings with
static files served from the apps' folders instead of the collected manifest. Only the URLs of
static files are resolved differently; the bench prints a notice when it uses this."""

from interpersonal.web.settings import *  # noqa: F403 - the project's settings, two overridden
from interpersonal.web.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
