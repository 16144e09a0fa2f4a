"""A real n8n 2.8.4 for the opt-in `n8n` suite: installed once into a cache folder, one throwaway instance per run.

Install: `npm install n8n@2.8.4` in `$AVITOGW_N8N_CACHE` (default `~/.cache/avitogw/n8n-2.8.4`), with
an override that takes `xlsx` from a registry republish of the same release (n8n pins it to a URL
outside the registry, which this machine cannot reach). About 1.3 GB installed (2.3 GB on disk).

Instance: a temporary N8N_USER_FOLDER, SQLite, its own ports (web and task broker). The node package
goes where `npm install` in `~/.n8n/nodes` puts it (`.n8n/nodes/node_modules/n8n-nodes-avitogw`),
so its node types are `n8n-nodes-avitogw.*` as for a user who installed it, and the example
workflows import unchanged. Credentials and workflows go in with the CLI while n8n is stopped.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import requests

from tests.e2e.stack import free_port, wait_until
from tests.n8n.package import PACKAGE

N8N_VERSION = "2.8.4"
CACHE = Path(os.environ.get("AVITOGW_N8N_CACHE", Path.home() / ".cache" / "avitogw" / f"n8n-{N8N_VERSION}"))
INSTALL_MANIFEST = {
    "name": "avitogw-n8n-runtime", "private": True,
    "dependencies": {"n8n": N8N_VERSION},
    "overrides": {"xlsx": "npm:@e965/xlsx@0.20.2"},
}
OWNER_EMAIL, OWNER_PASSWORD = "owner@avitogw.test", "Avitogw-n8n-1"


def n8n_binary() -> Path:
    """The cached n8n, installed first if missing (minutes: the first run of the suite pays it once)."""
    binary = CACHE / "node_modules" / ".bin" / "n8n"
    if not binary.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "package.json").write_text(json.dumps(INSTALL_MANIFEST, indent=2))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CACHE, check=True,
                       timeout=1800)
    return binary


class N8n:
    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.port = free_port()
        self.binary = n8n_binary()
        self.process: subprocess.Popen | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("N8N_", "PYTEST", "DJANGO_"))}
        self.env.update({
            "N8N_USER_FOLDER": str(self.folder),
            "N8N_PORT": str(self.port), "N8N_LISTEN_ADDRESS": "127.0.0.1", "N8N_HOST": "127.0.0.1",
            "WEBHOOK_URL": f"http://127.0.0.1:{self.port}/",
            "N8N_RUNNERS_BROKER_PORT": str(free_port()),
            "N8N_ENCRYPTION_KEY": "avitogw-n8n-suite-" + "k" * 20,
            "N8N_DIAGNOSTICS_ENABLED": "false", "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
            "N8N_TEMPLATES_ENABLED": "false", "N8N_PERSONALIZATION_ENABLED": "false",
            "N8N_LOG_LEVEL": "info", "DB_TYPE": "sqlite",
            "N8N_SECURE_COOKIE": "false",  # plain http on loopback: the login cookie must come back
        })

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def install_package(self, dist: Path) -> None:
        """The built package as `npm install` in ~/.n8n/nodes leaves it (its package.json and dist/)."""
        target = self.folder / ".n8n" / "nodes" / "node_modules" / "n8n-nodes-avitogw"
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(PACKAGE / "package.json", target / "package.json")
        shutil.copytree(dist, target / "dist", dirs_exist_ok=True)

    def cli(self, *args: str) -> str:
        assert self.process is None, "n8n's CLI imports only while the server is stopped"
        completed = subprocess.run([str(self.binary), *args], env=self.env, cwd=self.folder, capture_output=True,
                                   text=True, timeout=300)
        assert completed.returncode == 0, f"n8n {' '.join(args)}:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
        return completed.stdout

    def import_credentials(self, credentials: list[dict]) -> None:
        path = self.folder / "credentials.json"
        path.write_text(json.dumps(credentials, ensure_ascii=False))
        self.cli("import:credentials", f"--input={path}")

    def import_workflows(self, workflows: list[dict]) -> None:
        folder = self.folder / "workflows"
        folder.mkdir(exist_ok=True)
        for workflow in workflows:
            (folder / f"{workflow['id']}.json").write_text(json.dumps(workflow, ensure_ascii=False))
        self.cli("import:workflow", "--separate", f"--input={folder}")

    def publish(self, workflow_id: str) -> None:
        self.cli("publish:workflow", f"--id={workflow_id}")

    def start(self, ready_url: str | None = None) -> None:
        """Starts the server; ready when `ready_url` (a production webhook) is registered (no 404), or else
        when n8n says it is ready."""
        log = open(self.folder / "n8n.log", "ab")
        self.process = subprocess.Popen([str(self.binary), "start"], env=self.env, cwd=self.folder, stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        if ready_url:
            ready = lambda: requests.post(ready_url, timeout=2).status_code != 404  # noqa: E731
        else:
            ready = lambda: requests.get(f"{self.url}/rest/settings", timeout=2).ok  # noqa: E731 (REST is up last)
        wait_until(lambda: self.process.poll() is None and ready(), 240, "n8n (and its production webhook)",
                   interval=1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def owner_session(self) -> requests.Session:
        """A logged-in session of the instance's owner (set up on first call), for n8n's own REST API."""
        if getattr(self, "_session", None) is None:
            session = requests.Session()
            session.headers["browser-id"] = "avitogw-tests"  # n8n binds its auth cookie to a browser id
            owner = {"email": OWNER_EMAIL, "firstName": "Avito", "lastName": "Gateway", "password": OWNER_PASSWORD}

            def set_up():  # n8n mounts its controllers one by one after start: 404 until this one is there
                answer = session.post(f"{self.url}/rest/owner/setup", json=owner, timeout=30)
                return answer if answer.status_code != 404 else None

            answer = wait_until(set_up, 60, "n8n's owner setup endpoint", interval=1)
            assert answer.status_code == 200, answer.text
            self._session = session
        return self._session

    def executions(self, workflow_id: str) -> list[dict]:
        """The workflow's executions as n8n stored them (its SQLite database, read-only)."""
        database = self.folder / ".n8n" / "database.sqlite"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute("SELECT id, status, mode FROM execution_entity WHERE workflowId = ? ORDER BY id",
                                      (workflow_id,)).fetchall()
        return [dict(row) for row in rows]

    def workflows(self) -> dict[str, dict]:
        """Every stored workflow by id: its name, nodes and whether it is published (has an active version)."""
        database = self.folder / ".n8n" / "database.sqlite"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as connection:
            rows = connection.execute("SELECT id, name, nodes, activeVersionId FROM workflow_entity").fetchall()
        return {id_: {"name": name, "nodes": json.loads(nodes), "published": bool(active)}
                for id_, name, nodes, active in rows}

    def execution_data(self, execution_id: int) -> str:
        """The stored run data of one execution, as n8n serialized it (node outputs and errors)."""
        database = self.folder / ".n8n" / "database.sqlite"
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10) as connection:
            [data] = connection.execute("SELECT data FROM execution_data WHERE executionId = ?",
                                        (execution_id,)).fetchone()
        return data

    def log(self, tail: int = 80) -> str:
        path = self.folder / "n8n.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-tail:]) if path.exists() else ""
