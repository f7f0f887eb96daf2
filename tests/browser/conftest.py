"""Real-browser fixtures: the portal served by uvicorn on a free local port over a fresh
SQLite store, and Debian's Chromium driven by Playwright.

Without Chromium the browser tests are skipped — except in CI (``CI=true``), where a
missing browser fails the run (`.ci/run` installs it).  Set ``BAOXIAN_SCREENSHOTS`` to a
folder (e.g. ``docs/screenshots``) to refresh the screenshots of the main pages."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, FilePayload, Page, expect, sync_playwright

from baoxian.bootstrap import App, build
from baoxian.settings import Settings
from baoxian.web.app import create_app
from tests.web.claim_helpers import PNG
from tests.web.conftest import MovableClock

CATALOG = Path(__file__).resolve().parents[2] / "catalog"
CHROMIUM = os.environ.get("BAOXIAN_CHROMIUM", "/usr/bin/chromium")


def _chromium() -> str:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"Chromium not found at {CHROMIUM}: .ci/run installs the Debian package")
    pytest.skip("Chromium is not installed (Debian package chromium)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, app: App) -> None:
        self.app = app
        self.port = _free_port()
        config = uvicorn.Config(
            create_app(app, demo=True), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def clock() -> MovableClock:
    """The server's clock: 1 July 2026, 10:00 in Shanghai, unless a test module says
    otherwise (its own ``clock`` fixture) or moves it."""
    return MovableClock(datetime(2026, 7, 1, 2, 0, tzinfo=UTC))


@pytest.fixture
def app(tmp_path: Path, clock: MovableClock) -> App:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", catalog_dir=CATALOG)
    return build(settings, clock=clock)


@pytest.fixture
def server(app: App) -> Iterator[LiveServer]:
    with LiveServer(app) as live:
        yield live


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    path = _chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 412, "height": 915}, locale="zh-CN")
    yield context.new_page()
    context.close()


@pytest.fixture
def other_page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 412, "height": 915}, locale="zh-CN")
    yield context.new_page()
    context.close()


def sign_in(page: Page, server: LiveServer, mobile: str, lands_on: str = "/me") -> None:
    """Sign in on the page the browser is on, if it is the sign-in page, else from the
    home page: the code is read from the demo outbox on the page, as a tester would."""
    if not page.locator("#send-code").count():
        page.goto(server.url + "/")
    page.fill("#mobile", mobile)
    page.click("#send-code")
    outbox = page.locator("#outbox li").first
    expect(outbox).to_contain_text(mobile[-4:])
    found = re.search(r"(\d{6})", outbox.inner_text())
    assert found
    page.fill("#code", found.group(1))
    page.click("#verify")
    expect(page).to_have_url(server.url + lands_on)


def staff_sign_in(page: Page, server: LiveServer, user_id: str, password: str) -> None:
    """Sign in to the console (云柜面) with a staff ID and password."""
    page.goto(server.url + "/console")
    page.fill("#user_id", user_id)
    page.fill("#password", password)
    page.click("#staff-sign-in")
    expect(page.locator("#sign-out")).to_be_visible()


def invoice_photo() -> FilePayload:
    """A real, tiny PNG as the file a customer picks for "photo of the invoice"."""
    return {"name": "invoice.png", "mimeType": "image/png", "buffer": PNG}


def screenshot(page: Page, name: str) -> None:
    """Refresh ``docs/screenshots/<name>.png`` when BAOXIAN_SCREENSHOTS names the folder."""
    folder = os.environ.get("BAOXIAN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
