"""./run.sh's processes for real (`python -m avitogw.launcher`: honcho, the Procfile), with LOG_FORMAT=json:
every log line of web, worker and beat is one JSON object, the periodic sweep's lines are DEBUG
(LOG_LEVEL=DEBUG here, to see them at all), and Ctrl-C stops all three cleanly: each exits 0,
nobody is sent SIGKILL, no ERROR line, well inside honcho's patience.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
import requests

from tests.e2e.stack import free_port, wait_until
from tests.ops.test_secure_default import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

LINE = re.compile(r"^\d\d:\d\d:\d\d (\w+)\.1\s+\| (.*)$")  # honcho's "HH:MM:SS web.1 | text"
TEXT_LOG = re.compile(r"^(\[?\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d|\[\d{4}-)")  # a log line in any other format


class Output:
    def __init__(self, stream):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in stream:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def started(tmp_path):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))},
           "DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "t-" + "k" * 60, "SERVER_HOST": "127.0.0.1",
           "SERVER_PORT": str(port), "WEB_CONCURRENCY": "2", "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG",
           "PYTHONUNBUFFERED": "1", "API_KEY": "", "REDIS_URL": "", "DATABASE_URL": "", "CELERY_BROKER_URL": "",
           # As ./run.sh's .env has it: production without a webhook secret logs an ERROR at start.
           "AVITO_WEBHOOK_SECRET": "ctrl-c-path-secret-0123456789"}
    env["PATH"] = f"{os.path.dirname(sys.executable)}:{env.get('PATH', '')}"
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    process = subprocess.Popen([sys.executable, "-m", "avitogw.launcher"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    output = Output(process.stdout)
    try:
        wait_until(lambda: "celery@" in output.text() and "beat" in output.text()
                   and requests.get(f"http://127.0.0.1:{port}/health", timeout=1).ok, 60, "web, worker and beat")
        yield process, output, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        print(output.text()[-5000:])


def test_json_logs_then_ctrl_c_stops_every_process_cleanly(started):
    process, output, url = started
    answer = requests.get(f"{url}/health", headers={"X-Request-ID": "req-ctrl-c-1"}, timeout=10)
    assert answer.headers["X-Request-ID"] == "req-ctrl-c-1"
    # Beat's first sweep is due 5 s after it starts.
    # One line with both: another task's "succeeded" must not end the wait before the sweep's.
    wait_until(lambda: any("core.work.sweep" in line and "succeeded" in line for line in list(output.lines)), 40,
               "a sweep run")
    time.sleep(0.5)

    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal does: the whole foreground group
    started_at = time.monotonic()
    process.wait(timeout=40)
    took = time.monotonic() - started_at
    output.thread.join(5)
    lines = [LINE.match(line).groups() for line in output.lines if LINE.match(line)]

    assert process.returncode == 130  # honcho's answer to SIGINT
    assert "SIGKILL" not in output.text()
    for name in ("web", "worker", "beat"):
        assert f"{name}.1 stopped (rc=0)" in output.text()
    logged = [(name, text) for name, text in lines if name in ("web", "worker", "beat") and text.startswith("{")]
    entries = [(name, json.loads(text)) for name, text in logged]
    assert {name for name, _ in entries} == {"web", "worker", "beat"}
    assert not [text for name, text in lines if name != "system" and TEXT_LOG.match(text)]  # none in another format
    # After the Ctrl-C nothing but JSON lines, and Celery's own notice (no "Process ... exited with signal").
    after = output.lines[next(i for i, line in enumerate(output.lines) if "SIGINT received" in line):]
    stopping = [match.group(2) for match in map(LINE.match, after)
                if match and match.group(2).strip() and not match.group(2).startswith("{")]
    assert stopping == ["worker: Warm shutdown (MainProcess)"], stopping
    assert not [entry for _, entry in entries if entry["level"] in ("ERROR", "CRITICAL")]
    sweeps = [entry for _, entry in entries if "sweep" in entry["message"].lower()]
    assert any("core.work.sweep" in entry["message"] and "succeeded" in entry["message"] for entry in sweeps)
    assert {entry["level"] for entry in sweeps} == {"DEBUG"}, [e for e in sweeps if e["level"] != "DEBUG"]
    [access] = [entry for name, entry in entries if entry["logger"] == "gunicorn.access" and "/health" in entry["message"]
                and "req-ctrl-c-1" in entry["message"]]
    assert access["request_id"] == "req-ctrl-c-1"
    assert took < 20, f"stopping took {took:.1f} s"
    print(f"\nCtrl-C to every process stopped: {took:.1f} s")
