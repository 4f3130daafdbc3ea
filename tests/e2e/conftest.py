"""The e2e tier: the real demo stack (Kafka, stream, scorer, persist, API + UI) started with
``linewatch demo`` once per session, driven by Debian's Chromium through Playwright.

Never skipped: if the stack or the browser cannot start, the tests fail with the reason.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "test-results" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@dataclass
class Stack:
    url: str
    user: str
    password: str
    output: list[str]

    def token(self, user: str | None = None, password: str | None = None) -> str:
        res = httpx.post(f"{self.url}api/v1/auth/login",
                         json={"username": user or self.user, "password": password or self.password}, timeout=10)
        res.raise_for_status()
        return res.json()["access_token"]

    def api(self, method: str, path: str, token: str, **kw) -> httpx.Response:
        return httpx.request(method, f"{self.url}api/v1{path}", headers={"Authorization": f"Bearer {token}"},
                             timeout=15, **kw)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Stack:
    work = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "LINEWATCH_REGISTRY_DIR": str(ROOT / "var" / "test-results" / "e2e-registry"),
           "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "services.cli", "demo", "--work", str(work),
                             "--port", str(_free_port())], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: list[str] = []
    threading.Thread(target=lambda: [output.append(line.rstrip()) for line in proc.stdout], daemon=True).start()
    deadline = time.monotonic() + 240
    url = login = None
    while time.monotonic() < deadline and proc.poll() is None and not (url and login):
        text = "\n".join(output)
        url = url or (m.group(1) if (m := re.search(r"LineWatch is running:\s*(http://\S+/)", text)) else None)
        login = login or re.search(r"login:\s*(\S+)\s*/\s*(\S+)", text)
        time.sleep(0.5)
    try:
        if not (url and login):
            pytest.fail("linewatch demo did not come up:\n" + "\n".join(output[-40:]), pytrace=False)
        yield Stack(url, login.group(1), login.group(2), output)
    finally:
        proc.send_signal(signal.SIGTERM)  # the demo stops its children and the broker itself
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:  # noqa: BLE001 - report any launch failure as a test failure
            pytest.fail(f"Chromium ({CHROMIUM}) could not start: {exc}", pytrace=False)
        yield b
        b.close()


@pytest.fixture(autouse=True)
def _close_pages(request):
    """Each test's pages are closed after it: an open page keeps its live stream and polling
    running against the one demo server the whole session shares."""
    yield
    if "browser" in request.fixturenames:
        for context in request.getfixturevalue("browser").contexts:
            context.close()


def login(browser, stack: Stack, user: str | None = None, password: str | None = None, lang: str = "en"):
    """A fresh page in its own context, logged in, on the overview."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en-US")
    context.add_init_script(f"if (!localStorage.getItem('lw.lang')) localStorage.setItem('lw.lang', '{lang}');")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a blocked inline script/style or foreign load shows as a console error naming the CSP
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.errors = errors
    page.goto(stack.url)
    page.fill("#login-user", user or stack.user)
    page.fill("#login-password", password or stack.password)
    page.click("#login-submit")
    page.wait_for_selector("#overview .tile")
    return page


def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    # The viewport as the operator sees it, animations (blinking badges) stopped for a stable
    # image; a full-page raster of a 500-row live inbox took > 30 s on a busy 2-core machine.
    page.screenshot(path=str(path), animations="disabled")
    return path
