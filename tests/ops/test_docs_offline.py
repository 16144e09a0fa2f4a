"""/docs, /redoc and the admin load nothing from another origin, and their files are served here.

Everything a rendered page loads (every `src`, every `<link href>`) and every URL in its inline
scripts must be a path on the gateway itself; each asset must then answer 200 through the
static handler (whitenoise), so the API console works on a machine without internet. Plain
links (`<a href>`, such as a chat's link to its item on Avito) load nothing and may go anywhere.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client

from messenger.models import Chat, Message

pytestmark = pytest.mark.django_db

PAGES = ["/docs", "/redoc", "/admin/login/"]
STAFF_PAGES = ["/admin/", "/admin/messenger/chat/", "/admin/webhooks/delivery/"]


class AssetLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        loaded = ("src", "href") if tag == "link" else ("src",)
        self.links += [value for name, value in attrs if name in loaded and value]
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _parsed(path: str, client: Client | None = None) -> AssetLinks:
    response = (client or Client()).get(path)
    assert response.status_code == 200, path
    parser = AssetLinks()
    parser.feed(response.content.decode())
    return parser


@pytest.mark.parametrize("path", PAGES)
def test_every_src_and_href_is_same_origin(path):
    parser = _parsed(path)
    assert parser.links, f"{path} links nothing: the check would prove nothing"
    assert _foreign(parser.links) == [], f"{path} loads from another origin"


def _foreign(links: list[str]) -> list[str]:
    return [link for link in links if urlsplit(link).scheme or urlsplit(link).netloc or link.startswith("//")]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_the_admin_a_staff_member_sees_loads_nothing_from_elsewhere(path, admin_client):
    parser = _parsed(path, admin_client)
    assert parser.links, f"{path} loads nothing: the check would prove nothing"
    assert _foreign(parser.links) == [], f"{path} loads from another origin"


def test_a_chat_page_with_a_customers_photo_loads_it_from_the_gateway(admin_client, avito):
    """Avito's image servers are another origin: the photo is served through the gateway instead."""
    photo = "http://93.184.216.34/photos/1280.png"  # public, so the image client needs no DNS here
    chat = Chat.objects.create(id="u2i-photo", chat_type="u2i", client_name="Анна")
    Message.objects.create(id="m-photo", chat=chat, direction="in", type="image",
                           content={"image": {"sizes": {"1280x960": photo, "140x105": photo.replace("1280", "140")}}})
    parser = _parsed("/admin/messenger/chat/u2i-photo/change/", admin_client)
    [image] = [link for link in parser.links if "/image/" in link]
    assert image == "/admin/messenger/chat/u2i-photo/image/m-photo/"
    assert _foreign(parser.links) == [], "the chat page loads from another origin"
    avito.get(photo, body=b"\x89PNG\r\n\x1a\n" + b"\0" * 32, content_type="image/png")
    response = admin_client.get(image)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_inline_scripts_name_no_other_origin(path):
    scripts = "\n".join(_parsed(path).scripts)
    assert re.findall(r"https?://[^\s\"')]+", scripts) == []


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_console_files_are_served_by_the_gateway(path):
    assets = [link for link in _parsed(path).links if link.startswith("/static/")]
    scripts = [link for link in assets if link.endswith(".js")]
    assert scripts, f"{path} has no script of its own"
    for asset in assets:
        response = Client().get(asset)
        assert response.status_code == 200, asset
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert len(body) > 100, asset
