"""Settings shared by every mode. Every value is read through one ``env`` object.

With no environment set this gives the embedded mode of SPEC §2 (SQLite, local files under ``var/``, a
file-based cache every process shares, eager Celery with the periodic tasks run in the web process, signed
packages required, console email). Every variable is documented in docs/configuration.md.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="insecure-embedded-dev-key-change-me")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "mosis.core.views.csrf_failure"
# Absolute URLs come from SITE_URL when set, else from the request's host (mosis.core.siteurl).
SITE_URL = env("SITE_URL", default="")
# Without SITE_URL: the address outside a request (workers, commands) and the one stored listing documents name
# (a request to another host gets answers built for it).
DEFAULT_SITE_URL = "http://127.0.0.1:8000"
# Proxies in front of the store that append to X-Forwarded-For (mosis.core.clientip); 0 ignores the header.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
MOSIS_VERSION = "0.1.0"
# The store's name in page titles and emails; applied to django.contrib.sites' Site on every migrate
# (portal.services.site_sync), so allauth's emails name it instead of "example.com".
SITE_NAME = env("SITE_NAME", default="Mosis Store")

INSTALLED_APPS = [
    "mosis.apps.ReviewConsoleAdminConfig",  # django.contrib.admin with the review console's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.postgres",
    "django_prometheus",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's assets served from static files: /v1/docs works offline
    "csp",
    "django_filters",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.google",
    "axes",
    "mosis.core",
    "accounts",
    "apps",
    "versions",
    "store",
    "telemetry",
    "portal",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "mosis.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "mosis.core.middleware.ApiErrorMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked admin/browser sign-in into accounts.lockout's 429
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "mosis.urls"
WSGI_APPLICATION = "mosis.wsgi.application"
SITE_ID = 1

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
                "portal.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'mosis.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Persistent connections: a new PostgreSQL connection per request costs ~6x throughput (SPEC §2).
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    # SQLite (embedded mode): the web process, the in-process periodic tasks and a `manage.py` in another
    # process all write to one file. WAL lets readers go on while one writes; IMMEDIATE transactions take the
    # write lock when they begin, so two writers queue (up to `timeout` seconds) instead of one failing at
    # once with "database is locked" when its read transaction tries to become a write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# The hottest single-row reads as prepared statements (mosis.core.db); False behind a transaction-pooling
# PgBouncer, which cannot keep them.
DB_PREPARED_READS = env.bool("DB_PREPARED_READS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (and rate-limit counters) -------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    CACHES = {
        "default": {
            "BACKEND": "mosis.core.cache.RedisCache",  # clear() deletes only KEY_PREFIX keys, never FLUSHDB
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="mosis"),
            "OPTIONS": {
                # One connection held per thread's client (mosis.core.cache explains why).
                "REDIS_CLIENT_KWARGS": {"single_connection_client": True},
                # A connection Redis dropped (restart, idle timeout) is reopened and the command sent once
                # more at once, so a dropped connection never becomes an error or a failed-open rate limit.
                "CONNECTION_POOL_KWARGS": {"retry": Retry(NoBackoff(), 1)},
            },
        }
    }
else:
    # Embedded mode: a cache every process shares (SPEC §2), so a `manage.py` command's change (a status,
    # a rollup) reaches the running server at once, and rate-limit counters are counted across processes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env("CACHE_DIR", default=str(VAR_DIR / "cache")),
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="mosis"),
            # Django's default (300) would cull a third of the entries, generation counters included, as soon
            # as a browsing session filled it; past this many files a third is dropped (they are rebuilt).
            "OPTIONS": {"MAX_ENTRIES": env.int("CACHE_MAX_ENTRIES", default=20000)},
        }
    }
STORE_CACHE_TTL = env.int("STORE_CACHE_TTL", default=300)
# A cached search page (a query with words) is fresh for less: an app that newly matches it is not tracked
# (docs/architecture.md, Caches). Past its freshness a page is still served for STORE_CACHE_STALE seconds
# while one request rebuilds it; a request that finds another building a missing page waits up to
# STORE_REBUILD_WAIT seconds for its result.
STORE_SEARCH_TTL = env.int("STORE_SEARCH_TTL", default=60)
STORE_CACHE_STALE = env.int("STORE_CACHE_STALE", default=60)
STORE_REBUILD_WAIT = env.float("STORE_REBUILD_WAIT", default=2.0)
# What a download resolves to (version, key, size, hashes; ~0.5 KB per package and selector) is keyed by the
# package's store generations, so it is never stale: its TTL only bounds memory. Longer than the served
# documents' so an app downloaded every few minutes keeps the one-round-trip path (STORE_CACHE_TTL=0 turns
# it off with the rest).
DOWNLOAD_TARGET_TTL = env.int("DOWNLOAD_TARGET_TTL", default=3600)
# The catalog document is a file in package storage, rebuilt by a Celery task at most once per debounce
# period after a change; each web process re-reads its small meta row at most once per memo period
# (docs/api/store.md, Catalog; docs/operations.md, The catalog).
CATALOG_REBUILD_DEBOUNCE = env.int("CATALOG_REBUILD_DEBOUNCE", default=30)
CATALOG_META_MEMO_SECONDS = env.float("CATALOG_META_MEMO_SECONDS", default=1.0)
# S3 only: "redirect" (302 to a presigned GET URL living CATALOG_URL_EXPIRES seconds) or "stream" (the
# object's bytes through this server, chunk by chunk). Local storage always streams the file.
CATALOG_DELIVERY = env.str("CATALOG_DELIVERY", default="redirect")
if CATALOG_DELIVERY not in ("redirect", "stream"):
    raise ValueError("CATALOG_DELIVERY must be 'redirect' or 'stream'")
CATALOG_URL_EXPIRES = env.int("CATALOG_URL_EXPIRES", default=300)
# ?since= answers changes for this long (older: the full document), and at most this many changed apps.
CATALOG_DELTA_RETENTION_DAYS = env.int("CATALOG_DELTA_RETENTION_DAYS", default=30)
CATALOG_DELTA_MAX_APPS = env.int("CATALOG_DELTA_MAX_APPS", default=2000)
# Retry-After of the 503 a request gets while the first document is being built.
CATALOG_RETRY_AFTER = env.int("CATALOG_RETRY_AFTER", default=10)

# --- Auth ------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",  # first: refuses a locked account or address before any password check
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/portal/"  # a developer lands on their dashboard after signing in
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="optional")


def _oauth_app(client_id_var: str, secret_var: str) -> dict:
    """allauth's app of a provider, only when its client id is set: an unconfigured provider then has no
    app, so allauth's sign-in page shows no button for it and the API answers 503 naming these variables."""
    client_id = env(client_id_var, default="")
    return {"APP": {"client_id": client_id, "secret": env(secret_var, default="")}} if client_id else {}


SOCIALACCOUNT_PROVIDERS = {
    "github": {
        "SCOPE": ["read:user", "user:email"],
        **_oauth_app("GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET"),
    },
    "google": {
        "SCOPE": ["openid", "email", "profile"],
        **_oauth_app("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"),
    },
}
# accounts.oauth.SocialAccountAdapter: provider calls with our timeout, no redirects, bounded answers and
# provider errors turned into clear messages (the API flow and allauth's browser flow alike).
SOCIALACCOUNT_ADAPTER = "accounts.oauth.SocialAccountAdapter"
SOCIALACCOUNT_QUERY_EMAIL = True  # GitHub: read /user/emails for the verified addresses
# Where the API OAuth flow talks to the providers; overridable so tests answer them on 127.0.0.1.
OAUTH_ENDPOINTS = {
    "github": {
        "authorize": env("GITHUB_AUTHORIZE_URL", default="https://github.com/login/oauth/authorize"),
        "token": env("GITHUB_TOKEN_URL", default="https://github.com/login/oauth/access_token"),
        "user": env("GITHUB_USER_URL", default="https://api.github.com/user"),
        "emails": env("GITHUB_EMAILS_URL", default="https://api.github.com/user/emails"),
    },
    "google": {
        "authorize": env("GOOGLE_AUTHORIZE_URL", default="https://accounts.google.com/o/oauth2/v2/auth"),
        "token": env("GOOGLE_TOKEN_URL", default="https://oauth2.googleapis.com/token"),
        "user": env("GOOGLE_USER_URL", default="https://openidconnect.googleapis.com/v1/userinfo"),
    },
}
OAUTH_STATE_TTL = env.int("OAUTH_STATE_TTL", default=600)
OAUTH_HTTP_TIMEOUT = env.float("OAUTH_HTTP_TIMEOUT", default=10.0)
SOCIALACCOUNT_REQUESTS_TIMEOUT = OAUTH_HTTP_TIMEOUT

# Brute-force lockout of password sign-in (accounts/lockout.py, django-axes): per account name tried and
# per client IP, on the API, the admin and the browser sign-in.
AXES_ENABLED = env.bool("LOGIN_LOCKOUT_ENABLED", default=True)
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_USERNAME_CALLABLE = "accounts.lockout.attempted_account"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.attempt_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_DISABLE_ACCESS_LOG = True  # successes are not recorded; failures are (AccessAttempt rows)
AXES_VERBOSE = False

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=SECRET_KEY),
    "USER_ID_FIELD": "id",
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# --- REST framework --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "accounts.authentication.DeviceTokenAuthentication",
        "accounts.authentication.JWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "mosis.core.pagination.StandardPagination",
    "DEFAULT_THROTTLE_CLASSES": ["mosis.core.ratelimit.CategoryRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["mosis.core.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "mosis.core.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "mosis.core.schema.MosisAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mosis Store API",
    "DESCRIPTION": "App store and extension registry. See docs/api.md for a guide with curl examples.",
    "VERSION": MOSIS_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files, never a CDN (/v1/docs offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SCHEMA_PATH_PREFIX": r"/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "mosis.core.schema.pagination_component_hook",
    ],
    "SECURITY": [{"bearerAuth": []}],
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "JWT, mk_live_ API key or md_ device token",
            },
            "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
    },
}

# --- Rate limits (SPEC §3): "<count>/<period>" per category --------------------------------------------
RATE_LIMITS_ENABLED = env.bool("RATE_LIMITS_ENABLED", default=True)
RATE_LIMITS = {
    "auth": env("RATE_LIMIT_AUTH", default="10/m"),
    "read": env("RATE_LIMIT_READ", default="1000/h"),
    "write": env("RATE_LIMIT_WRITE", default="100/h"),
    "upload": env("RATE_LIMIT_UPLOAD", default="10/h"),
    "telemetry": env("RATE_LIMIT_TELEMETRY", default="10000/h"),
}
# Per-developer caps (issue "Trust" §3): active (unrevoked, unexpired) API keys, and apps created per UTC day.
MAX_ACTIVE_API_KEYS_PER_USER = env.int("MAX_ACTIVE_API_KEYS_PER_USER", default=25)
MAX_NEW_APPS_PER_DAY = env.int("MAX_NEW_APPS_PER_DAY", default=20)
IDEMPOTENCY_TTL_HOURS = 24

# --- Request limits (SPEC §11) ----------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_JSON_BODY", default=1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Storage ---------------------------------------------------------------------------------------------
STORAGE_BACKEND = env("STORAGE", default="local")  # local | s3
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
AWS_STORAGE_BUCKET_NAME = env("S3_BUCKET", default="mosis-packages")
AWS_S3_ENDPOINT_URL = env("S3_ENDPOINT_URL", default=None)
AWS_S3_REGION_NAME = env("S3_REGION", default="us-east-1")
AWS_S3_ADDRESSING_STYLE = env("S3_ADDRESSING_STYLE", default="path")
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_DEFAULT_ACL = None
AWS_QUERYSTRING_AUTH = True
AWS_S3_FILE_OVERWRITE = False
_package_storage = (
    {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"location": "packages"}}
    if STORAGE_BACKEND == "s3"
    else {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": f"{MEDIA_ROOT}/packages"},
    }
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "packages": _package_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# An upload URL lives at most 15 minutes (SPEC §5); a larger value is capped.
UPLOAD_URL_MAX_TTL = 900
UPLOAD_URL_TTL = min(env.int("UPLOAD_URL_TTL", default=UPLOAD_URL_MAX_TTL), UPLOAD_URL_MAX_TTL)
DOWNLOAD_URL_TTL = env.int("DOWNLOAD_URL_TTL", default=900)


# --- Content-Security-Policy (django-csp) for every page: no inline script or style anywhere ------------
def url_origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp_upload_origins() -> list[str]:
    """Where the portal's browser PUTs packages: this server (local storage) or the S3 endpoint."""
    if STORAGE_BACKEND != "s3":
        return []
    if AWS_S3_ENDPOINT_URL:
        origin = url_origin(AWS_S3_ENDPOINT_URL)
        scheme, host = origin.split("://", 1)
        return [origin, f"{scheme}://*.{host}"]  # path-style and virtual-hosted-style presigned URLs
    return ["https://*.amazonaws.com"]


CONTENT_SECURITY_POLICY = {
    # The admin's templates (the review console) still use inline style attributes: it keeps Django's
    # own headers until they are moved to a stylesheet.
    "EXCLUDE_URL_PREFIXES": ["/admin/"],
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # App icons and screenshots are developer-hosted https URLs; Swagger UI draws data: images.
        "img-src": [SELF, "data:", "https:"],
        "connect-src": [SELF, *csp_upload_origins(), *env.list("CSP_EXTRA_CONNECT_SRC", default=[])],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        # Sign-in with a provider posts to allauth, which redirects to the provider's authorize page.
        "form-action": [SELF, *sorted({url_origin(urls["authorize"]) for urls in OAUTH_ENDPOINTS.values()})],
    },
}

# --- Package rules ---------------------------------------------------------------------------------------
MAX_PACKAGE_SIZE = env.int("MAX_PACKAGE_SIZE", default=200 * 1024 * 1024)
# Signed packages only, in every mode (SPEC §7): the demo data is signed and `mosis publish` signs for you.
REQUIRE_SIGNATURE = env.bool("REQUIRE_SIGNATURE", default=True)
AUTO_PUBLISH_ON_APPROVAL = env.bool("AUTO_PUBLISH_ON_APPROVAL", default=False)
# A validation queued this long ago that no worker has started is re-queued by the sweeper.
VALIDATION_STUCK_MINUTES = env.int("VALIDATION_STUCK_MINUTES", default=5)
UPLOAD_ABANDONED_HOURS = env.int("UPLOAD_ABANDONED_HOURS", default=24)
APP_TYPES = env.list("APP_TYPES", default=["app", "extension", "theme", "provider", "taskserv", "cluster"])
# Seed 004's sources: where an app comes from. "mosis" = published in this store; a mirrored registry
# would add its own. ?source= on the store listing accepts these (anything else is a 400).
APP_SOURCES = env.list("APP_SOURCES", default=["mosis"])
ABUSE_HIDE_THRESHOLD = env.int("ABUSE_HIDE_THRESHOLD", default=3)
ABUSE_REPORT_IP_RATE = env("ABUSE_REPORT_IP_RATE", default="20/h")  # abuse reports per IP address
ABUSE_REPORT_REPEAT_HOURS = env.int("ABUSE_REPORT_REPEAT_HOURS", default=24)  # a repeat updates the report
# Only reporters with a verified email and an account this many days old count toward ABUSE_HIDE_THRESHOLD
# (0 turns the age rule off); every report still reaches staff.
ABUSE_REPORTER_MIN_AGE_DAYS = env.int("ABUSE_REPORTER_MIN_AGE_DAYS", default=3)
# New reports one reporter may file a day.
ABUSE_REPORTS_PER_USER_DAY = env.int("ABUSE_REPORTS_PER_USER_DAY", default=10)
DOWNLOAD_CLIENT_SALT = env("DOWNLOAD_CLIENT_SALT", default=SECRET_KEY)
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# BENCH_ENDPOINTS (default False): route GET /v1/_bench/floor, the fixed 2 KB "framework floor" view that
# bench/load.py compares store endpoints with (docs/performance.md). Only for benchmark servers.
BENCH_ENDPOINTS = env.bool("BENCH_ENDPOINTS", default=False)

# --- Telemetry and webhooks (docs/api/telemetry.md, docs/api/webhooks.md) -------------------------------
# Raw events older than this are refused at ingestion and dropped with their monthly partition (PostgreSQL).
TELEMETRY_RETENTION_DAYS = env.int("TELEMETRY_RETENTION_DAYS", default=90)
# Development only: deliver webhooks to loopback/private addresses and over plain http.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
# Seconds a webhook delivery may take in all (connect, TLS, request, response); connecting alone gets a third.
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10.0)
# CA bundle (PEM file) webhook receivers' certificates are verified against; empty: certifi's.
WEBHOOK_CA_BUNDLE = env("WEBHOOK_CA_BUNDLE", default="")

# --- Celery ----------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# With a Redis broker an unacknowledged task (acks_late) goes back to the queue after the visibility timeout:
# one minute past the hard time limit, so a killed worker's task comes back in minutes, not Redis' default
# hour (RabbitMQ redelivers as soon as the worker's connection drops). docs/operations.md.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
# Embedded mode has no beat process: the web process runs the same schedule in a thread (mosis.core.periodic).
PERIODIC_IN_PROCESS = env.bool("PERIODIC_IN_PROCESS", default=CELERY_TASK_ALWAYS_EAGER)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# --- Email -----------------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Mosis Store <store@mosis.dev>")
STAFF_NOTIFY_EMAILS = env.list("STAFF_NOTIFY_EMAILS", default=["staff@mosis.dev"])

# --- Review console (docs/review-console.md) ----------------------------------------------------------
# How long a reviewer's claim on a version lasts, and when a version's size change since the app's last
# published version is flagged (it must pass both the percentage and the bytes).
REVIEW_CLAIM_MINUTES = env.int("REVIEW_CLAIM_MINUTES", default=60)
REVIEW_LARGE_SIZE_CHANGE_PERCENT = env.int("REVIEW_LARGE_SIZE_CHANGE_PERCENT", default=50)
REVIEW_LARGE_SIZE_CHANGE_MIN_BYTES = env.int("REVIEW_LARGE_SIZE_CHANGE_MIN_BYTES", default=1024 * 1024)

# --- i18n ------------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Logging: JSON lines with the request id -----------------------------------------------------------
LOG_FORMAT = env("LOG_FORMAT", default="text")  # text | json
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "mosis.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "mosis.core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        # axes logs every failure with the name and IP masked; accounts.lockout logs each lock with both.
        "axes": {"level": "ERROR"},
    },
}
if PERIODIC_IN_PROCESS:
    # The embedded server runs the beat schedule itself: two INFO lines per task every 30 s would bury what
    # a newcomer looks for in the `make run` console. Failures still log (ERROR).
    LOGGING["loggers"].update({"celery.beat": {"level": "WARNING"}, "celery.app.trace": {"level": "WARNING"}})
