"""Image sends: from image_url (with the SSRF guard), a multipart file, or an image_id."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from messenger.image_fetcher import ImageAddressRefused, ImageFetcher
from messenger.models import Message
from tests.api.conftest import CHAT, JPEG, PNG, V1, error_of

UPLOAD_URL = f"{V1}/uploadImages"
SEND_IMAGE_URL = f"{V1}/chats/{CHAT}/messages/image"
PUBLIC = "http://93.184.216.34"  # a public address: no DNS lookup needed in tests
IMAGE_ID = "12345.12345abcdefghijklm"
SIZES = {"1280x960": "https://img.avito.st/1280.png", "140x105": "https://img.avito.st/140.png"}
SENT_IMAGE = {"id": "img-msg-1", "author_id": 1234567, "created": 1563202313, "direction": "out", "type": "image",
              "content": {"image": {"sizes": SIZES}}}

pytestmark = pytest.mark.django_db


@pytest.fixture
def avito_images(avito):
    avito.post(UPLOAD_URL, json={IMAGE_ID: SIZES})
    avito.post(SEND_IMAGE_URL, json=SENT_IMAGE)
    return avito


def calls_to(avito, url: str) -> list:
    return [call for call in avito.calls if call.request.url == url]


def test_image_url_is_fetched_uploaded_as_uploadfile_and_sent(api, avito_images):
    avito_images.get(f"{PUBLIC}/photos/cat.png", body=PNG, content_type="image/png")
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{PUBLIC}/photos/cat.png"},
                        format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["image_id"] == IMAGE_ID and body["message_id"] == "img-msg-1" and body["ok"] is True
    upload = calls_to(avito_images, UPLOAD_URL)[0].request
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="uploadfile[]"; filename="cat.png"' in upload.body and PNG in upload.body
    assert json.loads(calls_to(avito_images, SEND_IMAGE_URL)[0].request.body) == {"image_id": IMAGE_ID}
    assert Message.objects.get(id="img-msg-1").type == "image"


def test_image_id_is_sent_without_upload(api, avito_images):
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_id": IMAGE_ID}, format="json")
    assert response.status_code == 200 and response.json()["image_id"] == IMAGE_ID
    assert calls_to(avito_images, UPLOAD_URL) == []


def test_multipart_file_is_uploaded_then_sent(api, avito_images):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("shop.jpg", JPEG, content_type="image/jpeg")
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "file": upload}, format="multipart")
    assert response.status_code == 200 and response.json()["image_id"] == IMAGE_ID
    sent = calls_to(avito_images, UPLOAD_URL)[0].request.body
    assert b'filename="shop.jpg"' in sent and JPEG in sent


@pytest.mark.parametrize("form, field", [
    ({"chat_id": CHAT, "file": ("notes.txt", b"just text", "image/png")}, "file"),
    ({"chat_id": CHAT, "file": ("a.png", PNG, "image/png"), "image_id": IMAGE_ID}, "non_field_errors"),
    ({"chat_id": CHAT}, "non_field_errors"),
])
def test_bad_multipart_is_refused_before_avito(api, avito_images, form, field):
    from django.core.files.uploadedfile import SimpleUploadedFile

    if "file" in form:
        name, content, kind = form["file"]
        form = {**form, "file": SimpleUploadedFile(name, content, content_type=kind)}
    response = api.post("/api/messages/send/image", form, format="multipart")
    assert response.status_code == 400
    assert field in error_of(response)["details"]
    assert calls_to(avito_images, UPLOAD_URL) == [] and calls_to(avito_images, SEND_IMAGE_URL) == []


@pytest.mark.parametrize("body", [
    {"chat_id": CHAT},
    {"chat_id": CHAT, "image_id": IMAGE_ID, "image_url": f"{PUBLIC}/a.png"},
    {"chat_id": CHAT, "image_url": "file:///etc/passwd"},
])
def test_json_needs_exactly_one_http_image_source(api, avito_images, body):
    response = api.post("/api/messages/send/image", body, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "validation_error"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/a.png", "http://10.1.2.3/a.png", "http://192.168.0.10/a.png", "http://172.16.5.5/a.png",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/a.png", "http://[::ffff:127.0.0.1]/a.png",
    "http://0.0.0.0/a.png", "http://localhost/a.png", "http://[fe80::1]/a.png", "http://100.64.0.1/a.png",
])
def test_private_loopback_and_link_local_addresses_are_refused(api, avito_images, url):
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": url}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "image_url_forbidden" and "image_url" in error["details"]
    assert calls_to(avito_images, UPLOAD_URL) == []


def test_private_addresses_are_allowed_when_configured(api, avito_images, settings):
    settings.IMAGE_URL_ALLOW_PRIVATE = True
    avito_images.get("http://10.1.2.3/a.png", body=PNG, content_type="image/png")
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": "http://10.1.2.3/a.png"},
                        format="json")
    assert response.status_code == 200


def test_redirect_to_a_private_address_is_refused(api, avito_images):
    avito_images.get(f"{PUBLIC}/a.png", status=302, headers={"Location": "http://169.254.169.254/secret"})
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{PUBLIC}/a.png"}, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "image_url_forbidden"
    assert not any("169.254" in call.request.url for call in avito_images.calls)


def test_redirect_to_a_public_address_is_followed(api, avito_images):
    avito_images.get(f"{PUBLIC}/a.png", status=301, headers={"Location": "/cdn/b.png"})
    avito_images.get(f"{PUBLIC}/cdn/b.png", body=PNG, content_type="image/png")
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{PUBLIC}/a.png"}, format="json")
    assert response.status_code == 200


def test_endless_redirects_stop(api, avito_images):
    avito_images.get(re.compile(rf"{re.escape(PUBLIC)}/loop.*"), status=302, headers={"Location": "/loop"})
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{PUBLIC}/loop"}, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "image_fetch_failed"


@pytest.mark.parametrize("headers, body, code", [
    ({"Content-Type": "text/html"}, b"<html></html>", "validation_error"),
    ({"Content-Type": "image/png"}, b"<html>not really</html>", "validation_error"),
    ({"Content-Type": "image/png", "Content-Length": str(25 * 1024 * 1024)}, PNG, "validation_error"),
])
def test_wrong_type_or_size_is_refused(api, avito_images, headers, body, code):
    avito_images.get(f"{PUBLIC}/a.png", body=body, headers=headers)
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{PUBLIC}/a.png"}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == code and "image_url" in error["details"]
    assert calls_to(avito_images, UPLOAD_URL) == []


def test_body_longer_than_24_mb_is_cut_off_without_a_content_length(api, avito_images):
    big = PNG + b"\x00" * (24 * 1024 * 1024)
    avito_images.get(f"{PUBLIC}/big.png", body=big, content_type="image/png", auto_calculate_content_length=False)
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{PUBLIC}/big.png"}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error" and "larger than" in error["details"]["image_url"][0]
    assert calls_to(avito_images, UPLOAD_URL) == []


def test_image_host_errors_are_400_image_fetch_failed(api, avito_images):
    avito_images.get(f"{PUBLIC}/gone.png", status=404)
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{PUBLIC}/gone.png"},
                        format="json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "image_fetch_failed" and "404" in error_of(response)["message"]


def test_unresolvable_host_is_400(api, avito_images):
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": "http://no-such-host.invalid/a.png"},
                        format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "image_fetch_failed"


# --- real sockets: the guarded connection itself ------------------------------------------------
class _ImageHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args):
        pass


@pytest.fixture
def image_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ImageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_fetch_through_the_guarded_connection(api, avito_images, image_server, settings):
    settings.CALLBACK_ALLOWED_HOSTS = [image_server.removeprefix("http://")]  # IMAGE_URL_ALLOW_PRIVATE is not enough
    avito_images.add_passthru(image_server)
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": f"{image_server}/x.png"},
                        format="json")
    assert response.status_code == 200
    assert PNG in calls_to(avito_images, UPLOAD_URL)[0].request.body


def test_dns_rebinding_is_caught_at_connect_time(image_server):
    """The name looked public when checked, but the socket reached loopback: refused."""
    port = int(image_server.rsplit(":", 1)[1])

    def lying_resolver(host, port_, **kwargs):
        return [(2, 1, 6, "", ("93.184.216.34", port_))]

    fetcher = ImageFetcher(timeout=5, max_bytes=1024, allow_private=False, resolve=lying_resolver)
    with pytest.raises(ImageAddressRefused):
        fetcher.fetch(f"http://localhost:{port}/x.png")
    # private ranges allowed: loopback is still refused at connect time
    with pytest.raises(ImageAddressRefused):
        ImageFetcher(timeout=5, max_bytes=1024, allow_private=True, resolve=lying_resolver).fetch(
            f"http://localhost:{port}/x.png")
    # the same request is fine when the host is allowed by name: the refusal was the peer check
    allowed = ImageFetcher(timeout=5, max_bytes=1024, allow_private=False, allowed_hosts=[f"localhost:{port}"],
                           resolve=lying_resolver)
    assert allowed.fetch(f"http://localhost:{port}/x.png").content == PNG
