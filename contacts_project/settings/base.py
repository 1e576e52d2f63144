"""Settings of the service, read from the environment (see docs/configuration.md)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from contacts_project.db_pool import connection_check, reconnect_again

from .env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", False)
# HTTPS=true is production behind TLS: secure cookies, HSTS, redirects to https, and a
# SECRET_KEY that must come from the environment.
HTTPS = env_bool("HTTPS", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if HTTPS:
        raise ImproperlyConfigured("SECRET_KEY must be set when HTTPS=true")
    # The embedded default must start with no configuration; production sets SECRET_KEY.
    SECRET_KEY = "insecure-embedded-default-set-SECRET_KEY-in-production"
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # TLS ends at the load balancer
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", True)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Single-page apps on other origins call the API with bearer tokens (no cookies).
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", [])
CORS_URLS_REGEX = r"^/(api|o)/.*$"
CORS_ALLOW_HEADERS = ["authorization", "content-type", "idempotency-key"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "oauth2_provider",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks_db",
    "contacts_project",
    "accounts",
    "lists",
    "contacts",
    "quotas",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "contacts_project.middleware.RequestSizeLimitMiddleware",
    "contacts_project.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "contacts_project.urls"
ASGI_APPLICATION = "contacts_project.asgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/api/docs/"

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
            ],
        },
    },
]


def _pool() -> dict:
    """A PostgreSQL connection pool per process (docs/configuration.md has the sizing).

    A request or a job takes a connection that is already open, with its server process's
    caches warm, instead of opening one (~10-20 ms). Connections are checked before use, so
    a database restart costs no request. With the database out of reach a request waits
    DB_POOL_TIMEOUT for a connection, then answers 503.
    """
    min_size = env_int("DB_POOL_MIN_SIZE", 1)
    max_size = env_int("DB_POOL_MAX_SIZE", 20, minimum=1)
    if min_size > max_size:
        raise ImproperlyConfigured(f"DB_POOL_MIN_SIZE ({min_size}) must not exceed DB_POOL_MAX_SIZE ({max_size})")
    timeout = env_int("DB_POOL_TIMEOUT", 3, minimum=1)
    # The pool retries a lost connection with a backoff that doubles each time; left to its
    # default it keeps at it for five minutes, so after a long outage its next try could be
    # two minutes off while every request timed out. Restarted after half a request's wait,
    # it never waits longer than that between tries: with the database back, the first
    # request to come gets a connection.
    return {
        "min_size": min_size,
        "max_size": max_size,
        "timeout": timeout,
        "reconnect_timeout": timeout / 2,
        "reconnect_failed": reconnect_again,
        "check": connection_check,
    }


def _database(url: str) -> dict:
    try:
        config = dj_database_url.parse(url)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL and IMMEDIATE transactions let the server and the background work
        # write to one SQLite file without "database is locked" errors.
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config["CONN_HEALTH_CHECKS"] = True
        pool = _pool()
        # A connection attempt to a host that does not answer gives up after 2 s (libpq's
        # least) rather than holding the pool's attempt for minutes. No JIT compilation:
        # the planner has no statistics of a bulk chunk's temporary tables nor of a JSON
        # array of keys, its guesses grow with the account, and past jit_above_cost
        # PostgreSQL spent ~0.3 s compiling a query that runs in ~10 ms; no query of ours
        # runs long enough to gain from it.
        # What DATABASE_URL's query gives (sslmode, options...) is kept.
        options = config.get("OPTIONS", {})
        config["OPTIONS"] = {
            **options,
            "pool": pool,
            "connect_timeout": 2,
            "options": f"{options.get('options', '')} -c jit=off".strip(),
        }
    else:
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:/// URL")
    return config


DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channels: Redis when REDIS_URL is set, else the in-memory layer. The in-memory layer
# does not cross processes, so then the background work runs inside the server process.
REDIS_URL = env_str("REDIS_URL")
# Channel-layer messages carry up to this many events each (see realtime/events.py).
REALTIME_EVENTS_PER_MESSAGE = env_int("REALTIME_EVENTS_PER_MESSAGE", 2500, minimum=1)
# A socket's channel holds at most this many undelivered messages; past it channels-redis
# drops group messages silently, so it is sized far above what concurrent jobs queue.
_CHANNEL_CAPACITY = env_int("CHANNEL_CAPACITY", 5000, minimum=100)
# Seconds a channel stays in a group after it last joined: the layers' failsafe that drops
# the memberships of a server that died without leaving. An open socket joins again every
# quarter of this (realtime/consumers.py), so it never loses its user's events.
_CHANNEL_GROUP_EXPIRY = env_int("CHANNEL_GROUP_EXPIRY", 86400, minimum=2)
# A server reads its sockets' messages with a blocking pop of up to 5 seconds
# (channels-redis' brpop_timeout); redis-py gives up on a read after 5 seconds unless told
# otherwise, so a socket with nothing to receive for that long lost the race and was
# closed with 1011. Reads wait longer than the pop; connecting still gives up at 5.
_CHANNEL_REDIS_READ_TIMEOUT = 15
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "realtime.channel_layer.RedisChannelLayer",  # channels-redis's, losing no message
            "CONFIG": {
                "hosts": [
                    {"address": REDIS_URL, "socket_timeout": _CHANNEL_REDIS_READ_TIMEOUT, "socket_connect_timeout": 5}
                ],
                "prefix": env_str("CHANNELS_REDIS_PREFIX", "contacts"),
                "capacity": _CHANNEL_CAPACITY,
                "expiry": 300,
                "group_expiry": _CHANNEL_GROUP_EXPIRY,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": _CHANNEL_CAPACITY, "expiry": 300, "group_expiry": _CHANNEL_GROUP_EXPIRY},
        }
    }
# Whether each server process also runs the background work in a thread of its own.
EMBEDDED_WORKER = env_bool("EMBEDDED_WORKER", not REDIS_URL)
if not EMBEDDED_WORKER and not REDIS_URL:
    raise ImproperlyConfigured("EMBEDDED_WORKER=false needs REDIS_URL: events must cross processes")

# The task queue this deployment's servers fill and its workers empty; deployments (or test
# runs) sharing one database keep apart by naming different queues.
BULK_QUEUE = env_str("BULK_QUEUE", "default")
# "default" too: tasks are declared on it before `.using(queue_name=BULK_QUEUE)` moves them.
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
         "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "contacts")}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": sorted({"default", BULK_QUEUE})}}
# How often an idle worker looks for queued jobs, in seconds, should it miss a wake-up
# (contacts/worker_wakeup.py): a job stored wakes the workers at once.
WORKER_POLL_INTERVAL = float(env_str("WORKER_POLL_INTERVAL", "1"))

# A 10,000-contact body with every field but vars at its maximum length (~131 MiB) fits.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 160 * 1024 * 1024, minimum=1024)
# Request bodies (and uploads) up to this size stay in memory: a 10,000-contact body of
# ~6 MB is read without a round trip through a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "contacts_project.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["contacts_project.permissions.HasContactsScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["contacts_project.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "contacts_project.exceptions.api_exception_handler",
    # Per user (all its tokens and sessions), counted in the shared cache so the limits
    # hold across processes; the bulk route has a limit of its own.
    "DEFAULT_THROTTLE_CLASSES": ["contacts_project.throttling.CallerRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api": env_rate("API_RATE_LIMIT", "1200/min"),
        "bulk": env_rate("BULK_RATE_LIMIT", "120/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

OAUTH2_PROVIDER = {
    "SCOPES": {
        "contacts:read": "Read lists, contacts, bulk jobs and quotas",
        "contacts:write": "Create and update lists and contacts",
    },
    "DEFAULT_SCOPES": ["contacts:read", "contacts:write"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("ACCESS_TOKEN_EXPIRE_SECONDS", 3600, minimum=60),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("REFRESH_TOKEN_EXPIRE_SECONDS", 30 * 86400, minimum=60),
    "ROTATE_REFRESH_TOKEN": True,
    # Loopback http redirects are how native and local apps receive codes (RFC 8252).
    "ALLOWED_REDIRECT_URI_SCHEMES": env_list("OAUTH_REDIRECT_SCHEMES", ["https", "http"]),
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # RFC 9700 (OAuth 2.0 Security BCP), adopted: no implicit or password grant, S256 PKCE
    # only, tokens never in URLs of HTTP requests, `iss` in authorization responses, tokens
    # stored hashed.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}
# Plain-http redirect URIs stay allowed for native apps' loopback callbacks (RFC 8252);
# set OAUTH_REDIRECT_SCHEMES=https to refuse them.
SILENCED_SYSTEM_CHECKS = ["oauth2_provider.W008"]

SPECTACULAR_SETTINGS = {
    "TITLE": "Contacts API",
    "DESCRIPTION": (
        "Create and update up to 10,000 contacts in one request, with live progress "
        "over WebSocket. See the README for the event protocol."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1: the body's schema (from pydantic) uses JSON Schema's "null" type.
    "OAS_VERSION": "3.1.0",
}

STATIC_URL = "/static/"
# Static files are served from the apps' folders by WhiteNoise: no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# A running job whose heartbeat is older than this is resumed by another worker; workers
# look for such jobs every BULK_RECOVERY_INTERVAL seconds.
BULK_JOB_STALE_SECONDS = env_int("BULK_JOB_STALE_SECONDS", 30, minimum=1)
BULK_RECOVERY_INTERVAL = float(env_str("BULK_RECOVERY_INTERVAL", "5"))
# Resumes in a row without a chunk committed, after which a job fails (10: five minutes).
BULK_MAX_STALLED_RESUMES = env_int("BULK_MAX_STALLED_RESUMES", 10, minimum=1)

# Rows a bulk job commits (and announces) at a time.
BULK_CHUNK_SIZE = env_int("BULK_CHUNK_SIZE", 2500, minimum=1)
# Each server process validates the second half of a body of 2,000 contacts or more in a
# helper process while its request validates the first (contacts/validation_helper.py).
BULK_VALIDATION_HELPER = env_bool("BULK_VALIDATION_HELPER", True)
# On PostgreSQL, a chunk whose rows cannot affect each other's matches is applied by
# PostgreSQL itself (contacts/upsert_sql.py); false applies every chunk row by row in Python.
BULK_SQL_APPLY = env_bool("BULK_SQL_APPLY", True)
# On PostgreSQL, a job's chunks alternate between two connections, each copying the next
# chunk's rows while the other applies its own (contacts/chunk_connections.py): a worker
# holds two connections of its pool while it processes a job of more than one chunk.
BULK_SECOND_CONNECTION = env_bool("BULK_SECOND_CONNECTION", True)
