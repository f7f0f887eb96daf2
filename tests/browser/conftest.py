"""Real-browser fixtures: the portal served by uvicorn on a free local port over a fresh
SQLite store, and Debian's Chromium driven by Playwright.

Without Chromium the browser tests are skipped — except in CI (``CI=true``), where a
missing browser fails the run (`.ci/run` installs it).  Set ``BAOXIAN_SCREENSHOTS`` to a
folder (e.g. ``docs/screenshots``) to refresh the screenshots of the main pages."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from baoxian.bootstrap import App, build
from baoxian.settings import Settings
from baoxian.web.app import create_app

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
def app(tmp_path: Path) -> App:
    return build(Settings(database_url=f"sqlite:///{tmp_path / 'web.db'}", catalog_dir=CATALOG))


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


def screenshot(page: Page, name: str) -> None:
    """Refresh ``docs/screenshots/<name>.png`` when BAOXIAN_SCREENSHOTS names the folder."""
    folder = os.environ.get("BAOXIAN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
