"""The shared limiter and token store across real OS processes, for every store.

Each worker (tests/avito/helpers) builds the Avito client from the environment just as a
gunicorn or Celery process does, then all start together. Stores: Redis (the real server),
an SQLite file and a throwaway PostgreSQL database, each migrated first.
"""
from __future__ import annotations

import bisect
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.avito.conftest import AVITO_REDIS_URL
from tests.avito.helpers.fake_avito import FakeAvito

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://root@127.0.0.1:5432/postgres"
LIMIT, WINDOW = 5, 0.5
PROCESSES, GRANTS_EACH = 5, 8
TOKEN_PROCESSES = 6


@pytest.fixture
def base_env(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AVITO_", "RATE_LIMIT_", "REDIS_", "DATABASE_", "CELERY_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "avitogw.settings", "SECRET_KEY": secrets.token_hex(32),
        "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "RATE_LIMIT_REQUESTS": str(LIMIT), "RATE_LIMIT_WINDOW": str(WINDOW), "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def migrate(env: dict) -> None:
    # Only our app, and without system checks: other apps may be half-written at this moment.
    result = subprocess.run([sys.executable, "manage.py", "migrate", "messenger", "--skip-checks", "-v", "0"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.fixture(params=[pytest.param("redis", marks=pytest.mark.redis), "sqlite",
                        pytest.param("postgres", marks=pytest.mark.postgres)])
def store_env(request, base_env):
    """The environment of processes sharing one store: Redis, an SQLite file or PostgreSQL."""
    if request.param == "redis":
        request.getfixturevalue("avito_redis")
        yield {**base_env, "REDIS_URL": AVITO_REDIS_URL, "TEST_REDIS_PREFIX": request.getfixturevalue("redis_prefix")}
    elif request.param == "sqlite":
        migrate(base_env)
        yield base_env
    else:
        import psycopg

        name = f"avitogw_mp_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            env = {**base_env, "DATABASE_URL": f"postgres://root@127.0.0.1:5432/{name}"}
            migrate(env)
            yield env
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Workers:
    """Processes of one helper module, released together by a `go` line."""

    def __init__(self, module: str, args: list[str], env: dict, count: int, logs: Path):
        self.logs = [logs / f"{module.rsplit('.', 1)[-1]}-{n}.log" for n in range(count)]
        self.processes = [
            subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=env, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("w"))
            for log in self.logs
        ]
        for process in self.processes:
            assert self.read(process) == "ready"

    def read(self, process) -> str:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            log = self.logs[self.processes.index(process)]
            pytest.fail(f"worker ended early:\n{log.read_text()[-3000:]}")
        return line.strip()

    def go(self) -> list[str]:
        for process in self.processes:
            process.stdin.write("go\n")
            process.stdin.flush()
        return [self.read(process) for process in self.processes]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def busiest_window(stamps: list[float], window: float) -> int:
    """Most grants in any closed window of `window` seconds."""
    stamps = sorted(stamps)
    return max(bisect.bisect_right(stamps, start + window) - i for i, start in enumerate(stamps))


def test_busiest_window_counts_both_ends():
    assert busiest_window([0.0, 0.5, 1.0, 1.2], 0.5) == 2
    assert busiest_window([0.0, 0.1, 0.2, 0.5, 0.51], 0.5) == 4


def test_the_rate_limit_holds_across_processes(store_env, tmp_path, record_property):
    workers = Workers("tests.avito.helpers.limiter_worker", [str(GRANTS_EACH)], store_env, PROCESSES, tmp_path)
    try:
        grants = [json.loads(line) for line in workers.go()]
    finally:
        workers.stop()

    stamps = sorted(at for process in grants for at in process)
    assert len(stamps) == PROCESSES * GRANTS_EACH
    busiest = busiest_window(stamps, WINDOW)  # never above the limit, and the load really reached it
    assert busiest == LIMIT, f"{busiest} grants in one {WINDOW} s window; stamps {stamps}"
    span = stamps[-1] - stamps[0]
    fastest = (len(stamps) / LIMIT - 1) * WINDOW  # the span if every slot were used at once
    record_property("span_seconds", round(span, 3))
    record_property("utilisation", round(fastest / span, 3))
    print(f"{len(stamps)} grants in {span:.3f} s; fastest possible {fastest:.3f} s; "
          f"utilisation {fastest / span:.0%}")
    assert fastest / span > 0.6, f"{len(stamps)} grants took {span:.2f} s; the limit allows {fastest:.2f} s"


def test_processes_starting_together_fetch_one_token_and_refresh_it_once(store_env, tmp_path):
    with FakeAvito(token_delay=0.3) as avito:  # a slow answer widens the race
        env = {**store_env, "AVITO_API_BASE_URL": avito.url, "AVITO_CLIENT_ID": "mp-client",
               "AVITO_CLIENT_SECRET": "mp-secret", "RATE_LIMIT_REQUESTS": "100", "RATE_LIMIT_WINDOW": "60"}
        workers = Workers("tests.avito.helpers.token_worker", [], env, TOKEN_PROCESSES, tmp_path)
        try:
            first = workers.go()  # a fresh start: the store is empty
            fetched_first = avito.count("/token")
            second = workers.go()  # every process saw Avito's 403 for that token
        finally:
            workers.stop()

    assert first == ["tok-1"] * TOKEN_PROCESSES and fetched_first == 1
    assert second == ["tok-2"] * TOKEN_PROCESSES and avito.count("/token") == 2
    assert avito.token_forms[0] == {"grant_type": "client_credentials", "client_id": "mp-client",
                                    "client_secret": "mp-secret"}
