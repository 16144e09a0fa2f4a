"""gunicorn settings of the web process: `gunicorn -c gunicorn.conf.py avitogw.wsgi:application`.

Where it listens comes from SERVER_HOST / SERVER_PORT (environment or `.env`, read the
same way as Django's settings, so a bad value stops start-up with its name). Workers
follow the CPU count; each runs threads (gthread), because a request spends most of its
time waiting on Avito (a rate-limit slot, the call itself) rather than on the CPU. Its logs
pass through core.log_redaction, so the webhook's path secret is never written down.
"""
import multiprocessing
from pathlib import Path

from gunicorn.glogging import Logger

from core import environment as settings_env  # not `config`: that name is a gunicorn setting
from core.logs import logging_config
from avitogw import gunicorn_errors
from core.log_redaction import RedactSecrets

settings_env.load_env_file(Path(__file__).resolve().parent / ".env")

bind = f"{settings_env.read_str('SERVER_HOST', '0.0.0.0')}:{settings_env.read_int('SERVER_PORT', 8765, minimum=1)}"

# (2 x cores) + 1 is gunicorn's own rule of thumb; capped, since every worker holds its
# own Avito connection pool and database connections.
workers = settings_env.read_int("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 12), minimum=1)
# gthread whose threads only ever see requests that have fully arrived (avitogw/buffering_worker.py):
# a slow or stalled client waits in the event loop, not in one of the few threads.
worker_class = "avitogw.buffering_worker.BufferingThreadWorker"
threads = 4

# A send may wait CONNECTION_TIMEOUT for a rate-limit slot and as long for each of its
# tries; the worker timeout must sit above that or gunicorn kills healthy workers.
_avito_call = settings_env.read_float("CONNECTION_TIMEOUT", 30, minimum=0.001)
timeout = int(max(60, 2 * _avito_call * (settings_env.read_int("MAX_RETRIES", 3, minimum=0) + 1)))
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then so slow leaks never accumulate; jitter keeps them from restarting together.
max_requests = 2000
max_requests_jitter = 200
# Workers fork from a master that has already imported Django, so a recycled worker costs a
# fork rather than ~0.4 s of imports (docs/benchmarks.md). Nothing opens a connection at import.
preload_app = True

# No request header ever becomes part of the WSGI environ outside HTTP_*: gunicorn would otherwise take
# SCRIPT_NAME and PATH_INFO headers from a "trusted forwarder" (loopback by default, everyone with
# FORWARDED_ALLOW_IPS=*), and a client's `SCRIPT_NAME: /x` on `/x/api/token` moved the path Django
# shows away from the one it routes on. The gateway is never mounted under a prefix by its front.
forwarder_headers = ""  # none (gunicorn's default is "SCRIPT_NAME,PATH_INFO")
header_map = "drop"  # a header whose name has "_" is dropped, not folded into the "-" one's HTTP_ key
# Whose X-Forwarded-Proto gunicorn believes (all a forwarder may still set): gunicorn's own variable and
# default, read from `.env` too. The front's address; never "*" while others can reach this port.
forwarded_allow_ips = settings_env.read_str("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# gunicorn 25+ opens a control socket at one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn):
# a second gateway (or any other gunicorn) on the machine would take it over. Nothing here uses it.
control_socket_disable = True


def post_worker_init(worker):
    """In each worker, once Django is loaded: replay the writes an earlier process kept while the
    database was unreachable (core.pending_writes), in the background."""
    from core.pending_writes import pending_writes_resume

    pending_writes_resume()


def child_exit(server, worker):
    """In the master, once a worker has gone: prometheus_client's multiprocess mode forgets its live gauges."""
    from core.metrics import metrics_process_dead

    metrics_process_dead(worker.pid)


class RedactingLogger(Logger):
    """gunicorn's logger with the secrets filtered out (core.log_redaction): the access log's request
    line holds the webhook's path secret, and the error log names the path of a failed request."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(existing, RedactSecrets) for existing in log.filters):
                log.addFilter(RedactSecrets())


logger_class = RedactingLogger
# gunicorn's own refusals (414 and the like) in the JSON envelope, as the OpenAPI document says.
gunicorn_errors.install()
limit_request_line = 8190  # gunicorn's largest; past it 414 uri_too_long
accesslog = "-"
errorlog = "-"
loglevel = settings_env.read_str("LOG_LEVEL", "INFO").lower()
# The request id (core.request_id) ends each access line, so it can be matched with the app's lines.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'
# gunicorn's own lines in the gateway's format (LOG_FORMAT=json: one JSON object per line), like the app's.
logconfig_dict = logging_config(log_format=settings_env.read_choice("LOG_FORMAT", "text", ("text", "json")),
                                level=loglevel)
logconfig_dict["loggers"] = {name: {"level": "INFO" if name == "gunicorn.access" else loglevel.upper(),
                                    "handlers": ["console"], "propagate": False}
                             for name in ("gunicorn.error", "gunicorn.access")}
