"""Settings, read from the environment (see .env.example).

INTERPERSONAL_DEBUG       1 for local development only (default 0)
SECRET_KEY                required unless INTERPERSONAL_DEBUG=1
ALLOWED_HOSTS             comma-separated (default 127.0.0.1,localhost)
CSRF_TRUSTED_ORIGINS      comma-separated origins, e.g. https://therapy.example.nhs.uk
DATABASE_URL              default sqlite:///<project>/var/interpersonal.sqlite3 (WAL mode);
                          postgres://user:password@host:5432/name for PostgreSQL (psycopg 3)
INTERPERSONAL_SECURE_SSL_REDIRECT  1 to redirect http→https in Django (default 0: the proxy does it)
INTERPERSONAL_HSTS_SECONDS         default 31536000 when not in debug
INTERPERSONAL_REQUIRE_MFA          0 to let staff sign in without a TOTP code (demo only; default 1)
INTERPERSONAL_LOGIN_FAILURE_LIMIT  failed sign-ins before a 15-minute lockout (default 5)
INTERPERSONAL_SESSION_IDLE_MINUTES a session ends after this long without a request (default 15)
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

from interpersonal.web import env

PACKAGE_DIR = Path(__file__).resolve().parent
_SOURCE_ROOT = PACKAGE_DIR.parents[1]
# In a source checkout the project root holds pyproject.toml; an installed package uses the cwd.
PROJECT_ROOT = _SOURCE_ROOT if (_SOURCE_ROOT / "pyproject.toml").exists() else Path.cwd()
VAR_DIR = PROJECT_ROOT / "var"

# pytest-django imports these settings before any conftest can set the environment, so a
# test run supplies its own throwaway key. pytest is never imported by a serving process.
TESTING = "pytest" in sys.modules

DEBUG = env.boolean("INTERPERSONAL_DEBUG", default=False)

_DEV_SECRET_KEY = "insecure-development-key-used-only-when-INTERPERSONAL_DEBUG=1"  # noqa: S105 - debug/tests only
if DEBUG or TESTING:
    SECRET_KEY = env.string("SECRET_KEY", _DEV_SECRET_KEY, hint="")
else:
    SECRET_KEY = env.string(
        "SECRET_KEY",
        hint='generate one with: python -c "import secrets; print(secrets.token_urlsafe(50))"'
        " (or set INTERPERSONAL_DEBUG=1 for local development)",
    )

ALLOWED_HOSTS = env.string_list("ALLOWED_HOSTS", ("127.0.0.1", "localhost"))
CSRF_TRUSTED_ORIGINS = env.string_list("CSRF_TRUSTED_ORIGINS", ())

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "interpersonal.web.accounts",
    "interpersonal.web.audit",
    "interpersonal.web.patients",
    "interpersonal.web.referrals",
    "interpersonal.web.courses",
    "interpersonal.web.assessments",
    "interpersonal.web.questionnaires",
    "interpersonal.web.formulation",
    "interpersonal.web.letters",
    "interpersonal.web.documents",
    "interpersonal.web.outcomes",
    "interpersonal.web.service",
    "interpersonal.web.supervision",
    "interpersonal.web.privacy",
    "interpersonal.web.operations",
    "interpersonal.web.fidelity",
    # Background work (docs/adr/0006-background-work.md): the tasks framework and its database queue.
    "django_tasks",
    "django_tasks_db",
    # Security (issue 7): TOTP second factor, login lockout, Content Security Policy.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "csp",
]
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "interpersonal.web.nocache.NoStoreMiddleware",  # below WhiteNoise: static files keep their caching
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified()
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "interpersonal.web.accounts.middleware.RequireMFAMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes documents
]
# Axes checks for lockout before any other backend sees the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "interpersonal.web.urls"
WSGI_APPLICATION = "interpersonal.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        **env.database(env.string("DATABASE_URL", f"sqlite:///{VAR_DIR / 'interpersonal.sqlite3'}", hint="")),
        # Keep connections between requests (seconds); checked before reuse. 0 closes after each request.
        "CONN_MAX_AGE": env.integer("INTERPERSONAL_CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"  # each role lands on its own start page
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = PROJECT_ROOT / "staticfiles"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Generated documents (letters and subject access copies as PDF/JSON, made by the task worker):
# patient data, so owner-only files in an owner-only folder; deleted once they expire. A test run
# writes them to a temporary folder, never to var/.
INTERPERSONAL_DOCUMENTS_DIR = env.string(
    "INTERPERSONAL_DOCUMENTS_DIR",
    tempfile.mkdtemp(prefix="interpersonal-documents-") if TESTING else str(VAR_DIR / "documents"), hint="",
)
INTERPERSONAL_DOCUMENT_HOURS = env.integer("INTERPERSONAL_DOCUMENT_HOURS", 24)  # a ready file is kept this long
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "documents": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": INTERPERSONAL_DOCUMENTS_DIR,
                    "file_permissions_mode": 0o600, "directory_permissions_mode": 0o700},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
# Debug and test runs serve static files from the apps' folders, without collectstatic.
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# Security: strict by default; relaxed only for local development over http.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Sliding idle expiry: every request pushes the expiry on, so a session ends after this long idle.
INTERPERSONAL_SESSION_IDLE_MINUTES = env.integer("INTERPERSONAL_SESSION_IDLE_MINUTES", 15)
SESSION_COOKIE_AGE = INTERPERSONAL_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.boolean("INTERPERSONAL_SECURE_SSL_REDIRECT", default=False)
INTERPERSONAL_HSTS_MIN = 31_536_000  # one year: the least settings_production allows
SECURE_HSTS_SECONDS = 0 if DEBUG else env.integer("INTERPERSONAL_HSTS_SECONDS", INTERPERSONAL_HSTS_MIN)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = False

# Staff second factor (interpersonal.web.accounts.mfa): on unless relaxed for the demo; off in the
# test suite, whose MFA tests turn it back on.
INTERPERSONAL_REQUIRE_MFA = env.boolean("INTERPERSONAL_REQUIRE_MFA", default=True) and not TESTING
OTP_TOTP_ISSUER = "interpersonal"
OTP_TOTP_THROTTLE_FACTOR = 1  # each wrong code doubles the wait before the next try

# Login lockout (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from one
# address, that pair is refused — even with the right password — for AXES_COOLOFF_TIME. Locking the
# (username, address) pair, not the username alone, stops one attacker guessing while not letting
# anyone on the internet lock a clinician out of their own account by typing wrong passwords.
AXES_FAILURE_LIMIT = env.integer("INTERPERSONAL_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = dt.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
AXES_HTTP_RESPONSE_CODE = 403
AXES_CLIENT_IP_CALLABLE = "interpersonal.web.accounts.middleware.client_address"
AXES_VERBOSE = False

# Content Security Policy (django-csp): only this origin's own files; no inline script or style,
# no eval (the charts use vega-interpreter), no framing, no plugins.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Questionnaire-link tokens never reach a log (django.request logs the path of 4xx/5xx).
    # A refused request (403, 404) is one line: its traceback is the service working, not a fault.
    "filters": {"redact_tokens": {"()": "interpersonal.web.logging.RedactTokens"},
                "no_client_error_tracebacks": {"()": "interpersonal.web.logging.NoClientErrorTracebacks"}},
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "filters": ["redact_tokens", "no_client_error_tracebacks"]}},
    "root": {"handlers": ["console"], "level": "INFO"},
    # Replace Django's default handlers for its own loggers, which would bypass the filter.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}

# The service, as patients see it on their questionnaire links and the self-referral form.
#
# The crisis message is on every page a patient or the public sees (questionnaire links, the
# self-referral form /refer/): NHS Talking Therapies is not a crisis service. Its default names the
# NHS 111 mental health option — in England, call 111 and choose the mental health option (option 2
# when it was launched nationally in 2024): NHS England, "People in mental health crisis can now call
# NHS 111", and nhs.uk "Where to get urgent help for mental health"
# (https://www.nhs.uk/nhs-services/mental-health-services/where-to-get-urgent-help-for-mental-health/);
# 999 or A&E in an emergency; Samaritans 116 123 (free, 24 hours, https://www.samaritans.org/).
# Services outside England, or with their own crisis line, set their own text.
INTERPERSONAL_SERVICE_NAME = env.string("INTERPERSONAL_SERVICE_NAME", "Talking Therapies (demo service)", hint="")
INTERPERSONAL_CRISIS_MESSAGE = env.string(
    "INTERPERSONAL_CRISIS_MESSAGE",
    "If you feel you might act on thoughts of harming yourself, or you are in crisis, get help now: "
    "call NHS 111 and choose option 2 (mental health), call 999 or go to A&E in an emergency, or call "
    "Samaritans free on 116 123, any time.",
    hint="",
)
# Questionnaire links: how long a link lasts, and how many unknown-token requests one client
# address may make in the window before it is refused (guessing protection).
INTERPERSONAL_LINK_VALID_DAYS = env.integer("INTERPERSONAL_LINK_VALID_DAYS", 7)
INTERPERSONAL_LINK_MAX_ATTEMPTS = env.integer("INTERPERSONAL_LINK_MAX_ATTEMPTS", 20)
INTERPERSONAL_LINK_ATTEMPT_WINDOW_MINUTES = env.integer("INTERPERSONAL_LINK_ATTEMPT_WINDOW_MINUTES", 15)
# The public self-referral form (/refer/; referrals.views_public). At most MAX_POSTS posts from
# one client address in WINDOW_MINUTES (further posts get 429 and a page saying how else to reach
# the service); a form sent sooner than MIN_SECONDS after it was opened, or with the hidden
# honeypot field filled, is treated as a bot's: answered as if sent, and nothing is recorded. A
# form left open longer than MAX_HOURS is shown again to check and send (nothing is lost).
INTERPERSONAL_SELF_REFERRAL_MAX_POSTS = env.integer("INTERPERSONAL_SELF_REFERRAL_MAX_POSTS", 10)
INTERPERSONAL_SELF_REFERRAL_WINDOW_MINUTES = env.integer("INTERPERSONAL_SELF_REFERRAL_WINDOW_MINUTES", 60)
INTERPERSONAL_SELF_REFERRAL_MIN_SECONDS = env.integer("INTERPERSONAL_SELF_REFERRAL_MIN_SECONDS", 3)
INTERPERSONAL_SELF_REFERRAL_MAX_HOURS = env.integer("INTERPERSONAL_SELF_REFERRAL_MAX_HOURS", 12)
# Where a young person should go instead: shown on the self-referral form. The age a service
# accepts (18, or 17 years 9 months in some) is a screening rule, decided after referral; this text
# only points under-18s to the right place. Childline: NSPCC, 0800 1111 (https://www.childline.org.uk/).
INTERPERSONAL_UNDER_18_MESSAGE = env.string(
    "INTERPERSONAL_UNDER_18_MESSAGE",
    "This service is for adults. If you are under 18, please talk to your GP or school nurse, who can refer "
    "you to your local children and young people's mental health service (CYPMHS). You can also call "
    "Childline free on 0800 1111, any time.",
    hint="",
)
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use the socket's
# address). Used to tell patients apart for rate limiting; never trust more hops than you run.
INTERPERSONAL_TRUSTED_PROXIES = env.integer("INTERPERSONAL_TRUSTED_PROXIES", 0)

# --- Background work, e-mail and SMS (docs/adr/0006-background-work.md) ----------------------
# Tasks wait in the database until `interpersonal db_worker` runs them; a test run executes them
# at once (the immediate backend), so a test needs no worker.
INTERPERSONAL_TASKS_BACKEND = env.string(
    "INTERPERSONAL_TASKS_BACKEND",
    "django_tasks.backends.immediate.ImmediateBackend" if TESTING else "django_tasks_db.DatabaseBackend",
    hint="",
)
TASKS = {"default": {"BACKEND": INTERPERSONAL_TASKS_BACKEND}}

# E-mail to patients. The console backend (the default) prints messages — links included — to the
# worker's output: development only. In production set EMAIL_BACKEND to
# django.core.mail.backends.smtp.EmailBackend and the EMAIL_HOST… variables.
EMAIL_BACKEND = env.string("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend", hint="")
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "interpersonal@localhost", hint="")
EMAIL_HOST = env.string("EMAIL_HOST", "localhost", hint="")
EMAIL_PORT = env.integer("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "", hint="")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "", hint="")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.boolean("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 10)  # seconds: a send holds the session's row lock

# SMS to patients without an e-mail address: a dotted path to a class with
# send(*, to: str, body: str) -> None (interpersonal.web.questionnaires.notify.SmsGateway).
INTERPERSONAL_SMS_BACKEND = env.string(
    "INTERPERSONAL_SMS_BACKEND", "interpersonal.web.questionnaires.notify.ConsoleSms", hint=""
)
# Where patients reach this server: the start of every link in a message.
INTERPERSONAL_BASE_URL = env.string("INTERPERSONAL_BASE_URL", "http://127.0.0.1:8000", hint="").rstrip("/")
# The schedule sends each booked session's questionnaires this many hours before it.
INTERPERSONAL_REMINDER_HOURS_BEFORE = env.integer("INTERPERSONAL_REMINDER_HOURS_BEFORE", 48)

# --- Letters: the service letterhead on printed letters (interpersonal.web.letters) ----------
# The address is multi-line: separate lines with "\n" in the environment variable.
INTERPERSONAL_LETTERHEAD_NAME = env.string(
    "INTERPERSONAL_LETTERHEAD_NAME", "Talking Therapies (demo service)", hint="the service name printed on letters"
)
INTERPERSONAL_LETTERHEAD_ADDRESS = env.string(
    "INTERPERSONAL_LETTERHEAD_ADDRESS", "1 Example Street\\nExampletown\\nEX1 2MP", hint="lines separated by \\n"
).replace("\\n", "\n")
INTERPERSONAL_LETTERHEAD_PHONE = env.string("INTERPERSONAL_LETTERHEAD_PHONE", "0300 000 0000", hint="")
INTERPERSONAL_LETTERHEAD_EMAIL = env.string("INTERPERSONAL_LETTERHEAD_EMAIL", "talking.therapies@example.org", hint="")
# WeasyPrint logs every layout step at INFO: keep its warnings only.
LOGGING["loggers"]["weasyprint"] = {"handlers": ["console"], "level": "WARNING", "propagate": False}

# --- The waiting list and service operations (interpersonal.web.service; docs/waiting.md) ----
# Waiting-time standards as weeks:percent pairs; the default is NHS England's (75% within 6 weeks,
# 95% within 18 weeks of referral, interpersonal.core.waits.NATIONAL_STANDARDS).
INTERPERSONAL_WAIT_STANDARDS = env.string("INTERPERSONAL_WAIT_STANDARDS", "6:75,18:95", hint="e.g. 6:75,18:95")
try:
    from interpersonal.core.waits import WaitsError, standards_from_setting

    standards_from_setting(INTERPERSONAL_WAIT_STANDARDS)
except WaitsError as _exc:
    raise env.ConfigurationError("INTERPERSONAL_WAIT_STANDARDS", str(_exc), "weeks:percent pairs, e.g. 6:75,18:95") from None
# Days a patient is given to opt in after an invitation [U: a service's choice; 14 is common practice].
INTERPERSONAL_OPT_IN_DAYS = env.integer("INTERPERSONAL_OPT_IN_DAYS", 14)
# Weeks ahead over which open slots are counted (weekly capacity x weeks, minus booked sessions).
INTERPERSONAL_CAPACITY_WEEKS = env.integer("INTERPERSONAL_CAPACITY_WEEKS", 4)
# Weeks without supervision of an open case before the supervisor's dashboard flags it [U: a
# service's choice]. Default 4: IPT UK asks for weekly supervision of training cases and monthly
# supervision to stay accredited (DOMAIN.md §2), so a month without is past even the lightest rule.
INTERPERSONAL_SUPERVISION_GAP_WEEKS = env.integer("INTERPERSONAL_SUPERVISION_GAP_WEEKS", 4)
for _name, _value, _low, _high in (("INTERPERSONAL_OPT_IN_DAYS", INTERPERSONAL_OPT_IN_DAYS, 1, 90),
                                   ("INTERPERSONAL_CAPACITY_WEEKS", INTERPERSONAL_CAPACITY_WEEKS, 1, 26),
                                   ("INTERPERSONAL_SUPERVISION_GAP_WEEKS", INTERPERSONAL_SUPERVISION_GAP_WEEKS, 1, 26)):
    if not _low <= _value <= _high:
        raise env.ConfigurationError(_name, f"must be {_low} to {_high}, got {_value}", f"e.g. {_name}={_low}")

# --- Research export (interpersonal.web.privacy; docs/privacy.md) ---------------------------
# The secret for keyed pseudonyms and date shifts. Required by `manage.py research_export` only;
# keep it apart from the exported files (whoever holds both can re-link pseudonyms to records).
INTERPERSONAL_PSEUDONYM_KEY = (
    "test-pseudonym-key-not-a-secret" if TESTING
    else env.string("INTERPERSONAL_PSEUDONYM_KEY", "", hint="a long random secret, e.g. `openssl rand -hex 32`")
)

# --- Erasure and retention (interpersonal.web.privacy.erasure / .retention; docs/privacy.md) --
# Years a patient's record is kept after their last contact before `interpersonal retention`
# may erase it. A service setting: the default 20 is taken from the NHS England Records
# Management Code of Practice (2021, updated 2023), retention schedule, mental health records
# (20 years after the end of treatment, or 10 years after death; deaths are not recorded here).
# A minimum: records are erased only after an appraisal (`retention report --csv`, `apply --approved`).
INTERPERSONAL_RETENTION_YEARS = env.integer("INTERPERSONAL_RETENTION_YEARS", 20)
# A period shorter than 20 years is refused unless this says it is meant (privacy.retention).
INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE = env.boolean("INTERPERSONAL_RETENTION_SHORTER_THAN_NHS_CODE", False)
# The erasure register (privacy.register): a line per erasure, outside the database, from which
# `interpersonal restore` erases again the records a backup taken before their erasure brings
# back. Keep it on durable storage that a restore does not replace, and back it up apart from the
# database (it holds ids, dates, reasons and case references only).
INTERPERSONAL_ERASURE_REGISTER = env.string("INTERPERSONAL_ERASURE_REGISTER", str(VAR_DIR / "erasure-register.jsonl"),
                                            hint="")
# Operational data purged by `interpersonal retention apply` (retention.purge_operational):
# days after a questionnaire link expired or was withdrawn before its unsent answers are cleared,
INTERPERSONAL_RETENTION_LINK_DRAFT_DAYS = env.integer("INTERPERSONAL_RETENTION_LINK_DRAFT_DAYS", 0)
# days sign-in attempts, failures and logins (django-axes) are kept,
INTERPERSONAL_RETENTION_LOGIN_LOG_DAYS = env.integer("INTERPERSONAL_RETENTION_LOGIN_LOG_DAYS", 90)
# and days finished background-task results are kept. Unknown-token attempts go once older than
# INTERPERSONAL_LINK_ATTEMPT_WINDOW_MINUTES; expired sessions go at once.
INTERPERSONAL_RETENTION_TASK_RESULT_DAYS = env.integer("INTERPERSONAL_RETENTION_TASK_RESULT_DAYS", 30)

# --- Session recordings and adherence ratings (interpersonal.web.fidelity; docs/fidelity-recordings.md) --
# The master key that wraps each recording's data key: a file holding 32 random bytes in base64 (or
# hex), e.g. `openssl rand -base64 32`, kept OUTSIDE the database and its backups; or the value itself
# in INTERPERSONAL_RECORDINGS_KEY. Without one, uploads are refused and nothing plays. Never logged.
INTERPERSONAL_RECORDINGS_KEY_FILE = env.string("INTERPERSONAL_RECORDINGS_KEY_FILE", "", hint="")
INTERPERSONAL_RECORDINGS_KEY = env.string("INTERPERSONAL_RECORDINGS_KEY", "", hint="")
INTERPERSONAL_RECORDINGS_DIR = env.string(
    "INTERPERSONAL_RECORDINGS_DIR",
    tempfile.mkdtemp(prefix="interpersonal-recordings-") if TESTING else str(VAR_DIR / "recordings"), hint="",
)
# Each chunk the browser sends (and each encrypted object stored), in bytes: 4 MiB by default.
INTERPERSONAL_RECORDINGS_CHUNK_BYTES = env.integer("INTERPERSONAL_RECORDINGS_CHUNK_BYTES", 4 * 1024 * 1024)
INTERPERSONAL_RECORDINGS_MAX_BYTES = env.integer("INTERPERSONAL_RECORDINGS_MAX_BYTES", 2 * 1024 * 1024 * 1024)
INTERPERSONAL_RECORDINGS_CONTENT_TYPES = env.string_list(
    "INTERPERSONAL_RECORDINGS_CONTENT_TYPES",
    ("audio/mpeg", "audio/mp4", "audio/x-m4a", "audio/aac", "audio/ogg", "audio/webm", "audio/wav", "audio/x-wav",
     "video/mp4", "video/webm", "video/quicktime"),
)
# Retention (fidelity.retention): media deleted this many days after upload, sooner once every rating is in
# (KEEP_AFTER_RATING_DAYS later) unless held for accreditation; an unfinished upload after ABANDONED_HOURS.
INTERPERSONAL_RECORDINGS_RETENTION_DAYS = env.integer("INTERPERSONAL_RECORDINGS_RETENTION_DAYS", 90)
INTERPERSONAL_RECORDINGS_KEEP_AFTER_RATING_DAYS = env.integer("INTERPERSONAL_RECORDINGS_KEEP_AFTER_RATING_DAYS", 14)
INTERPERSONAL_RECORDINGS_ABANDONED_HOURS = env.integer("INTERPERSONAL_RECORDINGS_ABANDONED_HOURS", 24)
# The share of recordings (percent) drawn for a second, blind rating, and the scale raters use by default.
INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT = env.integer("INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT", 20)
INTERPERSONAL_RECORDINGS_DEFAULT_SCALE = env.string("INTERPERSONAL_RECORDINGS_DEFAULT_SCALE", "", hint="")
for _name, _value, _low, _high in (
    ("INTERPERSONAL_RECORDINGS_CHUNK_BYTES", INTERPERSONAL_RECORDINGS_CHUNK_BYTES, 64 * 1024, 64 * 1024 * 1024),
    ("INTERPERSONAL_RECORDINGS_MAX_BYTES", INTERPERSONAL_RECORDINGS_MAX_BYTES, 1, 64 * 1024 ** 3),
    ("INTERPERSONAL_RECORDINGS_RETENTION_DAYS", INTERPERSONAL_RECORDINGS_RETENTION_DAYS, 1, 3650),
    ("INTERPERSONAL_RECORDINGS_KEEP_AFTER_RATING_DAYS", INTERPERSONAL_RECORDINGS_KEEP_AFTER_RATING_DAYS, 0, 3650),
    ("INTERPERSONAL_RECORDINGS_ABANDONED_HOURS", INTERPERSONAL_RECORDINGS_ABANDONED_HOURS, 1, 24 * 30),
    ("INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT", INTERPERSONAL_RECORDINGS_SECOND_RATER_PERCENT, 0, 100),
):
    if not _low <= _value <= _high:
        raise env.ConfigurationError(_name, f"must be {_low} to {_high}, got {_value}", "see .env.example")
# Where the encrypted chunks are stored: "filesystem" (INTERPERSONAL_RECORDINGS_DIR, owner-only files) or
# "s3" (django-storages' S3Storage, `pip install "interpersonal[s3]"`; AWS_STORAGE_BUCKET_NAME, AWS_S3_ENDPOINT_URL,
# AWS_S3_REGION_NAME and the credentials as django-storages documents them). The data are encrypted before they
# leave the server either way.
INTERPERSONAL_RECORDINGS_STORAGE = env.string("INTERPERSONAL_RECORDINGS_STORAGE", "filesystem", hint="")
if INTERPERSONAL_RECORDINGS_STORAGE == "filesystem":
    STORAGES["recordings"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": INTERPERSONAL_RECORDINGS_DIR,
                    "file_permissions_mode": 0o600, "directory_permissions_mode": 0o700},
    }
elif INTERPERSONAL_RECORDINGS_STORAGE == "s3":
    STORAGES["recordings"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.string("INTERPERSONAL_RECORDINGS_BUCKET", hint="the bucket that holds the recordings"),
            "location": env.string("INTERPERSONAL_RECORDINGS_BUCKET_PREFIX", "recordings", hint=""),
            "default_acl": "private", "querystring_auth": True, "file_overwrite": True,
        },
    }
else:
    raise env.ConfigurationError("INTERPERSONAL_RECORDINGS_STORAGE", f"unknown storage {INTERPERSONAL_RECORDINGS_STORAGE!r}",
                                 "filesystem or s3")
