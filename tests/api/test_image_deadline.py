"""A whole image download has a deadline, not only a timeout per read: a host that trickles bytes is cut off.

Real sockets: a local server sends its answer a byte at a time, each byte well within the
read timeout, for far longer than the deadline (at most TRICKLE_FOR seconds, then it stops on
its own). The fetch must end at the deadline with a timeout, in the headers, in the body, with
or without Content-Length and across redirects, and the server must see its client go away
(the connection was cut, not merely abandoned). The API answers 504 `upstream_timeout`; the
staff inbox shows its placeholder.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest
from django.urls import reverse

from messenger.image_fetcher import ImageFetcher, ImageFetchTimeout
from messenger.models import Chat, Message
from tests.api.conftest import CHAT, PNG, error_of

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]

BYTE_EVERY = 0.2  # far inside any read timeout below
TRICKLE_FOR = 20.0  # the server's own bound: before the deadline existed, a fetch took this long
DEADLINE = 1.5


class TricklingServer:
    """Answers each connection per `mode`, trickling one byte every BYTE_EVERY seconds."""

    def __init__(self, mode: str):
        self.mode = mode
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cut = threading.Event()  # set when a client went away while the server was still sending
        self.requests = 0
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/photo.png"

    def close(self) -> None:
        self.listener.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)  # the request (small, one packet)
            self.requests += 1
            head, trickled = {
                "headers": (b"HTTP/1.1 200 OK\r\n", b"X-Slow: " + b"a" * 1000),
                "body": (b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n",
                         PNG + b"\x00" * 1000),
                "body-until-close": (b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nConnection: close\r\n\r\n",
                                     PNG + b"\x00" * 1000),
            }.get(self.mode, (b"", b""))
            if self.mode == "redirects":  # each hop answers after a pause, the last one with the image
                time.sleep(0.7)
                if self.requests <= 5:
                    conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: /next.png\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
                else:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: %d\r\n"
                                 b"Connection: close\r\n\r\n%s" % (len(PNG), PNG))
                return
            try:
                conn.sendall(head)
                ends = time.monotonic() + TRICKLE_FOR
                for index in range(len(trickled)):
                    if time.monotonic() > ends:
                        return
                    conn.sendall(trickled[index:index + 1])
                    time.sleep(BYTE_EVERY)
            except OSError:
                self.cut.set()


@pytest.fixture
def trickling():
    servers = []

    def start(mode: str) -> TricklingServer:
        servers.append(TricklingServer(mode))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def fetcher_for(server: TricklingServer, **kwargs) -> ImageFetcher:
    return ImageFetcher(timeout=5, max_bytes=1024 * 1024, allow_private=False, deadline=DEADLINE,
                        allowed_hosts=[f"127.0.0.1:{server.port}"], **kwargs)


@pytest.mark.parametrize("mode", ["headers", "body", "body-until-close"])
def test_a_trickling_host_is_cut_off_at_the_deadline(trickling, mode):
    server = trickling(mode)
    with pytest.raises(ImageFetchTimeout, match="within 1.5 s"):
        fetcher_for(server).fetch(server.url)
    assert server.cut.wait(5), "the server kept sending: the connection was not cut"


def test_the_deadline_covers_every_redirect(trickling):
    server = trickling("redirects")
    with pytest.raises(ImageFetchTimeout):
        fetcher_for(server).fetch(server.url)
    assert server.requests < 6  # the image at the end of the chain was never asked for


def test_a_fetcher_cut_off_once_fetches_again(trickling):
    slow, quick = trickling("body"), trickling("redirects")
    fetcher = ImageFetcher(timeout=5, max_bytes=1024 * 1024, allow_private=False, deadline=2.5,
                           allowed_hosts=[f"127.0.0.1:{slow.port}", f"127.0.0.1:{quick.port}"])
    with pytest.raises(ImageFetchTimeout):
        fetcher.fetch(slow.url)
    quick.requests = 5  # straight to the image
    assert fetcher.fetch(quick.url).content == PNG


def test_the_api_answers_504_upstream_timeout(api, avito, settings, monkeypatch, trickling):
    server = trickling("body")
    monkeypatch.setattr("messenger.services.images.IMAGE_FETCH_DEADLINE", DEADLINE)
    settings.CONNECTION_TIMEOUT = 1.0
    settings.CALLBACK_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
    avito.add_passthru(f"http://127.0.0.1:{server.port}")
    response = api.post("/api/messages/send/image", {"chat_id": CHAT, "image_url": server.url}, format="json")
    assert response.status_code == 504, response.content
    error = error_of(response)
    assert error["code"] == "upstream_timeout" and "cut off" in error["message"]
    assert "image_url" in error["details"]
    assert server.cut.wait(5)


def test_the_staff_inbox_shows_its_placeholder(client, django_user_model, avito, settings, monkeypatch, trickling):
    from django.contrib.auth.models import Permission

    server = trickling("body")
    monkeypatch.setattr("messenger.services.chat_images.MAX_SHOWN_DEADLINE", DEADLINE)
    settings.CALLBACK_ALLOWED_HOSTS = [f"127.0.0.1:{server.port}"]
    avito.add_passthru(f"http://127.0.0.1:{server.port}")
    chat = Chat.objects.create(id=CHAT, chat_type="u2i")
    Message.objects.create(id="img-1", chat=chat, direction="in", type="image",
                           content={"image": {"sizes": {"1280x960": server.url}}}, created="2026-12-01T10:06:00Z")
    user = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_chat"))
    client.force_login(user)
    response = client.get(reverse("admin:messenger_chat_image", args=[CHAT, "img-1"]))
    assert response.status_code == 404 and response["Content-Type"] == "image/svg+xml"
    assert server.cut.wait(5)
