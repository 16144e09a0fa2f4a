"""Settings every environment shares: each contract variable is declared here once, with its type and default.

avitogw/settings/__init__.py has already read `.env`; it then takes these through one of
production.py, local.py or test.py (AVITOGW_ENV). A bad value stops start-up with a message
naming it (core.environment). With no REDIS_URL and no DATABASE_URL the gateway runs on SQLite
and embedded fallbacks, with no services at all. Importing this creates nothing on disk: the
folders under DATA_DIR are made at start-up (avitogw/apps.py).
"""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from core.environment import (
    env,
    read_bool,
    read_choice,
    read_float,
    read_host_ports,
    read_int,
    read_list,
    read_origins,
    read_rate,
    read_str,
    read_url,
    read_renamed,
)
from core.logs import logging_config
from bulk.task_names import BULK_ITEM_RESOLVE, BULK_ITEM_SEND
from core.work.task_names import WORK_SWEEP
from messenger.task_names import TOKEN_REFRESH
from reconcile.task_names import RECONCILE_TICK
from webhooks.task_names import IGNORED_EVENTS_PRUNE

BASE_DIR = Path(__file__).resolve().parents[2]

# --- Which environment (the gateway's own variable, not the contract's) ----------------------
# production (the default: what ./run.sh and docker compose run), local (practising with the
# sandbox: DEBUG on unless set) or test, which pytest's process always gets. A bad value stops
# start-up even there.
ENVIRONMENTS = ("production", "local", "test")
TESTING = "pytest" in sys.modules or read_bool("AVITOGW_TESTING", False)
AVITOGW_ENV = read_choice("AVITOGW_ENV", "production", ENVIRONMENTS)
if TESTING:
    AVITOGW_ENV = "test"

DATA_DIR = Path(read_str("DATA_DIR") or BASE_DIR / "data")
# Prometheus counts of every process (core/metrics.py), one file per process; made at start-up
# (avitogw.apps), emptied by ./run.sh. prometheus_client picks multiprocess mode from this variable
# when it is imported, and settings load before it in every process; the folder is always this one.
METRICS_DIR = DATA_DIR / "metrics"
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_DIR)
# Writes a send could not make while the database was unreachable, kept until it is back
# (core.pending_writes); per machine, so it must survive a restart of the process.
PENDING_WRITES_DIR = DATA_DIR / "pending-writes"

VERSION = "0.1.0"

# --- Django's own -------------------------------------------------------------------------
DEBUG = read_bool("DEBUG", AVITOGW_ENV == "local")
INSECURE_KEYS = {"", "change-me", "changeme", "secret"}
SECRET_KEY_MIN_LENGTH = 32  # production refuses a shorter SECRET_KEY (./run.sh writes 67 characters)
# Where a missing key is allowed (DEBUG, tests) the process makes up its own at every start: no key is
# written in the code for anyone to read, at the price that sessions (admin logins) do not survive a
# restart and each process has another key (the web process says so at start, avitogw.startup).
GENERATED_SECRET_KEY = secrets.token_urlsafe(50)
# No default: a missing or placeholder key is refused unless the environment's module allows it
# (production.py and local.py under DEBUG, test.py always), through secret_key_checked.
SECRET_KEY = read_str("SECRET_KEY")


def secret_key_checked(key: str, *, placeholder_allowed: bool, minimum_length: int = 0) -> str:
    """The key itself; a missing, placeholder or short one stops start-up (or, where allowed, this process's own)."""
    if key not in INSECURE_KEYS:
        if len(key) < minimum_length:
            raise ImproperlyConfigured(
                f"SECRET_KEY is {len(key)} characters long; it needs at least {minimum_length} random "
                "ones (python3 -c 'import secrets; print(secrets.token_urlsafe(50))')."
            )
        return key
    if not placeholder_allowed:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or a placeholder. Set a long random value in the environment or "
            ".env (the README's run command writes one for you)."
        )
    return GENERATED_SECRET_KEY


# The host of PUBLIC_BASE_URL (read below, with Avito's settings) is always one the gateway answers to.
ALLOWED_HOSTS = read_list("ALLOWED_HOSTS") or (["*"] if DEBUG else ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "avitogw.apps.GatewayConfig",  # management commands (metrics_reset, avito_sandbox); DATA_DIR's folders at start-up
    "avitogw.admin_site.GatewayAdminConfig",  # django.contrib.admin, named avitogw, with a status board
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc files, served from /static/ (no CDN)
    "django_ratelimit",
    "messenger",
    "accounts",  # the Avito accounts the gateway serves (issue 22): above messenger, below webhooks
    "bulk",
    "webhooks",
    "reconcile",
    "inbox",  # the staff inbox: admin pages composing messenger and webhooks
]  # not the sandbox: it is a program of its own (`manage.py avito_sandbox` launches it), in no settings

MIDDLEWARE = [
    "core.request_id.RequestIdMiddleware",  # X-Request-ID in and out; the id on every log line of the request
    "avitogw.exception_handler.DatabaseOutageMiddleware",  # our database unreachable: 503, not 500 (outside DRF)
    "django.middleware.security.SecurityMiddleware",
    "avitogw.content_security.ContentSecurityPolicyMiddleware",  # on every answer, the 413s and 429s too
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "avitogw.api_guard.ApiGuardMiddleware",  # API_KEY (or loopback only) and API_RATE_LIMIT on /api/*, /metrics
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "avitogw.body_cap.BodyCapMiddleware",  # 413 before a body is read: REQUEST_BODY_MAX_BYTES, more on /api/*, staff reply
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "avitogw.urls"
WSGI_APPLICATION = "avitogw.wsgi.application"
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

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = read_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'avitogw.sqlite3'}"
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take SQLite's write lock up front, so the processes of one
    # machine serialize on it instead of failing with "database is locked" on upgrade;
    # the database-backed rate limiter and token lease rely on that.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 30, "init_command": "PRAGMA journal_mode=WAL;"}
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg sends the values apart from the statement (and prepares a statement used often) instead
    # of quoting each value, the notification's JSON too, into a new statement: in the webhook's
    # profile that quoting was an eighth of the request (docs/benchmarks.md, issue 12).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("server_side_binding", True)
# Connections persist across requests. No CONN_HEALTH_CHECKS: it costs a `SELECT 1` round trip on
# every request, as much as the webhook's own INSERT. A connection the database dropped fails one
# request instead (a JSON 500, and Django discards it); the webhook retries its INSERT on a new one.
DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Avito ----------------------------------------------------------------------------------
AVITO_CLIENT_ID = read_str("AVITO_CLIENT_ID")
AVITO_CLIENT_SECRET = read_str("AVITO_CLIENT_SECRET")
AVITO_USER_ID = read_int("AVITO_USER_ID", 0, minimum=0)
AVITO_API_BASE_URL = read_url("AVITO_API_BASE_URL", "https://api.avito.ru")
RATE_LIMIT_REQUESTS = read_int("RATE_LIMIT_REQUESTS", 100, minimum=1)
RATE_LIMIT_WINDOW = read_float("RATE_LIMIT_WINDOW", 60, minimum=0.001)
MAX_CONNECTIONS = read_int("MAX_CONNECTIONS", 20, minimum=1)
MAX_RETRIES = read_int("MAX_RETRIES", 3, minimum=0)
RETRY_BACKOFF_BASE = read_float("RETRY_BACKOFF_BASE", 1.0, minimum=0)
CONNECTION_TIMEOUT = read_float("CONNECTION_TIMEOUT", 30, minimum=0.001)
AVITO_WEBHOOK_SECRET = read_str("AVITO_WEBHOOK_SECRET")
# Without AVITO_WEBHOOK_SECRET, is /webhook/avito refused (404)? On in production.py: there a forged
# "customer message" would reach n8n and the staff inbox. Elsewhere the bare path takes notifications.
WEBHOOK_SECRET_REQUIRED = False
PUBLIC_BASE_URL = read_url("PUBLIC_BASE_URL")
IMAGE_URL_ALLOW_PRIVATE = read_bool("IMAGE_URL_ALLOW_PRIVATE", False)
# host[:port] entries (names or IPs, [IPv6]:port) that bulk callback_url and image_url may reach even on
# loopback or private addresses, on that port only (no port: 80 for http, 443 for https; core/url_guard.py).
# N8N_WEBHOOK_URL's host is always allowed for callbacks, on its port.
CALLBACK_ALLOWED_HOSTS = read_host_ports("CALLBACK_ALLOWED_HOSTS")

# --- n8n delivery ---------------------------------------------------------------------------
N8N_WEBHOOK_URL = read_url("N8N_WEBHOOK_URL")
N8N_WEBHOOK_SECRET = read_str("N8N_WEBHOOK_SECRET")
N8N_FORWARD_MAX_ATTEMPTS = read_int("N8N_FORWARD_MAX_ATTEMPTS", 12, minimum=1)
N8N_FORWARD_BACKOFF_BASE = read_float("N8N_FORWARD_BACKOFF_BASE", 10, minimum=0)
N8N_FORWARD_BACKOFF_MAX = read_float("N8N_FORWARD_BACKOFF_MAX", 3600, minimum=0)
FORWARD_OWN_MESSAGES = read_bool("FORWARD_OWN_MESSAGES", False)
# Attempts at processing an incoming event (Avito look-ups, storing) and their backoff, before it is
# `failed`. Until this release N8N_FORWARD_* governed them too; they still do, with a warning, while unset.
EVENT_MAX_ATTEMPTS = read_renamed("EVENT_MAX_ATTEMPTS", "N8N_FORWARD_MAX_ATTEMPTS", read_int, 12, minimum=1)
EVENT_BACKOFF_BASE = read_renamed("EVENT_BACKOFF_BASE", "N8N_FORWARD_BACKOFF_BASE", read_float, 10, minimum=0)
EVENT_BACKOFF_MAX = read_renamed("EVENT_BACKOFF_MAX", "N8N_FORWARD_BACKOFF_MAX", read_float, 3600, minimum=0)
# Seconds between polls for messages whose notification never arrived (reconcile/); 0 = off.
RECONCILE_INTERVAL = read_int("RECONCILE_INTERVAL", 60, minimum=0)

# --- The gateway's own API ------------------------------------------------------------------
API_KEY = read_str("API_KEY")
# Keys of the accounts' secrets at rest (Fernet keys, comma list): the first encrypts, every one decrypts,
# so a new key goes first and the old ones stay until `manage.py rotate_encryption_keys` has run.
# ./run.sh writes one into a new .env. Needed once an account other than `default` is added.
ENCRYPTION_KEYS = read_list("ENCRYPTION_KEYS")
API_RATE_LIMIT = read_rate("API_RATE_LIMIT", "600/m")
# Failed admin sign-ins before the next is refused unchecked (avitogw/login_throttle.py), counted in the cache.
ADMIN_LOGIN_FAILURES_PER_USERNAME = "10/5m"
ADMIN_LOGIN_FAILURES_PER_ADDRESS = "30/5m"
SERVER_HOST = read_str("SERVER_HOST", "0.0.0.0")
SERVER_PORT = read_int("SERVER_PORT", 8765, minimum=1)

# --- Behind a TLS proxy (docs/security.md) ------------------------------------------------
# The gateway speaks plain HTTP; TLS ends at a reverse proxy in front of it. An https
# PUBLIC_BASE_URL says browsers come over TLS: the session and CSRF cookies are then sent over
# TLS only, and that origin is trusted by the CSRF check (a proxy on another address, say a
# compose network, makes the request look like plain http to Django, whose Origin check would
# otherwise refuse the admin login).
_public = urlsplit(PUBLIC_BASE_URL)
PUBLIC_ORIGIN = f"{_public.scheme}://{_public.netloc}" if PUBLIC_BASE_URL else ""
if _public.hostname and "*" not in ALLOWED_HOSTS:
    ALLOWED_HOSTS.append(f"[{_public.hostname}]" if ":" in _public.hostname else _public.hostname)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _public.scheme == "https"
# More origins (scheme://host[:port]) whose browser forms may post to the admin, e.g. a second name.
CSRF_TRUSTED_ORIGINS = [*([PUBLIC_ORIGIN] if PUBLIC_ORIGIN else []),
                        *read_origins("CSRF_TRUSTED_ORIGINS")]
# Believe X-Forwarded-Proto: https (request.is_secure(), HSTS, the CSRF Referer check) only when the
# operator says a proxy in front sets it; otherwise anyone reaching the port could claim TLS.
TRUST_X_FORWARDED_PROTO = read_bool("TRUST_X_FORWARDED_PROTO", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUST_X_FORWARDED_PROTO else None
# Strict-Transport-Security on TLS answers, opt-in: once a browser has seen it, it refuses plain http to
# this host for that long. Subdomains of the gateway's own host are included (they are its own).
HSTS_SECONDS = read_int("HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_SECONDS = HSTS_SECONDS
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SILENCED_SYSTEM_CHECKS = [
    # SECURE_SSL_REDIRECT: the proxy redirects http to https (Caddy by default, docs/security.md's nginx
    # example too). The gateway's own port is plain http on purpose, for n8n and the proxy on the inside;
    # redirecting those callers would break them, and behind the proxy Django cannot tell who they are.
    "security.W008",
    # SECURE_HSTS_PRELOAD: the preload list is the registrable domain's owner's decision, made at
    # hstspreload.org for the whole domain from its apex; the gateway runs on a host name within it.
    "security.W021",
]

# --- Redis, cache, Celery -------------------------------------------------------------------
REDIS_URL = read_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "avitogw",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 5, "SOCKET_TIMEOUT": 5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # django-ratelimit (API_RATE_LIMIT) wants a shared atomic cache. Without Redis it counts in
    # each process's memory on purpose (atomic within the process): every web process enforces
    # the limit on its own, and no extra service is needed. See avitogw/api_guard.py.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

# Without Redis the broker is a SQLite file beside the database (core/broker.py says why
# this transport); nothing is created until a process first opens it.
CELERY_BROKER_URL = read_str("CELERY_BROKER_URL") or REDIS_URL or f"sqla+sqlite:///{DATA_DIR / 'broker.sqlite3'}"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith(("sqla+", "sqlalchemy+")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # An idle worker looks for new messages this often (kombu's default, 1 s, would be added
        # to almost every wake-up); each look is a read per queue, ~2% of a core when idle. A
        # worker whose slots are all busy looks for a free one far more often, without asking
        # the database (core/broker.py, SLOT_POLL).
        "polling_interval": 0.05,
    }
CELERY_TASK_IGNORE_RESULT = True
# Every task is killed after this long: a task that hangs must not hold its rows for ever (the
# engine's heartbeat renews a lease as long as its process lives). A drain hands over to a
# fresh one after DRAIN_SECONDS; bulk sends are queued with a shorter limit of their own.
CELERY_TASK_TIME_LIMIT = 900
# No soft limit (CELERY_TASK_SOFT_TIME_LIMIT): SoftTimeLimitExceeded is an ordinary Exception raised
# wherever the task happens to be, and the engine's handlers catch every Exception to record it as
# the work's outcome (a bulk send classified as failed or unknown, an event's processing error), so
# a soft limit would be written down as if Avito or n8n had failed. The hard limit instead kills
# the process; its rows' leases run out and the sweep hands them to another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes every database connection after each task unless this is set:
# a new PostgreSQL connection per task took about half the machine's CPU in
# bench/delivery_throughput.py. Set, it closes them only every 2 x this many tasks; between,
# avitogw.celery applies Django's per-request rule (CONN_MAX_AGE, broken connections dropped).
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "avito-token-refresh": {"task": TOKEN_REFRESH, "schedule": 300.0},
    # The engine's one sweep (core.work.sweep): takes back the rows of workers that died (their
    # lease ran out) and re-wakes whatever is due whose wake-up was lost, for every kind of work: a
    # stored event whose wake-up was lost (a broker or database restart) is picked up within ~10 s.
    "work-sweep": {"task": WORK_SWEEP, "schedule": 5.0},
    # Ignored notifications (unknown types, junk) are kept a week (webhooks.retention).
    "webhooks-ignored-prune": {"task": IGNORED_EVENTS_PRUNE, "schedule": 3600.0,
                               "options": {"expires": 3600.0}},
}
if RECONCILE_INTERVAL:
    # Looks for messages whose notification never came; a tick not run within its interval is
    # dropped (a worker that was down does not run a pile of them back to back).
    CELERY_BEAT_SCHEDULE["reconcile"] = {"task": RECONCILE_TICK, "schedule": float(RECONCILE_INTERVAL),
                                         "options": {"expires": float(RECONCILE_INTERVAL)}}
# Task modules outside an app's own `tasks.py` (which autodiscovery finds by itself).
CELERY_IMPORTS = ("core.work.tasks",)
# Bulk sends have a queue of their own, which every worker consumes too: a campaign of a
# thousand messages (ten minutes at Avito's default limit) then takes turns with incoming
# messages instead of standing in front of their delivery to n8n.
CELERY_TASK_QUEUES = (Queue("celery", routing_key="celery"), Queue("bulk", routing_key="bulk"))
CELERY_TASK_ROUTES = {BULK_ITEM_SEND: {"queue": "bulk"}, BULK_ITEM_RESOLVE: {"queue": "bulk"}}

# --- REST framework and docs ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON in (contract §2): DRF's parser, plus lone surrogates and deep nesting refused. Only the image
    # send also takes multipart/form-data (messenger/api/messages.py), so the document says just that.
    "DEFAULT_PARSER_CLASSES": ["core.json_input.StorableJSONParser"],
    "EXCEPTION_HANDLER": "avitogw.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "avitogw",
    "DESCRIPTION": "Gateway between Avito Messenger and n8n.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # avitogw.api_guard checks X-API-Key on /api/* (without API_KEY: loopback callers only); /health, /info, the docs
    # and the incoming webhook are open and say so with `auth=[]`.
    "APPEND_COMPONENTS": {"securitySchemes": {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
    "SECURITY": [{"ApiKeyAuth": []}],
    # Several serializers have a `status` field with different choices; name this one.
    "ENUM_NAME_OVERRIDES": {"DeliveryStatusEnum": "webhooks.models.DeliveryStatus"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             # the API guard's 401/403/429 and gunicorn's 414 (avitogw/openapi.py).
                             "avitogw.openapi.add_front_answers"],
    # The API console's files come from drf-spectacular-sidecar through whitenoise: no page of the
    # gateway loads anything from another origin, and /docs works on a machine without internet.
    # templates/drf_spectacular/redoc.html drops the Google Fonts link of the stock ReDoc page.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI would otherwise ask validator.swagger.io about the schema for its badge. No
    # persistAuthorization: the API key typed into "Authorize" lives in the page only, never in the browser's
    # localStorage, where any script of the origin could read it long after (avitogw.docs_views clears an old one).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- The rest of Django ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# Made at start-up (avitogw.apps) if missing: whitenoise warns on every start while collectstatic has not run.
STATIC_ROOT = DATA_DIR / "static"
# Served straight from the installed apps too, so the admin is styled under gunicorn on every start
# path (compose, a bare gunicorn) whether or not collectstatic ran; files are indexed once at start.
WHITENOISE_USE_FINDERS = True
# Django's debug page and error mails list the settings: passwords inside URLs (DATABASE_URL, REDIS_URL,
# CELERY_BROKER_URL, the CACHES location) are masked there as well as Django's own sensitive names.
DEFAULT_EXCEPTION_REPORTER_FILTER = "avitogw.exception_filter.UrlPasswordsHidden"
# The largest body anything takes: /api/* and the staff reply URL, where one Avito image (24 MB) comes
# with its form. Every other path takes REQUEST_BODY_MAX_BYTES (Django's own default); avitogw.body_cap.
DATA_UPLOAD_MAX_MEMORY_SIZE = 26 * 1024 * 1024
REQUEST_BODY_MAX_BYTES = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 26 * 1024 * 1024

# One format for web, worker and beat (core.logs; Celery's setup_logging signal in avitogw.celery,
# gunicorn's own lines in gunicorn.conf.py): text, or one JSON object per line.
LOG_FORMAT = read_choice("LOG_FORMAT", "text", ("text", "json"))
LOG_LEVEL = read_choice("LOG_LEVEL", "INFO", ("debug", "info", "warning", "error", "critical")).upper()
# Celery's lines about beat's periodic tasks are routine (core.logs.QuietRoutine): their entries and names.
LOGGING = logging_config(log_format=LOG_FORMAT, level=LOG_LEVEL, routine_tasks=(
    *CELERY_BEAT_SCHEDULE, *(entry["task"] for entry in CELERY_BEAT_SCHEDULE.values())))
