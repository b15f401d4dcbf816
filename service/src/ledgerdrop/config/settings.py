"""The one settings module. Everything a deployment changes comes from environment variables;
with none set, Ledgerdrop runs the embedded default: SQLite in WAL mode, files and tasks on
local disk.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from ledgerdrop.config.object_storage import s3_storage


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    return [item.strip() for item in value.split(",") if item.strip()] if value else default


DATA_DIR = Path(os.environ.get("LEDGERDROP_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
# The data folder holds the database, the documents and the secret key: its owner only. A folder
# somebody else owns (a mount prepared by an administrator) is left as they set it.
if os.name == "posix" and DATA_DIR.stat().st_uid == os.getuid():
    DATA_DIR.chmod(0o700)


def _secret_key(*, shared_nothing: bool) -> str:
    # A fresh install must work with no env file to copy, so the key is made once and kept
    # in the data folder, readable by its owner only. Nodes that share nothing on disk would
    # each make their own, and sessions would fail across the load balancer: they must be told.
    if key := os.environ.get("LEDGERDROP_SECRET_KEY"):
        return key
    if shared_nothing:
        raise ImproperlyConfigured(
            "LEDGERDROP_SECRET_KEY is not set. On PostgreSQL with object storage, every node "
            "must sign sessions with the same key: set LEDGERDROP_SECRET_KEY to the same long "
            "random value on each node (python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(50))' makes one)."
        )
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


DEBUG = _env_bool("LEDGERDROP_DEBUG", default=False)
ALLOWED_HOSTS = _env_list("LEDGERDROP_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = _env_list("LEDGERDROP_CSRF_TRUSTED_ORIGINS", [])
# The address people and downloaders use to reach this server (verification links, e-mails).
PUBLIC_URL = os.environ.get("LEDGERDROP_PUBLIC_URL", "").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    # Serves the API documentation's Swagger UI from this server (the default is a CDN, which
    # the Content-Security-Policy refuses).
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "ledgerdrop.core",
    "ledgerdrop.accounts",
    "ledgerdrop.documents",
    "ledgerdrop.delivery",
    "ledgerdrop.connectors.bob_demat",
    "ledgerdrop.connectors.presets",
]

MIDDLEWARE = [
    "ledgerdrop.core.problems.ApiErrorsAsProblems",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "ledgerdrop.config.urls"
ASGI_APPLICATION = "ledgerdrop.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ledgerdrop.config.context_processors.organisations",
            ],
        },
    },
]

_SQLITE_OPTIONS = {
    # WAL lets the web process read while the worker writes; IMMEDIATE takes the write lock at
    # BEGIN so that two writers queue instead of failing mid-transaction.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'ledgerdrop.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = _SQLITE_OPTIONS
    # A file, not memory, so that the real server started by system tests sees the test data.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-ledgerdrop.sqlite3")}
    # Writers of this process queue in order (FIFO) for the write lock: see core/sqlite.
    DATABASES["default"]["ENGINE"] = "ledgerdrop.core.sqlite"

# The load budget of one node (README, "Sizing a node"): at most LEDGERDROP_DB_POOL_SIZE
# PostgreSQL connections, shared by the request threads, the long-poll gate's checks, the
# task worker, the nightly scheduler and the wake-up listener, each holding at most one. The
# request threads get what the others leave, so that the pool itself never runs dry; a request
# that finds no thread free within LEDGERDROP_BUSY_WAIT_SECONDS is answered 503 + Retry-After.
LEDGERDROP_DB_POOL_SIZE = int(os.environ.get("LEDGERDROP_DB_POOL_SIZE", "20"))
LEDGERDROP_LONG_POLL_THREADS = 2
# Bundles and acks the gate in front of Django answers at once (delivery/gate.py); more go on to
# Django's request threads, where a node too busy to take them answers 503 + Retry-After.
LEDGERDROP_GATE_ANSWERS = LEDGERDROP_LONG_POLL_THREADS
# The task worker and its watch, the scheduler, the wake-up listener.
LEDGERDROP_RESERVED_CONNECTIONS = LEDGERDROP_LONG_POLL_THREADS + 4
LEDGERDROP_REQUEST_THREADS = int(
    os.environ.get(
        "LEDGERDROP_REQUEST_THREADS",
        max(1, LEDGERDROP_DB_POOL_SIZE - LEDGERDROP_RESERVED_CONNECTIONS),
    )
)
LEDGERDROP_BUSY_WAIT_SECONDS = float(os.environ.get("LEDGERDROP_BUSY_WAIT_SECONDS", "10"))
LEDGERDROP_BUSY_RETRY_AFTER_SECONDS = 2
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
    "ledgerdrop.core.overload.OverloadMiddleware",
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's psycopg pool: connections are handed back at the end of each request (hence
    # CONN_MAX_AGE 0) and a thread that still finds none after the short wait gets a 503.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        "pool": {
            "min_size": min(2, LEDGERDROP_DB_POOL_SIZE),
            "max_size": LEDGERDROP_DB_POOL_SIZE,
            "timeout": LEDGERDROP_BUSY_WAIT_SECONDS,
        },
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A task worker that has not shown a sign of life for this long is taken for dead and its running
# task is queued again (core/tasks.py); it shows one every sixth of it, also mid-task.
LEDGERDROP_WORKER_LEASE_SECONDS = float(os.environ.get("LEDGERDROP_WORKER_LEASE_SECONDS", "60"))

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": DATA_DIR / "files"},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Object storage: with a bucket named, every stored file (documents, uploads, installed rules)
# lives there instead of the data folder, so that several nodes serve the same files. Any
# S3-compatible store (AWS, MinIO, Ceph, Scaleway, OVH) through its endpoint URL; credentials
# come the usual way (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).
LEDGERDROP_S3_BUCKET = os.environ.get("LEDGERDROP_S3_BUCKET", "")
if LEDGERDROP_S3_BUCKET:
    STORAGES["default"] = s3_storage(
        LEDGERDROP_S3_BUCKET,
        endpoint_url=os.environ.get("LEDGERDROP_S3_ENDPOINT_URL") or None,
        region=os.environ.get("LEDGERDROP_S3_REGION") or None,
        # Whoever may hold a database connection may be reading a file too.
        connections=LEDGERDROP_REQUEST_THREADS + LEDGERDROP_RESERVED_CONNECTIONS,
    )
# Several nodes: the database and the files are shared, nothing lives on a node's own disk
# (README, "Running on several machines").
LEDGERDROP_SHARED_NOTHING = DATABASES["default"][
    "ENGINE"
] == "django.db.backends.postgresql" and bool(LEDGERDROP_S3_BUCKET)
SECRET_KEY = _secret_key(shared_nothing=LEDGERDROP_SHARED_NOTHING)
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve static files straight from the apps: no collectstatic step on a fresh install.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [Path(__file__).resolve().parent.parent / "locale"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

EMAIL_BACKEND = os.environ.get(
    "LEDGERDROP_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("LEDGERDROP_FROM_EMAIL", "Ledgerdrop <noreply@localhost>")

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = _env_bool("LEDGERDROP_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Behind HTTPS, browsers keep to HTTPS for a year (they ignore the header on plain HTTP).
LEDGERDROP_HSTS_SECONDS = 365 * 24 * 3600 if SESSION_COOKIE_SECURE else 0
MIDDLEWARE.insert(1, "ledgerdrop.core.middleware.StrictTransportSecurityMiddleware")
# Only this server's own scripts, styles and images: no inline script or style, no other origin,
# no framing. htmx is served from here (django_htmx's static files) and needs nothing more.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Stored files and their folders are for the server's user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# Device protocol: how long one long-poll may be held, and how often a server process on SQLite
# looks whether another process (the worker) committed, then for deliveries it queued, so that
# its waiting devices wake up (a look that finds no commit reads no table).
LEDGERDROP_LONG_POLL_MAX_SECONDS = int(os.environ.get("LEDGERDROP_LONG_POLL_MAX_SECONDS", "60"))
LEDGERDROP_WAKEUP_POLL_SECONDS = float(os.environ.get("LEDGERDROP_WAKEUP_POLL_SECONDS", "0.02"))
# The downloader this server hands out under /downloads/agent/: its wheels (built from the
# sources on first request, or by `ledgerdrop downloads build`) and the Windows zip.
LEDGERDROP_DOWNLOADS_DIR = Path(
    os.environ.get("LEDGERDROP_DOWNLOADS_DIR", DATA_DIR / "downloads")
).resolve()
# The nightly automatic transfer, local time of TIME_ZONE.
LEDGERDROP_AUTOSEND_AT = os.environ.get("LEDGERDROP_AUTOSEND_AT", "02:00")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LEDGERDROP_LOG_LEVEL", "INFO")},
    "loggers": {
        "django_tasks_db": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # aiosmtpd (`ledgerdrop smtpd`) logs each connection's every step; the service logs
        # what it takes or refuses.
        "mail.log": {"level": "WARNING"},
    },
}

# Documents: the official PEPPOL BIS 3.0 rules (`ledgerdrop rules install` puts a copy
# here; absent, every validation report says the PEPPOL layer did not run), the token of the
# PEPPOL access point that hands over received documents, and the domain of the companies'
# inbound e-mail addresses.
LEDGERDROP_PEPPOL_RULES = Path(
    os.environ.get("LEDGERDROP_PEPPOL_RULES", DATA_DIR / "rules" / "PEPPOL-EN16931-UBL.sch")
)
LEDGERDROP_PEPPOL_AP_TOKEN = os.environ.get("LEDGERDROP_PEPPOL_AP_TOKEN", "")
LEDGERDROP_INBOUND_EMAIL_DOMAIN = os.environ.get("LEDGERDROP_INBOUND_EMAIL_DOMAIN", "localhost")

# Package connectors that e-mail documents (Yuki, ClearFacts…): the largest message they send
# (receiving servers refuse bigger ones; attachments grow by a third in base64), and the waits,
# in seconds, before each new try after a temporary refusal; the message fails after the last.
LEDGERDROP_CONNECTOR_EMAIL_MAX_BYTES = int(
    os.environ.get("LEDGERDROP_CONNECTOR_EMAIL_MAX_BYTES", str(10 * 1024 * 1024))
)
LEDGERDROP_CONNECTOR_EMAIL_RETRY_SECONDS = [
    int(seconds)
    for seconds in os.environ.get(
        "LEDGERDROP_CONNECTOR_EMAIL_RETRY_SECONDS", "60,300,1800,7200,21600"
    ).split(",")
    if seconds.strip()
]

# Sage BOB Demat connector: when the daily digest of silent devices and failures is mailed.
LEDGERDROP_DIGEST_AT = os.environ.get("LEDGERDROP_DIGEST_AT", "07:00")

# Accounts: a signed-in person's chosen language (User.language) wins over the
# browser's; the middleware needs the user, so it sits right after authentication.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "ledgerdrop.accounts.middleware.UserLanguageMiddleware",
)
# How many reverse proxies in front of the service append to X-Forwarded-For (0: none). The
# sign-in limit counts failures per client address, which it then reads from that header.
LEDGERDROP_TRUSTED_PROXIES = int(os.environ.get("LEDGERDROP_TRUSTED_PROXIES", "0"))
# Outgoing e-mail (invitations, password resets) over SMTP when a host is given; otherwise the
# files under DATA_DIR/mail are the outbox.
if smtp_host := os.environ.get("LEDGERDROP_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = smtp_host
    EMAIL_PORT = int(os.environ.get("LEDGERDROP_SMTP_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("LEDGERDROP_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("LEDGERDROP_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = _env_bool("LEDGERDROP_SMTP_STARTTLS", default=EMAIL_PORT == 587)
    EMAIL_USE_SSL = _env_bool("LEDGERDROP_SMTP_SSL", default=EMAIL_PORT == 465)

# The nightly backup (README, "Backup and restore"): into this folder when set, at this local
# time, keeping the last LEDGERDROP_BACKUP_KEEP snapshots. A failure is mailed to the operator.
LEDGERDROP_BACKUP_DIR = os.environ.get("LEDGERDROP_BACKUP_DIR", "")
LEDGERDROP_BACKUP_AT = os.environ.get("LEDGERDROP_BACKUP_AT", "03:00")
LEDGERDROP_BACKUP_KEEP = int(os.environ.get("LEDGERDROP_BACKUP_KEEP", "7"))
ADMINS = [("Ledgerdrop operator", email) for email in _env_list("LEDGERDROP_OPERATOR_EMAIL", [])]
SERVER_EMAIL = DEFAULT_FROM_EMAIL
