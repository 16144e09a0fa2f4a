"""A scratch PostgreSQL database driven through `manage.py`, for the migration tests that move a real database
forward (and back): `manage(*args)` runs a command against it, `sql(query)` runs SQL in it. Dropped on the way out."""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Callable, Iterator

import psycopg

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql://root@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def scratch_postgres(data_dir: Path, prefix: str) -> Iterator[tuple[Callable[..., str], Callable[[str], list]]]:
    database = f"{prefix}_{uuid.uuid4().hex[:10]}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env = {**base, "DJANGO_SETTINGS_MODULE": "avitogw.settings", "SECRET_KEY": "t-" + "k" * 60,
           "DATA_DIR": str(data_dir), "DATABASE_URL": f"postgres://root@127.0.0.1:5432/{database}", "REDIS_URL": ""}

    def manage(*args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                              capture_output=True, text=True).stdout

    def sql(query: str) -> list[tuple]:
        with psycopg.connect(f"postgresql://root@127.0.0.1:5432/{database}") as conn:
            cursor = conn.execute(query)
            return cursor.fetchall() if cursor.description else []

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    try:
        yield manage, sql
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
