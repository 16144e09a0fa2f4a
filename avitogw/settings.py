"""Django settings for avitogw: everything comes from the environment (see `.env.example`).

Each contract variable is declared once here with its type and default. A bad value stops
start-up with a message naming it (avitogw.config). With no REDIS_URL and no DATABASE_URL
the gateway runs on SQLite and embedded fallbacks, with no services at all.
"""
from __future__ import annotations

import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

from avitogw import config
from avitogw.config import env, read_bool, read_float, read_int, read_list, read_rate, read_str, read_url

BASE_DIR = Path(__file__).resolve().parent.parent
config.load_env_file(BASE_DIR / ".env")

DATA_DIR = Path(read_str("DATA_DIR") or BASE_DIR / "data")
DATA_DIR.mkdir(parents=True, exist_ok=True)

VERSION = "0.1.0"

# --- Django's own -------------------------------------------------------------------------
DEBUG = read_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or read_bool("AVITOGW_TESTING", False)
INSECURE_KEYS = {"", "change-me", "changeme", "secret"}
SECRET_KEY = read_str("SECRET_KEY")
if SECRET_KEY in INSECURE_KEYS:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or a placeholder. Set a long random value in the environment or "
            ".env (the README's run command writes one for you)."
        )
    SECRET_KEY = "insecure-development-key-not-for-production"
ALLOWED_HOSTS = read_list("ALLOWED_HOSTS") or (["*"] if DEBUG else ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_ratelimit",
    "messenger",
    "webhooks",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "avitogw.api_guard.ApiGuardMiddleware",  # X-API-Key and API_RATE_LIMIT on every /api/* path
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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
PUBLIC_BASE_URL = read_url("PUBLIC_BASE_URL")
IMAGE_URL_ALLOW_PRIVATE = read_bool("IMAGE_URL_ALLOW_PRIVATE", False)

# --- n8n delivery ---------------------------------------------------------------------------
N8N_WEBHOOK_URL = read_url("N8N_WEBHOOK_URL")
N8N_WEBHOOK_SECRET = read_str("N8N_WEBHOOK_SECRET")
N8N_FORWARD_MAX_ATTEMPTS = read_int("N8N_FORWARD_MAX_ATTEMPTS", 12, minimum=1)
N8N_FORWARD_BACKOFF_BASE = read_float("N8N_FORWARD_BACKOFF_BASE", 10, minimum=0)
N8N_FORWARD_BACKOFF_MAX = read_float("N8N_FORWARD_BACKOFF_MAX", 3600, minimum=0)
FORWARD_OWN_MESSAGES = read_bool("FORWARD_OWN_MESSAGES", False)

# --- The gateway's own API ------------------------------------------------------------------
API_KEY = read_str("API_KEY")
API_RATE_LIMIT = read_rate("API_RATE_LIMIT", "600/m")
SERVER_HOST = read_str("SERVER_HOST", "0.0.0.0")
SERVER_PORT = read_int("SERVER_PORT", 8765, minimum=1)

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
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

CELERY_BROKER_URL = read_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL == "filesystem://":
    # kombu's filesystem transport: a folder of message files shared by web, worker and
    # beat on one machine, so the default run needs no broker server at all.
    BROKER_DIR = DATA_DIR / "broker"
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Broadcast bindings (`celery inspect ping`, remote control); kombu's default is a
        # `control` folder in whatever directory the process started in.
        "control_folder": str(BROKER_DIR / "control"),
        # An idle worker looks for new files this often (kombu's default, 1 s, is added to
        # almost every task's start); listing a folder of a few files costs next to nothing.
        # A busy pool slot also waits one interval before its next task, so this bounds the
        # worker at ~concurrency / interval tasks per second: 0.1 s held delivery to ~10
        # events/s, 0.01 s allows ~200 (bench/delivery_throughput.py) for ~1% of a core idle.
        "polling_interval": 0.01,
    }
CELERY_TASK_IGNORE_RESULT = True
# Every task is killed after this long: a task that hangs must not hold its rows for ever (the
# engine's heartbeat renews a lease as long as its process lives). A drain hands over to a
# fresh one after DRAIN_SECONDS; bulk sends are queued with a shorter limit of their own.
CELERY_TASK_TIME_LIMIT = 900
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
    "avito-token-refresh": {"task": "messenger.tasks.token_refresh", "schedule": 300.0},
    # The engine's one sweep (avitogw.work.sweep): takes back the rows of workers that died (their
    # lease ran out) and re-wakes whatever is due whose wake-up was lost, for every kind of work.
    "work-sweep": {"task": "avitogw.work.sweep", "schedule": 10.0},
}
# Task modules outside an app's own `tasks.py` (which autodiscovery finds by itself).
CELERY_IMPORTS = ("messenger.bulk.tasks", "avitogw.work.tasks")
# Bulk sends have a queue of their own, which every worker consumes too: a campaign of a
# thousand messages (ten minutes at Avito's default limit) then takes turns with incoming
# messages instead of standing in front of their delivery to n8n.
CELERY_TASK_QUEUES = (Queue("celery", routing_key="celery"), Queue("bulk", routing_key="bulk"))
CELERY_TASK_ROUTES = {"messenger.bulk.tasks.bulk_item_send": {"queue": "bulk"},
                      "messenger.bulk.tasks.bulk_item_resolve": {"queue": "bulk"}}

# --- REST framework and docs ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "avitogw.exception_handler.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "avitogw",
    "DESCRIPTION": "Gateway between Avito Messenger and n8n.",
    "VERSION": VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # avitogw.api_guard checks X-API-Key on /api/* (when API_KEY is set); /health, /info, the docs
    # and the incoming webhook are open and say so with `auth=[]`.
    "APPEND_COMPONENTS": {"securitySchemes": {"ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}},
    "SECURITY": [{"ApiKeyAuth": []}],
    # Several serializers have a `status` field with different choices; name this one.
    "ENUM_NAME_OVERRIDES": {"DeliveryStatusEnum": "webhooks.models.DeliveryStatus"},
}

# --- The rest of Django ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start while collectstatic has not run
DATA_UPLOAD_MAX_MEMORY_SIZE = 26 * 1024 * 1024  # one Avito image (24 MB) plus the form around it
FILE_UPLOAD_MAX_MEMORY_SIZE = 26 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": read_str("LOG_LEVEL", "INFO").upper()},
}
