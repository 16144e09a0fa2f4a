"""Deployment settings from the environment: TLS behind a proxy, the SECRET_KEY's rules, no password in the
debug page, a private DATA_DIR, a non-root image.

What depends on the environment runs in a fresh process with that environment (pytest's own
process always has the test settings), as tests/test_settings.py does.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LONG_KEY = "k" * 50


def run(args: list[str], tmp_path: Path, *, umask: int | None = None, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AVITO", "DJANGO", "PYTEST", "DEBUG"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "avitogw.settings", "DATA_DIR": str(tmp_path / "data"),
                  "AVITOGW_ENV": "", "DEBUG": "", "ALLOWED_HOSTS": "", "SECRET_KEY": LONG_KEY}, **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def settings_of(tmp_path: Path, names: list[str], **env: str) -> dict:
    code = ("import json, django\nfrom django.conf import settings\ndjango.setup()\n"
            f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}))")
    result = run(["-c", code], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def documented_production_env() -> dict[str, str]:
    """The production .env of docs/security.md (its ```dotenv block), with generated values filled in."""
    text = (ROOT / "docs" / "security.md").read_text()
    [block] = re.findall(r"```dotenv\n(.*?)```", text, re.S)
    values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line and not line.startswith("#"))
    return {name: (secrets.token_urlsafe(50) if value.startswith("<") else value) for name, value in values.items()}


# --- TLS behind a proxy ----------------------------------------------------------------------------

TLS = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "CSRF_TRUSTED_ORIGINS", "SECURE_PROXY_SSL_HEADER",
       "SECURE_HSTS_SECONDS", "ALLOWED_HOSTS"]


def test_by_default_nothing_claims_tls(tmp_path):
    assert settings_of(tmp_path, TLS) == {
        "SESSION_COOKIE_SECURE": False, "CSRF_COOKIE_SECURE": False, "CSRF_TRUSTED_ORIGINS": [],
        "SECURE_PROXY_SSL_HEADER": None, "SECURE_HSTS_SECONDS": 0, "ALLOWED_HOSTS": ["localhost", "127.0.0.1", "[::1]"]}


def test_an_https_public_url_makes_cookies_secure_and_its_origin_trusted(tmp_path):
    values = settings_of(tmp_path, TLS, PUBLIC_BASE_URL="https://gw.example.com:8443/", HSTS_SECONDS="600",
                         TRUST_X_FORWARDED_PROTO="true", CSRF_TRUSTED_ORIGINS="https://chat.example.com")
    assert values["SESSION_COOKIE_SECURE"] is values["CSRF_COOKIE_SECURE"] is True
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://gw.example.com:8443", "https://chat.example.com"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert "gw.example.com" in values["ALLOWED_HOSTS"]
    plain = settings_of(tmp_path, TLS, PUBLIC_BASE_URL="http://10.0.0.5:8765")
    assert plain["SESSION_COOKIE_SECURE"] is False and plain["SECURE_PROXY_SSL_HEADER"] is None


@pytest.mark.parametrize("name, value", [("CSRF_TRUSTED_ORIGINS", "gw.example.com"),
                                         ("CSRF_TRUSTED_ORIGINS", "https://gw.example.com/admin"),
                                         ("HSTS_SECONDS", "-1"), ("TRUST_X_FORWARDED_PROTO", "perhaps")])
def test_a_bad_deployment_value_stops_start_up_naming_it(tmp_path, name, value):
    result = run(["manage.py", "check"], tmp_path, **{name: value})
    assert result.returncode != 0 and name in result.stderr and "Traceback" not in result.stderr


def test_check_deploy_is_clean_for_the_documented_production_env(tmp_path):
    env = documented_production_env()
    assert env["PUBLIC_BASE_URL"].startswith("https://") and int(env["HSTS_SECONDS"]) > 0
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not re.search(r"\.W\d{3}", result.stdout + result.stderr), result.stdout + result.stderr


ADMIN_LOGIN_THROUGH_PROXY = """
import json, django
django.setup()
from django.core.management import call_command
from django.contrib.auth.models import User
from django.test import Client
call_command("migrate", verbosity=0)
User.objects.create_superuser("boss", password="pw-0123456789")
# The proxy is on another machine (a compose network): not loopback, so gunicorn would not believe it either.
browser = Client(enforce_csrf_checks=True, REMOTE_ADDR="10.0.0.2", HTTP_HOST="gw.example.com",
                 HTTP_X_FORWARDED_PROTO="https")
page = browser.get("/admin/login/")
token = page.cookies["csrftoken"]
answer = browser.post("/admin/login/?next=/admin/", {"username": "boss", "password": "pw-0123456789",
                      "csrfmiddlewaretoken": token.value, "next": "/admin/"},
                      HTTP_ORIGIN="https://gw.example.com", HTTP_REFERER="https://gw.example.com/admin/login/")
print(json.dumps({"status": answer.status_code, "location": answer.get("Location"),
                  "csrf_secure": bool(token["secure"]),
                  "session_secure": bool(answer.cookies["sessionid"]["secure"]) if "sessionid" in answer.cookies else None,
                  "hsts": answer.get("Strict-Transport-Security")}))
"""


def test_the_admin_login_works_behind_a_tls_proxy_on_another_machine(tmp_path):
    result = run(["-c", ADMIN_LOGIN_THROUGH_PROXY], tmp_path, PUBLIC_BASE_URL="https://gw.example.com",
                 TRUST_X_FORWARDED_PROTO="true", HSTS_SECONDS="31536000")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer == {"status": 302, "location": "/admin/", "csrf_secure": True, "session_secure": True,
                      "hsts": "max-age=31536000; includeSubDomains"}


def test_without_the_settings_that_login_fails_the_csrf_origin_check(tmp_path):
    result = run(["-c", ADMIN_LOGIN_THROUGH_PROXY], tmp_path, ALLOWED_HOSTS="gw.example.com")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["status"] == 403


# --- SECRET_KEY ---------------------------------------------------------------------------------

@pytest.mark.parametrize("env", [{}, {"DEBUG": "true"}, {"AVITOGW_ENV": "local", "DEBUG": "false"}])
def test_a_short_secret_key_is_refused_naming_the_variable(tmp_path, env):
    result = run(["manage.py", "check"], tmp_path, SECRET_KEY="abc", **env)
    assert result.returncode != 0
    assert "SECRET_KEY is 3 characters long" in result.stderr and "at least 32" in result.stderr
    assert run(["manage.py", "check"], tmp_path, SECRET_KEY="x" * 32, **env).returncode == 0


def test_debug_without_a_key_makes_one_per_process_and_the_web_process_says_so(tmp_path):
    first = settings_of(tmp_path, ["SECRET_KEY"], DEBUG="true", SECRET_KEY="")["SECRET_KEY"]
    second = settings_of(tmp_path, ["SECRET_KEY"], DEBUG="true", SECRET_KEY="")["SECRET_KEY"]
    assert len(first) >= 50 and first != second
    started = run(["-c", "import avitogw.wsgi"], tmp_path, DEBUG="true", SECRET_KEY="")
    assert started.returncode == 0, started.stderr
    assert "WARNING avitogw.startup SECRET_KEY is not set: this process made up a key" in started.stderr
    assert "made up a key" not in run(["-c", "import avitogw.wsgi"], tmp_path).stderr


# --- The debug page ---------------------------------------------------------------------------------

# Made up at import, so neither the test's source nor its frame's variables (both on the debug page) hold them.
PASSWORDS = {name: f"{name}-{uuid.uuid4().hex}" for name in ("db", "redis", "amqp", "cache", "meta")}


def test_the_debug_page_masks_passwords_inside_urls(settings, rf):
    from django.views.debug import technical_500_response

    settings.DEBUG = True
    settings.DATABASE_URL = "postgres://gw:%s@db.internal:5432/gw" % PASSWORDS["db"]
    settings.REDIS_URL = "redis://:%s@redis.internal:6379/0" % PASSWORDS["redis"]
    settings.CELERY_BROKER_URL = "amqp://broker:%s@mq.internal//" % PASSWORDS["amqp"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "redis://user:%s@redis.internal:6379/1" % PASSWORDS["cache"]}}
    # The development server copies the environment (DATABASE_URL and all) into request.META.
    request = rf.get("/boom", DATABASE_URL="redis://:%s@redis.internal" % PASSWORDS["meta"])
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        page = technical_500_response(request, *sys.exc_info()).content.decode()
    assert "db.internal" in page and "redis.internal" in page and "mq.internal" in page  # the page is there
    assert not [name for name, password in PASSWORDS.items() if password in page]
    assert "postgres://gw:********************@db.internal" in page


# --- DATA_DIR and the image ---------------------------------------------------------------------------

PUBLISH = """
import django
django.setup()
from avitogw.celery import app
app.send_task("webhooks.tasks.events_drain")  # opens the embedded broker: its file appears
"""


def _beat_until_its_schedule_exists(tmp_path: Path) -> None:
    """Celery beat, started with a umask of 022, stopped once it has written its schedule file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AVITO", "DJANGO", "PYTEST", "DEBUG"))}
    env.update({"DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": LONG_KEY, "AVITOGW_ENV": "", "DEBUG": ""})
    beat = subprocess.Popen([sys.executable, "-m", "celery", "-A", "avitogw", "beat", "--loglevel", "WARNING"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: os.umask(0o022))
    try:
        deadline = time.monotonic() + 60
        while not list((tmp_path / "data").glob("celerybeat-schedule*")) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        beat.terminate()
        beat.wait(timeout=30)


def test_a_fresh_data_dir_is_private_whatever_the_umask(tmp_path):
    assert run(["manage.py", "migrate", "--noinput"], tmp_path, umask=0o022).returncode == 0
    assert run(["-c", PUBLISH], tmp_path, umask=0o022).returncode == 0
    _beat_until_its_schedule_exists(tmp_path)
    data = tmp_path / "data"
    made = {path.name for path in data.rglob("*")}
    assert {"avitogw.sqlite3", "broker.sqlite3", "metrics", "static"} <= made
    assert any(name.startswith("celerybeat-schedule") for name in made)
    for path in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


def test_a_data_dir_open_to_others_is_closed_at_start(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    assert run(["manage.py", "check"], tmp_path).returncode == 0
    assert stat.S_IMODE(data.stat().st_mode) == 0o700


def test_the_docker_image_runs_as_a_user_of_its_own():
    lines = [line.split() for line in (ROOT / "Dockerfile").read_text().splitlines() if line.strip()]
    users = [index for index, words in enumerate(lines) if words[0] == "USER"]
    [cmd] = [index for index, words in enumerate(lines) if words[0] == "CMD"]
    assert users and users[-1] < cmd
    assert lines[users[-1]][1].split(":")[0] not in ("root", "0")


def test_env_example_explains_the_deployment_settings():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for name in ("TRUST_X_FORWARDED_PROTO", "HSTS_SECONDS", "CSRF_TRUSTED_ORIGINS"):
        [index] = [i for i, line in enumerate(lines) if line.startswith(f"{name}=")]
        assert lines[index - 1].startswith("# "), f"{name} has no explanation"
