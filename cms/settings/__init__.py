"""Settings for 8890 News+, read from the environment with embedded defaults.

Everything a deployment changes comes from an environment variable; with none set
the project runs on one machine with SQLite and a filesystem Celery broker under
``var/``.
"""

import logging
import os
import secrets
from datetime import time, timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("NEWSPLUS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

logger = logging.getLogger(__name__)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item]


def _secret_key() -> str:
    """Use DJANGO_SECRET_KEY, or a key generated once into var/ (never committed)."""
    if key := os.environ.get("DJANGO_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")

INSTALLED_APPS = [
    "cms",
    "axes",
    "csp",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.sitemaps",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    # After wagtail.admin: newsroom re-wires Wagtail's review e-mails in ready().
    "tracking",
    "tracking.partners",
    "tracking.donations",
    "newsroom",
    "modelcluster",
    "taggit",
    "django_celery_beat",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "newsroom.cache.PublicPageCacheMiddleware",
    # Inside the page cache: the policy is part of the response a miss stores and
    # a hit replays.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, with the API and Open311 answered in the client's language.
    "cms.locale.ClientLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes asks: it turns a lockout into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cms.urls"
WSGI_APPLICATION = "cms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "cms" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                # The masthead's columns, read only where a template shows them.
                "newsroom.sites.navigation_context",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web server, worker and beat share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache --------------------------------------------------------------------
if cache_url := os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": cache_url,
        }
    }
elif os.environ.get("DJANGO_CACHE") == "locmem":
    # One process only (the test suite): nothing to share.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # The embedded default runs several web processes and a worker on one machine:
    # they must see the same page cache and the same invalidations. diskcache keeps
    # entries in SQLite (one file per shard) and evicts the least recently stored
    # past the size limit with an indexed query, not a scan of a directory.
    CACHES = {
        "default": {
            "BACKEND": "cms.cache.PersistentDiskCache",
            "LOCATION": str(VAR_DIR / "cache"),
            # For all shards together (eight by default).
            "OPTIONS": {
                "size_limit": int(os.environ.get("NEWSPLUS_CACHE_SIZE_MB", "256"))
                * 2**20
            },
        }
    }

# --- Authentication and login throttling --------------------------------------
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out username + address before any password is checked.
    "cms.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# A username is locked out from one address only: guessing from elsewhere, or
# another user on the same address (an office behind one NAT), is not blocked.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(
    minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30"))
)
# A successful login forgets the user's earlier typos from that address.
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "cms.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "cms.auth.client_ip"
# Proxies in front of the web server that append the client's address to
# X-Forwarded-For (0: clients connect directly, REMOTE_ADDR is theirs).
NEWSPLUS_TRUSTED_PROXY_COUNT = int(os.environ.get("NEWSPLUS_TRUSTED_PROXY_COUNT", "0"))
# The lockouts are lifted in the Wagtail admin (Settings → Login lockouts); the
# Django admin is not mounted.
AXES_ENABLE_ADMIN = False

# --- HTTPS and security headers -------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
_https = env_bool("DJANGO_HTTPS", False)
if _https:
    SECURE_SSL_REDIRECT = True
    # A load balancer probes over plain HTTP: /healthz answers it, not a redirect.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 86400)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if not SECURE_HSTS_PRELOAD:
        # Asking browsers to preload HSTS for the whole domain is hard to take
        # back: the operator opts in with DJANGO_HSTS_PRELOAD, it is not a default.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
# Only when the proxy in front sets the header (and strips a client's own):
# otherwise any client could claim to be on HTTPS.
if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def _https_origins(hosts: list[str]) -> list[str]:
    """https://<host> for each allowed host (".example.com" covers subdomains)."""
    return [
        f"https://*{host}" if host.startswith(".") else f"https://{host}"
        for host in hosts
        if host != "*"
    ]


CSRF_TRUSTED_ORIGINS = env_list(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    ",".join(_https_origins(ALLOWED_HOSTS)) if _https else "",
)

# Public pages run no inline script or style: an injected handler
# (<img onerror=...>) or <script> does nothing. The Wagtail admin writes inline
# scripts (panels, date widgets), as would the Django admin if it were mounted:
# both are left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/django-admin/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [SELF],
        "form-action": [SELF],
    },
}

# --- Language and time --------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "cms" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
# Django serves uploaded images itself (cms.media) unless a web server or object
# storage does it in front of it: then NEWSPLUS_SERVE_MEDIA=0.
NEWSPLUS_SERVE_MEDIA = env_bool("NEWSPLUS_SERVE_MEDIA", True)
# Photos citizens send with their requests: personal data, served by no URL of
# the media root; staff see them through a view that checks the case.
PRIVATE_MEDIA_ROOT = Path(
    os.environ.get("NEWSPLUS_PRIVATE_MEDIA_ROOT", VAR_DIR / "private")
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "cms.storage.PrivateFileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT)},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True

# --- Mail (leaves the machine: console by default) ----------------------------
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "noreply@8890.local")
# The mail relay of the SMTP backend.
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
# Where the file backend writes each message (the run command uses it, so the
# demo's notifications do not flood its console).
EMAIL_FILE_PATH = os.environ.get("DJANGO_EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
# A hung mail relay must fail well inside the outbox's claim on a message (10
# minutes), or the message would be sent again by the next worker.
EMAIL_TIMEOUT = int(os.environ.get("DJANGO_EMAIL_TIMEOUT", "30"))

# --- Wagtail ------------------------------------------------------------------
WAGTAIL_SITE_NAME = "8890 News+"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://localhost:8000")
# The public site's address (scheme, host and port) in links read outside it: feed
# items and the sitemap. Unset, the Wagtail site's own hostname and port, which
# the run command sets to the address it serves.
NEWSPLUS_PUBLIC_URL = os.environ.get("NEWSPLUS_PUBLIC_URL", "").strip().rstrip("/")
WAGTAIL_I18N_ENABLED = False
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
# Wagtail's search- and reference-index updates run once after the commit of the
# transaction that saved the page, not inside it (cms/tasks_backend.py).
TASKS = {"default": {"BACKEND": "cms.tasks_backend.OnCommitBackend"}}

# --- Celery -------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    _control_dir = VAR_DIR / "celery" / "control"
    for _dir in (_queue_dir, _processed_dir, _control_dir):
        _dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
        "polling_interval": 0.2,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Redis cannot tell a killed worker from a slow one: a task it held goes back
    # on the queue after this many seconds (Kombu's default is an hour). A task
    # running longer than this may run twice, which every task here tolerates.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "1800"))
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# django-celery-beat's database scheduler, which also records beat's heartbeat
# for /healthz (cms/beat.py).
CELERY_BEAT_SCHEDULER = "cms.beat:Scheduler"
# /healthz reports beat as stale past this many seconds without a heartbeat.
HEALTHZ_BEAT_MAX_AGE = int(os.environ.get("HEALTHZ_BEAT_MAX_AGE", "120"))
# With the broker down, a request that queues a notification gives up quickly: the
# notification is in the outbox already, and its sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True

# --- The hotline --------------------------------------------------------------
# Deadlines end at office closing time (Asia/Shanghai) on their last working day.
TRACKING_OFFICE_CLOSING_TIME = time.fromisoformat(
    os.environ.get("TRACKING_OFFICE_CLOSING_TIME", "18:00")
)
# Default handling limit and escalation threshold when a case has no category.
TRACKING_DEFAULT_HANDLING_DAYS = int(
    os.environ.get("TRACKING_DEFAULT_HANDLING_DAYS", "5")
)
TRACKING_DEFAULT_ESCALATION_DAYS = int(
    os.environ.get("TRACKING_DEFAULT_ESCALATION_DAYS", "3")
)
# Departments are warned this many working hours before a deadline (预警).
TRACKING_EARLY_WARNING_HOURS = int(os.environ.get("TRACKING_EARLY_WARNING_HOURS", "4"))
# Warn a department this many office hours before its acknowledgement deadline.
TRACKING_ACKNOWLEDGE_WARNING_HOURS = int(
    os.environ.get("TRACKING_ACKNOWLEDGE_WARNING_HOURS", "2")
)
TRACKING_OFFICE_OPENING_TIME = time.fromisoformat(
    os.environ.get("TRACKING_OFFICE_OPENING_TIME", "09:00")
)
# Cases one scan claims and handles per transaction.
TRACKING_SCAN_BATCH_SIZE = int(os.environ.get("TRACKING_SCAN_BATCH_SIZE", "200"))
# A case may be closed after this many unreachable callback attempts.
TRACKING_UNREACHABLE_CALLBACKS_TO_CLOSE = int(
    os.environ.get("TRACKING_UNREACHABLE_CALLBACKS_TO_CLOSE", "3")
)

# --- Statistics -------------------------------------------------------------------
# A rate over fewer cases than this is shown as "样本不足" (too few cases), and a
# department that had fewer cases in the period is listed but not ranked.
STATISTICS_MIN_SAMPLE = int(os.environ.get("STATISTICS_MIN_SAMPLE", "10"))

# Notifications not delivered this long after their commit are sent by the outbox
# sweep (broker down, worker lost); failures are retried this many times.
OUTBOX_REDELIVER_AFTER_SECONDS = int(
    os.environ.get("OUTBOX_REDELIVER_AFTER_SECONDS", "120")
)
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "10"))
OUTBOX_KEEP_SENT_DAYS = int(os.environ.get("OUTBOX_KEEP_SENT_DAYS", "30"))

# --- The doors: web form, progress lookup, Open311, officer API -----------------
# Rates as django-ratelimit reads them ("5/h": five per hour; s, m, h, d).
INTAKE_RATE_PER_IP = os.environ.get("INTAKE_RATE_PER_IP", "10/h")
INTAKE_RATE_PER_PHONE = os.environ.get("INTAKE_RATE_PER_PHONE", "5/d")
# Failed progress lookups (wrong reference + phone digits) per address.
LOOKUP_FAILURES_PER_IP = os.environ.get("LOOKUP_FAILURES_PER_IP", "10/h")
# ... and per reference number, so that nobody guesses the four digits of one.
LOOKUP_FAILURES_PER_REFERENCE = os.environ.get("LOOKUP_FAILURES_PER_REFERENCE", "5/h")
INTAKE_MAX_PHOTOS = 3
INTAKE_MAX_PHOTO_BYTES = 5 * 2**20
# A whole submission: the photos and a form's worth of text (413 above it).
INTAKE_MAX_REQUEST_BYTES = INTAKE_MAX_PHOTOS * INTAKE_MAX_PHOTO_BYTES + 2**20
# Requests one Open311 key may make, and the page size of GET requests.
OPEN311_RATE_PER_KEY = os.environ.get("OPEN311_RATE_PER_KEY", "600/m")
OPEN311_PAGE_SIZE = int(os.environ.get("OPEN311_PAGE_SIZE", "200"))
# A report of the same category within this many days, and this close (metres)
# or with the same text, is flagged to the officer as a possible duplicate.
TRACKING_DUPLICATE_WINDOW_DAYS = int(
    os.environ.get("TRACKING_DUPLICATE_WINDOW_DAYS", "7")
)
TRACKING_DUPLICATE_DISTANCE_M = int(
    os.environ.get("TRACKING_DUPLICATE_DISTANCE_M", "200")
)
# django-ratelimit counts in the default cache; the checks it would run as an
# installed app are not wanted (it is used as a library).
RATELIMIT_USE_CACHE = "default"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "8890 News+ officer API",
    "DESCRIPTION": "Cases, their timelines and transitions, for hotline officers "
    "and department liaisons.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "PREPROCESSING_HOOKS": ["tracking.api.schema.only_this_api"],
    # Choice sets used under several field names get one component each.
    "ENUM_NAME_OVERRIDES": {
        "StateEnum": "tracking.models.State",
        "CaseChannelEnum": "tracking.models.Channel",
        "ResponseChannelEnum": "tracking.models.ResponseChannel",
        "RegisterChannelEnum": "tracking.api.serializers.REGISTER_CHANNELS",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
    },
}
