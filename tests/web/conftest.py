"""The server and the browser the web journeys run on.

A fresh demo store (`grassroots demo --months 1 --no-serve`), one account per staff role in township 330502001
(`user add`), and `grassroots serve` on a free port, with the binary GRASSROOTS_BIN (default target/release/grassroots).
The browser is Debian's Chromium (/usr/bin/chromium, or CHROMIUM) driven by Playwright with `executable_path`:
Playwright's own browser download cannot work here. Pages are 375 px wide (a phone) and a screenshot of each page is
kept under .tmp/screenshots/.
"""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "browser-test-pass"
TOWNSHIP = "330502001"
SCREENSHOTS = ROOT / ".tmp" / "screenshots"


def binary():
    if os.environ.get("GRASSROOTS_BIN"):
        return os.environ["GRASSROOTS_BIN"]
    return str(ROOT / "target" / "release" / "grassroots")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    bin_path = binary()
    work = ROOT / ".tmp" / "test"
    work.mkdir(parents=True, exist_ok=True)
    path = work / "web-browser.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    db = f"sqlite://{path}"
    subprocess.run([bin_path, "--db", db, "demo", "--months", "1", "--no-serve", "--json"],
                   check=True, stdout=subprocess.DEVNULL)
    for name, role in [("web-caseworker", "caseworker"), ("web-head", "office_head"), ("web-gridworker", "grid_worker")]:
        subprocess.run([bin_path, "--db", db, "user", "add", name, "--role", role, "--scope", TOWNSHIP,
                        "--office", f"{TOWNSHIP}:gov", "--password", PASSWORD], check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    proc = subprocess.Popen(
        [bin_path, "--db", db, "serve", "--listen", f"127.0.0.1:{port}", "--rate-per-ip", "10000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/health", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("grassroots serve did not start: " + (proc.stderr.read() if proc.stderr else ""))
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser():
    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    assert Path(executable).exists(), f"{executable} is missing: apt-get install chromium fonts-noto-cjk"
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture()
def new_page(browser, server):
    """A page in a fresh context (its own cookies), 375 px wide."""
    contexts = []

    def make():
        context = browser.new_context(viewport={"width": 375, "height": 812}, base_url=server)
        contexts.append(context)
        return context.new_page()

    yield make
    for c in contexts:
        c.close()


@pytest.fixture(scope="session")
def screenshot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name):
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
