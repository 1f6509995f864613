"""Production settings: the environment-driven settings with every transport protection forced on.

    DJANGO_SETTINGS_MODULE=interpersonal.web.settings_production

All secrets still come from the environment (SECRET_KEY is required: there is no debug fallback
here). ``manage.py check --deploy`` is clean with these settings; a test keeps it so.
"""

from __future__ import annotations

from interpersonal.web.settings import *  # noqa: F403 - a settings overlay
from interpersonal.web.settings import INTERPERSONAL_HSTS_MIN, env

if env.boolean("INTERPERSONAL_DEBUG", default=False):
    raise env.ConfigurationError(
        "INTERPERSONAL_DEBUG", "must not be set with the production settings",
        "unset it, or use interpersonal.web.settings for local development",
    )
if not env.boolean("INTERPERSONAL_REQUIRE_MFA", default=True):
    raise env.ConfigurationError(
        "INTERPERSONAL_REQUIRE_MFA", "must not be off with the production settings",
        "staff sign in with a second factor in production; only the demo (make run) relaxes it",
    )

# The base settings fall back to throwaway secrets and relax MFA when pytest is imported
# (TESTING). Production reads them again, strictly, whatever is imported in the process.
SECRET_KEY = env.string(
    "SECRET_KEY", hint='generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"',
)
INTERPERSONAL_REQUIRE_MFA = True
INTERPERSONAL_PSEUDONYM_KEY = env.string(
    "INTERPERSONAL_PSEUDONYM_KEY", "", hint="a long random secret, e.g. `openssl rand -hex 32`",
)

DEBUG = False
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = max(env.integer("INTERPERSONAL_HSTS_SECONDS", INTERPERSONAL_HSTS_MIN), INTERPERSONAL_HSTS_MIN)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
# Preload asks browsers to ship the domain as https-only: submit it at hstspreload.org only once
# every subdomain serves https. The header alone is harmless.
SECURE_HSTS_PRELOAD = True
