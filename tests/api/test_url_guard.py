"""One URL guard for every URL a caller gives the gateway to call: `image_url` and the bulk `callback_url`.

Public addresses only, by default. IMAGE_URL_ALLOW_PRIVATE opens private ranges (RFC 1918,
CGNAT, IPv6 ULA) to `image_url`, never loopback or link-local (cloud metadata at
169.254.169.254). A `host[:port]` named in CALLBACK_ALLOWED_HOSTS may be reached whatever it
resolves to, on that port only (no port: the scheme's default); so may the host of N8N_WEBHOOK_URL
on its port, for callbacks. An IPv6 address carrying an IPv4 one is judged by that address. A
callback is checked at submit (400) and again when it is sent; only its status code and a short
reason are kept.
"""
from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from django.core.exceptions import ImproperlyConfigured
from core.environment import read_host_ports
from core.url_guard import UrlPolicy, UrlRefused, address_refused, allowed_host_parse, check_url
from bulk.models import BulkJob
from tests.api.conftest import CHAT, PNG, error_of

pytestmark = pytest.mark.django_db

BULK = "/api/messages/send/bulk"


@pytest.mark.parametrize("address, refused_by_default, refused_with_private", [
    ("93.184.216.34", False, False),
    ("10.1.2.3", True, False), ("172.16.5.5", True, False), ("192.168.0.10", True, False),
    ("100.64.0.1", True, False), ("fd00::1", True, False),
    ("127.0.0.1", True, True), ("::1", True, True), ("::ffff:127.0.0.1", True, True),
    ("169.254.169.254", True, True), ("fe80::1", True, True), ("0.0.0.0", True, True),
    ("224.0.0.1", True, True), ("::ffff:169.254.169.254", True, True),
    # IPv6 forms that carry an IPv4 address lead to it: NAT64, 6to4, IPv4-compatible, IPv4-mapped.
    ("64:ff9b::7f00:1", True, True), ("64:ff9b::a9fe:a9fe", True, True), ("64:ff9b::a00:1", True, False),
    ("64:ff9b::5db8:d822", False, False),
    ("2002:7f00:1::1", True, True), ("2002:a9fe:a9fe::", True, True), ("2002:c0a8:1::5", True, False),
    ("2002:5db8:d822::1", False, False),
    ("::7f00:1", True, True), ("::a9fe:a9fe", True, True), ("::5db8:d822", True, True),
    ("::ffff:10.1.2.3", True, False), ("::ffff:93.184.216.34", False, False),
    # The local-use NAT64 prefix leads wherever the local network says.
    ("64:ff9b:1::5db8:d822", True, True), ("64:ff9b:1::7f00:1", True, True),
])
def test_private_ranges_only_never_loopback_or_link_local(address, refused_by_default, refused_with_private):
    assert address_refused(address, allow_private=False) is refused_by_default
    assert address_refused(address, allow_private=True) is refused_with_private


@pytest.mark.parametrize("url", ["http://127.0.0.1/a.png", "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]/a.png", "http://localhost/a.png"])
def test_allow_private_does_not_open_loopback_or_metadata_to_image_url(api, avito, settings, url):
    settings.IMAGE_URL_ALLOW_PRIVATE = True
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": url}, format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "image_url_forbidden"


class _Recorder(BaseHTTPRequestHandler):
    seen: list = []

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(PNG)

    def do_POST(self):
        type(self).seen.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"<html><body>internal admin panel: secret-token-xyz</body></html>"
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_service():
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_host_in_callback_allowed_hosts_may_serve_image_url(api, avito, settings, loopback_service):
    settings.CALLBACK_ALLOWED_HOSTS = [loopback_service.removeprefix("http://")]
    avito.add_passthru(loopback_service)
    avito.post(f"https://api.avito.ru/messenger/v1/accounts/1234567/uploadImages", json={"1.a": {}})
    avito.post(f"https://api.avito.ru/messenger/v1/accounts/1234567/chats/{CHAT}/messages/image",
               json={"id": "m1", "type": "image", "content": {}})
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{loopback_service}/x.png"},
                        format="json")
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://[::1]/hook", "http://169.254.169.254/x",
                                 "http://10.0.0.5/hook", "http://localhost/hook"])
def test_a_callback_to_an_internal_address_is_refused_at_submit(api, avito, settings, url):
    settings.N8N_WEBHOOK_URL = "https://n8n.example.com/webhook/avito-in"
    settings.IMAGE_URL_ALLOW_PRIVATE = True  # image_url's switch does not open callbacks
    response = api.post(BULK, {"messages": [{"chat_id": CHAT, "text": "hi"}], "callback_url": url}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error" and "callback_url" in error["details"]
    assert not BulkJob.objects.exists()


def test_n8ns_host_and_listed_hosts_are_allowed_without_a_lookup(api, avito, settings, django_capture_on_commit_callbacks):
    settings.N8N_WEBHOOK_URL = "http://n8n.internal:5678/webhook/avito-in"
    settings.CALLBACK_ALLOWED_HOSTS = ["hooks.lan", "10.9.9.9:81", "[fd00::7]:8443"]
    for url in ("http://n8n.internal:5678/webhook/bulk-done", "http://HOOKS.lan/x", "https://hooks.lan./x",
                "http://10.9.9.9:81/y", "https://[fd00::7]:8443/z"):
        with django_capture_on_commit_callbacks():
            response = api.post(BULK, {"messages": [{"chat_id": CHAT, "text": "hi"}], "callback_url": url},
                                format="json")
        assert response.status_code == 202, (url, response.content)


def _finished_job(callback_url: str) -> BulkJob:
    return BulkJob.objects.create(total=0, callback_url=callback_url, status="completed", callback_status="pending")


def test_the_callback_is_checked_again_when_sent(settings, loopback_service):
    from bulk.services import bulk_job_callback

    job = _finished_job(f"{loopback_service}/hook")  # allowed when submitted; the rule changed since
    settings.CALLBACK_ALLOWED_HOSTS = []
    outcome = bulk_job_callback(job_id=job.id)
    assert outcome.startswith("refused:")
    assert _Recorder.seen == []


def test_only_the_status_and_a_short_reason_are_kept_never_the_body(settings, loopback_service):
    from bulk.services import bulk_job_callback

    settings.CALLBACK_ALLOWED_HOSTS = [loopback_service.removeprefix("http://")]
    job = _finished_job(f"{loopback_service}/hook")
    bulk_job_callback(job_id=job.id)
    assert _Recorder.seen == ["/hook"]
    job.refresh_from_db()
    assert job.callback_status == "failed: HTTP 500 Internal Server Error"


def test_an_unreachable_callback_names_no_address(settings):
    from bulk.services import bulk_job_callback

    settings.CALLBACK_ALLOWED_HOSTS = ["127.0.0.1:9"]
    job = _finished_job("http://127.0.0.1:9/hook")  # discard port: nothing listens
    bulk_job_callback(job_id=job.id)
    job.refresh_from_db()
    assert job.callback_status.startswith("failed: no answer") and "127.0.0.1" not in job.callback_status


@pytest.mark.parametrize("url", ["http://n8n.internal/webhook/x", "http://n8n.internal:6379/",
                                 "http://hooks.lan:6379/", "https://hooks.lan:80/", "http://hooks.lan:443/",
                                 "http://10.9.9.9/y", "http://10.9.9.9:82/y", "http://[fd00::7]:8080/z"])
def test_an_allowed_host_on_another_port_is_refused(api, avito, settings, url):
    settings.N8N_WEBHOOK_URL = "http://n8n.internal:5678/webhook/avito-in"  # n8n's host on n8n's port only
    settings.CALLBACK_ALLOWED_HOSTS = ["hooks.lan", "10.9.9.9:81", "[fd00::7]:8443"]
    response = api.post(BULK, {"messages": [{"chat_id": CHAT, "text": "hi"}], "callback_url": url}, format="json")
    assert response.status_code == 400, (url, response.content)
    assert not BulkJob.objects.exists()


def test_an_allowed_loopback_host_opens_its_default_port_not_redis(api, avito, settings):
    """The README's `127.0.0.1` for the sandbox's photos: an image URL may not become a request to Redis."""
    settings.CALLBACK_ALLOWED_HOSTS = ["127.0.0.1"]
    for url in ("http://127.0.0.1:6379/", "http://127.0.0.1:5432/x.png", "https://127.0.0.1:80/x.png"):
        response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": url}, format="json")
        assert response.status_code == 400 and error_of(response)["code"] == "image_url_forbidden", url
    check_url("http://127.0.0.1/x.png", UrlPolicy.of(allowed_hosts=["127.0.0.1"]))  # allowed: no lookup, no error
    check_url("https://127.0.0.1/x.png", UrlPolicy.of(allowed_hosts=["127.0.0.1"]))
    check_url("http://127.0.0.1:8080/x.png", UrlPolicy.of(allowed_hosts=["127.0.0.1:8080"]))
    with pytest.raises(UrlRefused):
        check_url("http://127.0.0.1/x.png", UrlPolicy.of(allowed_hosts=["127.0.0.1:8080"]))


def test_the_connection_checks_the_port_too(settings, loopback_service):
    """The second check, on the socket (guarded_pools), holds the allowlist to its port as well."""
    from bulk.services import bulk_job_callback

    port = loopback_service.rsplit(":", 1)[1]
    settings.CALLBACK_ALLOWED_HOSTS = [f"127.0.0.1:{port}"]
    job = _finished_job(f"{loopback_service}/hook")
    assert bulk_job_callback(job_id=job.id) == "failed: HTTP 500 Internal Server Error"
    settings.CALLBACK_ALLOWED_HOSTS = ["127.0.0.1"]  # port 80 only
    job = _finished_job(f"{loopback_service}/hook")
    assert bulk_job_callback(job_id=job.id).startswith("refused:")
    assert _Recorder.seen == ["/hook"]


@pytest.mark.parametrize("entry, parsed", [
    ("hooks.lan", ("hooks.lan", None)), ("HOOKS.lan.:8080", ("hooks.lan", 8080)), ("10.9.9.9:81", ("10.9.9.9", 81)),
    ("::1", ("::1", None)), ("[::1]", ("::1", None)), ("[::1]:8080", ("::1", 8080)), (" 127.0.0.1 ", ("127.0.0.1", None)),
])
def test_allowlist_entries_are_host_and_optional_port(entry, parsed):
    assert allowed_host_parse(entry) == parsed


@pytest.mark.parametrize("entry", ["http://hooks.lan", "hooks.lan:", "hooks.lan:0", "hooks.lan:65536", "hooks.lan:http",
                                   "[::1", "[hooks.lan]:80", "::1:8080:x", "hooks.lan/path", "user@hooks.lan"])
def test_a_bad_allowlist_entry_stops_start_up_naming_the_variable(monkeypatch, entry):
    monkeypatch.setenv("CALLBACK_ALLOWED_HOSTS", f"127.0.0.1, {entry}")
    with pytest.raises(ImproperlyConfigured, match="CALLBACK_ALLOWED_HOSTS"):
        read_host_ports("CALLBACK_ALLOWED_HOSTS")


def test_policy_matches_hosts_case_insensitively_and_ipv6_with_or_without_brackets():
    policy = UrlPolicy.of(allowed_hosts=["hooks.lan", "::1", "[::2]:8080"])
    assert policy.host_allowed("HOOKS.LAN", 80, "http") and policy.host_allowed("::1", 443, "https")
    assert policy.host_allowed("::2", 8080, "http") and policy.host_allowed("[::2]", 8080, "https")
    assert not policy.host_allowed("other", 80, "http") and not policy.host_allowed("::2", 80, "http")
