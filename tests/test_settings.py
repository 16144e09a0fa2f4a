"""The settings package: AVITOGW_ENV picks production, local or test, and importing the settings creates nothing.

Each case imports `avitogw.settings` in a fresh process (not pytest's, which always gets the
test settings) with the environment set as a shop's or a developer's machine would have it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOW_SETTINGS = """
import json
import django
from django.conf import settings
django.setup()
print(json.dumps({"env": settings.AVITOGW_ENV, "debug": settings.DEBUG, "apps": settings.INSTALLED_APPS,
                  "hosts": settings.ALLOWED_HOSTS, "key": settings.SECRET_KEY,
                  "hasher": settings.PASSWORD_HASHERS[0]}))
"""


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    # AVITOGW_ENV empty unless given: an empty variable means the default, and a developer's `.env` cannot set it.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AVITO", "DJANGO", "PYTEST", "DEBUG"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "avitogw.settings", "DATA_DIR": str(tmp_path / "data"),
                  "AVITOGW_ENV": "", "DEBUG": "", "ALLOWED_HOSTS": "", "SECRET_KEY": "s" * 50}, **env)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


def settings_of(tmp_path: Path, **env: str) -> dict:
    result = run(["-c", SHOW_SETTINGS], tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_production_is_the_default_and_leaves_the_sandbox_out(tmp_path):
    production = settings_of(tmp_path)
    assert production["env"] == "production"
    assert "sandbox" not in production["apps"]
    assert production["debug"] is False
    assert "*" not in production["hosts"]
    assert "PBKDF2" in production["hasher"]
    assert settings_of(tmp_path, AVITOGW_ENV="production")["apps"] == production["apps"]


def test_the_sandbox_command_launches_it_without_its_code_being_an_app(tmp_path):
    # Issue 6's `manage.py avito_sandbox` works under the default settings, while no settings install the
    # sandbox (tests/sandbox/test_sandbox_command.py runs it).
    result = run(["manage.py", "avito_sandbox", "--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "--chats" in result.stdout and "--user-id" in result.stdout


def test_local_has_debug_on_by_default(tmp_path):
    local = settings_of(tmp_path, AVITOGW_ENV="local", SECRET_KEY="")
    assert "sandbox" not in local["apps"]
    assert local["debug"] is True and local["hosts"] == ["*"]
    # A missing key is accepted under DEBUG: each process makes up its own, never a constant anyone can read.
    again = settings_of(tmp_path, AVITOGW_ENV="local", SECRET_KEY="")
    assert len(local["key"]) >= 50 and again["key"] != local["key"]


def test_local_with_debug_off_refuses_a_placeholder_key(tmp_path):
    result = run(["manage.py", "check"], tmp_path, AVITOGW_ENV="local", DEBUG="false", SECRET_KEY="change-me")
    assert result.returncode != 0
    assert "SECRET_KEY is missing or a placeholder" in result.stderr


@pytest.mark.parametrize("env", [{"AVITOGW_ENV": "test"}, {"AVITOGW_TESTING": "1"},
                                 {"AVITOGW_TESTING": "1", "AVITOGW_ENV": "production"}])
def test_test_settings_have_a_fast_hasher(tmp_path, env):
    test = settings_of(tmp_path, SECRET_KEY="", **env)
    assert test["env"] == "test"
    assert "sandbox" not in test["apps"]
    assert test["debug"] is False
    assert test["hasher"] == "django.contrib.auth.hashers.MD5PasswordHasher"


def test_pytests_own_process_runs_the_test_settings(settings):
    assert settings.AVITOGW_ENV == "test" and "sandbox" not in settings.INSTALLED_APPS


def test_an_unknown_environment_stops_start_up_naming_the_variable(tmp_path):
    result = run(["manage.py", "check"], tmp_path, AVITOGW_ENV="staging")
    assert result.returncode != 0
    assert "AVITOGW_ENV='staging' is not valid: expected one of production, local, test" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("environment", ["production", "local", "test"])
def test_importing_the_settings_creates_nothing_on_disk(tmp_path, environment):
    result = run(["-c", "import avitogw.settings"], tmp_path, AVITOGW_ENV=environment,
                 DATA_DIR=str(tmp_path / "not" / "yet"))
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_start_up_makes_the_folders_it_needs(tmp_path):
    database = tmp_path / "elsewhere" / "db" / "gateway.sqlite3"
    result = run(["manage.py", "check"], tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    assert (data / "metrics").is_dir() and (data / "static").is_dir()
    assert database.parent.is_dir() and not database.exists()  # the folder only: no connection was needed
