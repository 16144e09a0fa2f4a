"""The benchmark harness measures what it says: requests, statuses and latencies from the load
generator, CPU time and memory of process groups, the bare view's answer, and one benchmark end
to end (a real stack, a table printed, a result file written)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import common
from bench.common import Call, percentile, run_load, table
from bench.machine import CpuMeter, in_groups
from bench.processes import RssSampler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    peers: set = set()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Handler.peers.add(self.client_address)
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"3\r\n{\"o\r\n6\r\nk\":1}\n\r\n0\r\n\r\n")
            return
        status = 503 if self.path == "/fail" else 200
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if self.path == "/close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.peers = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_load_counts_every_answer_over_one_keep_alive_connection_per_sender(server):
    result = run_load(server, lambda i: Call("POST", "/ok", b'{"n": %d}' % i), senders=4, total=60)
    assert (result.ok, result.errors, dict(result.statuses)) == (60, 0, {200: 60})
    assert len(_Handler.peers) == 4  # keep-alive: one connection per sender
    assert all(latency > 0 for latency in result.latencies)
    assert result.summary()["requests"] == 60 and result.summary()["p99_ms"] >= result.summary()["p50_ms"]


def test_unexpected_statuses_are_errors_not_throughput(server):
    result = run_load(server, lambda i: Call("POST", "/fail" if i % 2 else "/ok"), senders=2, total=40)
    assert (result.ok, result.errors, dict(result.statuses)) == (20, 20, {200: 20, 503: 20})


def test_chunked_answers_and_closed_connections_are_read_and_reopened(server):
    result = run_load(server, lambda i: Call("POST", "/close" if i % 2 else "/chunked"), senders=1, total=20)
    assert (result.ok, result.errors) == (20, 0)
    assert len(_Handler.peers) >= 10  # a new connection after every `Connection: close`


def test_timed_runs_leave_out_the_warm_up(server):
    result = run_load(server, lambda i: Call("POST", "/ok"), senders=2, seconds=0.4, warmup=0.3)
    assert result.seconds == pytest.approx(0.4)
    assert 0 < result.ok < result.answered  # answers during the warm-up happened but are not counted
    assert result.rps == pytest.approx(result.ok / 0.4)


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([], 99) == 0.0


def test_table_right_aligns_numbers():
    lines = table(["name", "rps"], [["bare", 2000.0], ["gateway", 12.5]]).splitlines()
    assert lines[0].split() == ["name", "rps"]
    assert lines[2].endswith("2,000") and lines[3].endswith("12.50")
    assert len({len(line) for line in lines}) == 1


def test_cpu_meter_charges_a_process_group_with_its_own_cpu_time():
    spinner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                                "while time.process_time() - t < 0.4: pass"], start_new_session=True)
    meter = CpuMeter({"spinner": in_groups(spinner.pid)}).start()
    spinner.wait(timeout=30)
    time.sleep(0.05)
    used = meter.stop()
    # The exited process took its time with it; a live one is measured: spin again, alive at stop.
    assert used["cpu_s"]["spinner"] == 0
    spinner = subprocess.Popen([sys.executable, "-c", "import time\nt = time.process_time()\n"
                                "while time.process_time() - t < 0.4: pass\ntime.sleep(30)"], start_new_session=True)
    try:
        meter = CpuMeter({"spinner": in_groups(spinner.pid)}).start()
        time.sleep(1.0)
        used = meter.stop()
    finally:
        spinner.kill()
        spinner.wait()
    assert 0.3 <= used["cpu_s"]["spinner"] <= 0.6
    assert 0 <= used["others_pct"] <= used["machine_busy_pct"] <= 100


def test_cpu_meter_counts_a_child_that_ended_through_its_parent():
    # A gunicorn master recycling a worker: the worker's CPU time reaches the master when reaped.
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time\n"
                               "time.sleep(0.5)\n"
                               "subprocess.run([sys.executable, '-c', 'import time\\nt = time.process_time()\\n"
                               "while time.process_time() - t < 0.4: pass'])\n"
                               "time.sleep(30)"], start_new_session=True)
    try:
        time.sleep(0.3)  # the parent's own start-up is before the interval
        meter = CpuMeter({"parent": in_groups(parent.pid)}).start()
        time.sleep(1.5)
        used = meter.stop()
    finally:
        parent.kill()
        parent.wait()
    assert 0.35 <= used["cpu_s"]["parent"] <= 0.8


def test_rss_sampler_keeps_the_peak_of_a_process():
    hog = subprocess.Popen([sys.executable, "-c", "import time\nx = bytearray(64 * 1024 * 1024)\n"
                            "del x\ntime.sleep(30)"], start_new_session=True)
    try:
        time.sleep(1.0)
        sampler = RssSampler({"hog": hog.pid}, interval=0.1).start()
        time.sleep(0.3)
        sampler.stop()
    finally:
        hog.kill()
        hog.wait()
    assert sampler.peak_mb("hog", "master") >= 64  # VmHWM remembers the freed 64 MB
    assert sampler.peaks[hog.pid]["last_kb"] < 64 * 1024


def test_bare_view_answers_ok_at_the_webhook_paths(client, settings):
    settings.ROOT_URLCONF = "bench.bare_app.urls"
    for path in ("/webhook/avito", "/webhook/avito/some-secret"):
        response = client.post(path, data=b'{"id": "x"}', content_type="application/json")
        assert (response.status_code, response.json()) == (200, {"ok": True})


@pytest.mark.e2e
def test_webhook_ingest_benchmark_prints_its_table_and_writes_its_results(tmp_path, monkeypatch, capsys):
    from bench import webhook_ingest

    monkeypatch.setattr(common, "RESULTS_DIR", tmp_path)
    [result] = webhook_ingest.main(["--flavours", "sqlite", "--rounds", "1", "--senders", "2",
                                    "--seconds", "0.5", "--warmup", "0.2"])
    printed = capsys.readouterr().out
    assert "Webhook ingest, sqlite" in printed and "target at 16 senders" not in printed
    saved = json.loads((tmp_path / "webhook_ingest.json").read_text())
    assert saved["machine"]["cores"] == os.cpu_count()
    [row] = saved["flavours"][0]["summary"]
    assert row["senders"] == 2 and row["bare_rps"] > 0 and row["gateway_rps"] > 0 and row["errors"] == 0
    # Every notification the gateway answered 200 to is stored (the warm-ups' too).
    assert result["events_stored"] >= result["gateway_200s_counted"] > 0
