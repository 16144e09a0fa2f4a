"""Test helpers for the sandbox: a fake clock, a WSGI client that needs no server, a webhook receiver."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import requests

ACCOUNT_ID = 1234567
BASE_URL = "http://sandbox.test"


def account_path(rest: str, user_id: int = ACCOUNT_ID, version: str = "v1") -> str:
    return f"/messenger/{version}/accounts/{user_id}{rest}"


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status = int(status.split()[0])
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)


class WsgiClient:
    """Calls the WSGI app directly, building the environ a server would."""

    def __init__(self, app):
        self.app = app
        self.token: str | None = None

    def login(self, **form) -> str:
        fields = {"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret", **form}
        answer = self.request("POST", "/token", data=fields, auth=False)
        assert answer.status == 200, answer.body
        self.token = answer.json()["access_token"]
        return self.token

    def request(self, method: str, path: str, *, query=None, json_body=None, data=None, body: bytes | None = None,
                content_type: str | None = None, headers: dict | None = None, auth: bool = True,
                files=None) -> Answer:
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        elif files is not None or data is not None:
            prepared = requests.Request("POST", "http://x/", data=data, files=files).prepare()
            body, content_type = prepared.body, prepared.headers["Content-Type"]
            body = body.encode() if isinstance(body, str) else body
        environ: dict = {}
        setup_testing_defaults(environ)
        body = body or b""
        environ.update({"REQUEST_METHOD": method, "PATH_INFO": path,
                        "QUERY_STRING": urlencode(query or {}, doseq=True),
                        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)})
        if content_type:
            environ["CONTENT_TYPE"] = content_type
        if auth and self.token:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        captured = {}

        def start_response(status, response_headers):
            captured.update(status=status, headers=response_headers)

        chunks = self.app(environ, start_response)
        return Answer(captured["status"], captured["headers"], b"".join(chunks))

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json_body=None, **kwargs) -> Answer:
        return self.request("POST", path, json_body=json_body, **kwargs)


class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 that records every POST, answering ``status``.

    ``gate``, when set, holds each answer until the test releases it (to prove the sandbox
    does not wait for subscribers).
    """

    def __init__(self, status: int = 200):
        self.status = status
        self.gate: threading.Event | None = None
        self.received: list[dict] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.gate is not None:
                    receiver.gate.wait(10)
                with receiver._changed:
                    receiver.received.append({"path": self.path, "headers": dict(self.headers),
                                              "raw": raw, "json": json.loads(raw or b"null")})
                    receiver._changed.notify_all()
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/avito-hook"

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.received) >= count, timeout)
            return list(self.received)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SandboxProcess:
    """A sandbox started as a real process (gunicorn inside), stopped by its own pid."""

    def __init__(self, args: list[str], *, port: int, env: dict | None = None, cwd: str | None = None):
        import subprocess
        import tempfile

        self.url = f"http://127.0.0.1:{port}"
        self.output = tempfile.TemporaryFile()
        self.process = subprocess.Popen(args, stdout=self.output, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                        start_new_session=True)

    def wait_ready(self, timeout: float = 30.0) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the sandbox exited early:\n{self.log()}")
            try:
                if requests.get(f"{self.url}/_sandbox/stats", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"the sandbox did not start:\n{self.log()}")

    def log(self) -> str:
        self.output.seek(0)
        return self.output.read().decode("utf-8", "replace")

    def stop(self) -> None:
        import os
        import signal

        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own session: gunicorn's worker goes too
            self.process.wait(timeout=30)
        self.output.close()
