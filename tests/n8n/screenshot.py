"""Takes the package README's screenshot: the reply example in a real n8n 2.8.4, the Avito node open.

    .venv/bin/python -m tests.n8n.screenshot [folder]     # default integrations/n8n-nodes-avitogw/docs

Needs what the `n8n` suite needs (n8n in its cache folder, the package built) plus Chromium at
/usr/bin/chromium (Debian's `chromium`), driven headless by Playwright for Python.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.n8n.package import PACKAGE, ensure_built
from tests.n8n.runtime import OWNER_EMAIL, OWNER_PASSWORD, N8n

EXAMPLE = PACKAGE.parents[1] / "examples" / "n8n" / "incoming-reply.json"
WORKFLOW_ID = "AvitogwReply0001"
CHROMIUM = "/usr/bin/chromium"


def take(folder: Path) -> None:
    """Writes workflow.png (the reply example's canvas) and editor.png (its Avito node open) into `folder`."""
    with tempfile.TemporaryDirectory() as home:
        n8n = N8n(Path(home))
        n8n.install_package(ensure_built(install=True))
        n8n.import_credentials([{"id": "AvitogwGateway01", "name": "avitogw", "type": "avitogwApi",
                                 "data": {"baseUrl": "https://avitogw.example.com", "apiKey": "", "signingSecret": ""}}])
        n8n.import_workflows([{**json.loads(EXAMPLE.read_text(encoding="utf-8")), "id": WORKFLOW_ID}])
        n8n.start()
        try:
            n8n.owner_session()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.set_default_timeout(120_000)  # the editor's bundle is large; a busy machine is slow
                page.goto(f"{n8n.url}/signin")
                page.locator("input[name=emailOrLdapLoginId]").fill(OWNER_EMAIL)
                page.locator("input[type=password]").fill(OWNER_PASSWORD)
                page.keyboard.press("Enter")
                page.wait_for_url(lambda url: "/signin" not in url)
                page.goto(f"{n8n.url}/workflow/{WORKFLOW_ID}")
                node = page.locator('[data-test-id="canvas-node"][data-node-name="Reply in Avito"]')
                node.wait_for()
                page.wait_for_timeout(2000)  # let the canvas settle
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(folder / "workflow.png"))
                node.dblclick()
                page.get_by_text("Chat ID").first.wait_for()
                page.wait_for_timeout(2000)
                page.screenshot(path=str(folder / "editor.png"))
                browser.close()
        finally:
            n8n.stop()


if __name__ == "__main__":
    take(Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGE / "docs")
