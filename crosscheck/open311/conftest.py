"""The live server the Open311 and OpenAPI cross-checks talk to.

Set GRASSROOTS_URL (and GRASSROOTS_API_KEY) to use a running server. Otherwise the fixture builds a fresh store with
`grassroots demo --months 1 --no-serve` (or uses GRASSROOTS_DB), creates an API key and a caseworker account, and
starts `grassroots serve` on a free port with the binary GRASSROOTS_BIN (default target/release/grassroots, else
target/debug/grassroots).
"""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "crosscheck-password"


def binary():
    if os.environ.get("GRASSROOTS_BIN"):
        return os.environ["GRASSROOTS_BIN"]
    release = ROOT / "target" / "release" / "grassroots"
    return str(release if release.exists() else ROOT / "target" / "debug" / "grassroots")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    url = os.environ.get("GRASSROOTS_URL")
    if url:
        yield url.rstrip("/"), os.environ.get("GRASSROOTS_API_KEY")
        return
    binary_path = binary()
    db = os.environ.get("GRASSROOTS_DB")
    if not db:
        work = ROOT / ".tmp" / "test"
        work.mkdir(parents=True, exist_ok=True)
        path = work / "open311-crosscheck.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db = f"sqlite://{path}"
        subprocess.run([binary_path, "--db", db, "demo", "--months", "1", "--no-serve", "--json"],
                       check=True, stdout=subprocess.DEVNULL)
    account = ["crosscheck-caseworker", "--role", "caseworker", "--scope", "330502001", "--office", "330502001:gov",
               "--password", PASSWORD]
    # `user add` refuses a name that exists (a reused GRASSROOTS_DB): then reset the account with `user set`.
    added = subprocess.run([binary_path, "--db", db, "user", "add", *account],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if added.returncode != 0:
        subprocess.run([binary_path, "--db", db, "user", "set", *account], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([binary_path, "--db", db, "user", "enable", "crosscheck-caseworker"],
                       check=True, stdout=subprocess.DEVNULL)
    key = subprocess.run(
        [binary_path, "--db", db, "apikey", "create", "--name", f"crosscheck-{os.getpid()}-{time.time_ns()}"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    port = free_port()
    proc = subprocess.Popen(
        [binary_path, "--db", db, "serve", "--listen", f"127.0.0.1:{port}", "--rate-per-ip", "10000"],
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
    yield base, key
    proc.terminate()
    proc.wait(timeout=30)


