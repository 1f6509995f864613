"""The project's settings for the server under test, with its static files collected into a
temporary directory (``RELIABILITY_STATIC_ROOT``) instead of the checkout's ``staticfiles/``.

Everything else — the manifest storage, no debug, the database from ``DATABASE_URL`` — is
production's, so the pages render as they would when deployed.
"""

import os
from pathlib import Path

from interpersonal.web.settings import *  # noqa: F403 - the project's settings, one overridden

STATIC_ROOT = Path(os.environ["RELIABILITY_STATIC_ROOT"])
