"""The one settings module, configured by environment variables.

DJANGO_ENV=development (the default: SQLite, console e-mail, no broker needed) or
production (every secret and host must be given; secure cookies, HSTS).
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("ESCALATION_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_choice("DJANGO_ENV", "development", ("development", "production"))
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be false when DJANGO_ENV=production.")

if PRODUCTION:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
else:
    SECRET_KEY = env_str(
        "DJANGO_SECRET_KEY", "development-only-key-never-use-in-production-0123456789abcdef"
    )

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the site's host names.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Links in e-mails are built from this, never from the request's Host header.
SITE_BASE_URL = env_str("SITE_BASE_URL", "" if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
# The one-sentence summary of a case that e-mails carry: the escalations app's, named here
# so notifications need not import escalations (docs/architecture.md §2). Code, not config.
NOTIFICATION_CASE_SENTENCE = "escalations.selectors.case_sentence"
if PRODUCTION and not SITE_BASE_URL.startswith("https://"):
    raise ImproperlyConfigured("SITE_BASE_URL must be the site's https:// address in production.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "simple_history",
    "django_fsm",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "import_export",
    "policies",
    "staff",
    "children",
    "escalations",
    "notifications",
    "health_check",
    "operations",
    "records",
    "reports",
    "demo",
]

MIDDLEWARE = [
    # First, so its one log line per request covers every response, refusals included.
    "operations.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside the rest, so every response, error pages and redirects included, gets it.
    "config.http_guards.NoStoreMiddleware",
    # Before anything can read the body (the CSRF check reads the form).
    "config.http_guards.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Inside the session middleware, so a refresh it asks for is saved on the way out.
    "config.sessions.IdleSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # django-otp's, also counting a second factor the council's provider says it did.
    "staff.sso.OTPMiddleware",
    "staff.middleware.SecondFactorRequiredMiddleware",
    # After the second factor, so a person sent back to it is not looked up.
    "staff.middleware.StaffMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A form posted after the session ended is kept for its author's next sign-in.
    "config.timeout.KeepExpiredFormMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "escalations.middleware.OneLadderReadMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    # Last, as django-axes requires: it turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]
# Earlier versions in admin are for reading: a revert would skip the policy's checks.
SIMPLE_HISTORY_REVERT_DISABLED = True

if PRODUCTION:
    # Serves the collected static files from gunicorn: no CDN, no separate web server.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "notifications.context_processors.unread_notifications",
                "escalations.context_processors.navigation",
                "reports.context_processors.reports_link",
                "config.timeout.session_timeout",
            ],
            "libraries": {
                "table_region": "config.table_region",
                "admin_a11y": "config.admin_a11y",
                "record_html": "escalations.record_html",
            },
            # Django's `date` filter, the same text faster (config/dates.py).
            "builtins": ["config.dates"],
        },
    },
]

FORM_RENDERER = "config.forms.GovukRenderer"

DATABASE_URL = env_str("DATABASE_URL", "")
if not DATABASE_URL:
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production.")
    # The embedded default for a first run on a laptop.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# Persistent connections, checked before reuse, rather than psycopg's pool: each gunicorn
# thread, the relay and each Celery worker process serve one thing at a time, and Django
# keeps a connection per thread, so a pool would hold one busy connection per thread at
# most (and a thread to tend it); keeping that one open saves the connect per request. The health check
# replaces a connection the database or a restart closed, instead of failing a request.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 600 if PRODUCTION else 0, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL's JIT compiler suits long analytic queries; here it compiled queries the
    # planner costs highly but that run in milliseconds (the CSV export's per-row
    # subqueries: 5 s compiling a 1 s query), on every request. Off for the app's sessions.
    # Parallel workers likewise: at a million steps PostgreSQL started two for My
    # escalations' UNION of indexed lookups, 3 ms to start them for 0.06 ms of work. A
    # page is one request on a few cores; the one long count (the reports' figures, a
    # background refresh) took 2.1 s without them against 1.9 s with.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        "-c jit=off -c max_parallel_workers_per_gather=0"
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has two processes writing (the web server and run_scheduler):
    # WAL lets readers and a writer work at once, a writer waits up to 20 s for another
    # instead of failing with "database is locked", and IMMEDIATE takes the write lock at
    # the start of a transaction, so a read-then-write (the outbox claim) cannot fail
    # halfway when another process wrote in between.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Lock an account out after repeated failed sign-ins (django-axes).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's password check, refused where the authority has switched passwords off.
    "staff.sso.LocalPasswordBackend",
    # Single sign-on with each council's own OpenID Connect provider (staff/sso.py).
    "staff.sso.ProviderBackend",
]
# A TOTP second factor before any case data. Required in production; off by default on a
# laptop so the demo accounts sign in with a password alone (REQUIRE_SECOND_FACTOR=true
# to try it). Councils with single sign-on switch it off and rely on theirs.
REQUIRE_SECOND_FACTOR = env_bool("REQUIRE_SECOND_FACTOR", default=PRODUCTION)
OTP_TOTP_ISSUER = env_str("OTP_ISSUER", "Escalation manager")
# An administrator resets someone's authenticator (deletes it); seeing its key would let
# them, or anyone at their screen, make that person's codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 30, minimum=1))
# Per (username, address), so a stranger cannot lock anyone out, not even the only
# superuser; and per address across accounts at a much higher limit, because a council
# office signs everyone in from one shared address. config/sign_in_limits.py applies the
# two limits (axes alone has one for all).
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "config.sign_in_limits.AccountAndAddressHandler"
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 100, minimum=1)
# The address is the client's, as our own proxy saw it: set to the number of proxies in
# front of gunicorn, or every sign-in shares the proxy's address and one throttle.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_CLIENT_IP_CALLABLE = "config.sign_in_limits.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# A sign-in through the council's provider is no password guess: the provider throttles
# its own sign-ins, and an office locked out of passwords can still use it.
AXES_WHITELIST_CALLABLE = "staff.sso.exempt_from_lockout"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "escalations:todo"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on (mozilla-django-oidc): each authority's provider is a row in Django admin
# (staff.IdentityProvider); these are what all providers share.
OIDC_AUTHENTICATION_CALLBACK_URL = "sso_callback"
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_CREATE_USER = False
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env_int("SSO_TIMEOUT_SECONDS", 10, minimum=1)
SSO_DISCOVERY_CACHE_SECONDS = env_int("SSO_DISCOVERY_CACHE_SECONDS", 3600, minimum=0)
# Providers on plain http:// only on a laptop or in the tests, never in production.
SSO_ALLOW_HTTP_PROVIDERS = env_bool("SSO_ALLOW_HTTP_PROVIDERS", default=not PRODUCTION)
if PRODUCTION and SSO_ALLOW_HTTP_PROVIDERS:
    raise ImproperlyConfigured("SSO_ALLOW_HTTP_PROVIDERS must be false in production.")

# Sessions end after 30 idle minutes (docs/architecture.md §5, §8).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
# The idle limit is restarted by config.sessions.IdleSessionMiddleware at most once a
# minute, not by a session write on every request.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Attachments live outside the web root and are served only through a permission check.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "uploads")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_MB", 10, minimum=1) * 1024 * 1024
# A form's fields without its files (Django counts them as it reads).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# The largest body any page needs: a response with its 5 attachments (MAX_ATTACHMENTS in
# escalations/services.py) at the largest size, plus the form's fields. A longer
# Content-Length is refused before the body is read (config/http_guards.py); the proxy in
# front should refuse the same (README).
REQUEST_BODY_MAX_BYTES = 5 * ATTACHMENT_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE
# Small uploads in memory; larger ones to disk, but never past the attachment limit.
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "escalations.attachments.AttachmentLimitUploadHandler",
]
FILE_UPLOAD_PERMISSIONS = 0o600

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "sent-mail"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "escalations@localhost")

# Celery: Redis when REDIS_URL is set; the embedded default runs the same functions
# from `manage.py run_scheduler` and needs no broker. Production must have one: there
# the outbox relay (`manage.py run_relay`) hands e-mail to the Celery workers, and the
# web processes never send or wait on a mail server.
REDIS_URL = env_str("REDIS_URL", "")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL must point at the Redis broker in production (e.g. redis://redis:6379/0): "
        "the outbox relay hands e-mail to the Celery workers through it."
    )
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 3, "socket_connect_timeout": 3}
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TIMEZONE = TIME_ZONE
# config/celery.py hands the worker's and beat's logging to LOGGING below (JSON lines).
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Static and reviewed in code: the deadline sweep. It only writes outbox rows (the relay
# sends them) and is idempotent, so an extra or overlapping run creates nothing twice.
CELERY_BEAT_SCHEDULE = {
    "deadline-sweep": {
        "task": "escalations.tasks.sweep",
        "schedule": env_int("SWEEP_INTERVAL_SECONDS", 300, minimum=30),
        "options": {"expires": 240},
    },
    # Recounts the stored dashboard figures after a change (reports/figures.py); pages
    # recount themselves when they find them stale, so this only saves a wait.
    "figures-refresh": {
        "task": "reports.tasks.refresh_figures",
        "schedule": env_int("FIGURES_INTERVAL_SECONDS", 300, minimum=30),
        "options": {"expires": 240},
    },
}

# Django admin's own pages use a few inline styles, hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# One JSON object a line (operations/log_format.py) from web, worker and beat alike, each
# with its request or task id and the user's id, never a name or an e-mail address.
# LOG_FORMAT=text for people reading a laptop's console.
LOG_FORMAT = env_choice("LOG_FORMAT", "json", ("json", "text"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "operations.log_format.RequestContextFilter"}},
    "formatters": {
        "json": {"()": "operations.log_format.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own console handler (DEBUG only) would print each django.* line a second
    # time beside the root's: the root alone prints them.
    "loggers": {"django": {"handlers": [], "level": "INFO", "propagate": True}},
}

# Health (django-health-check, operations/checks.py): /health/ goes unhealthy when no
# deadline sweep has finished for this long, the alert condition in the README.
SWEEP_ALERT_MINUTES = env_int("SWEEP_ALERT_MINUTES", 15, minimum=1)
# The load balancer probes over plain http inside the network: no redirect to https.
SECURE_REDIRECT_EXEMPT = [r"^health/(live/)?$"]
