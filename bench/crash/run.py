#!/usr/bin/env python3
"""Crash safety of `grassroots serve` (issue 16 §1): SIGKILL at random moments under sustained intake and actions.

For each backend (SQLite, PostgreSQL) this makes a fresh store (`grassroots demo --months 1 --no-serve`), an API key
and a caseworker of the office that takes the harness's reports, then runs the server and several client threads:
each thread files reports through Open311 (`POST /open311/v2/requests.json`) and takes each acknowledged case through
`accept` and `reply` (`POST /api/v1/cases/{id}/actions`). A killer thread sends SIGKILL to the server at random
moments and starts it again at once (the restart loop is the harness's: "comes back by itself" is measured as the
time from the kill to the first 200 of /health).

Every request answered 200/201 is an acknowledgement: afterwards the case must exist with every acknowledged event
in its log, in order. A request cut off by a kill has no answer: its event may or may not be there, and both are
right. At the end, straight from the database: no case has a half-written log (a case row without events, a
projection `last_seq` that is not the log's last event, or a gap in the sequence numbers), and through the API every
case still loads (its log replays).

    bench/crash/run.sh [--backend sqlite|postgres|both] [--kills 200] [--clients 4] [--seed 1]

Prints one table row per backend: kills survived, acknowledged cases / events, lost, half-written logs, and the
median / max time back after a kill. Exits non-zero if anything acknowledged was lost or a log is half-written.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "crash-harness-pass"
# A township of the demo region (Huzhou, Wuxing district): reports name it by address, so they need no point.
TOWNSHIP = "330502001"
PG_ADMIN = os.environ.get("GRASSROOTS_TEST_PG", "postgres://app@127.0.0.1:54339/postgres")


def binary() -> str:
    if os.environ.get("GRASSROOTS_BIN"):
        return os.environ["GRASSROOTS_BIN"]
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(Path(target) / "release" / "grassroots")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args: list[str], **kw) -> str:
    done = subprocess.run(args, check=True, capture_output=True, text=True, **kw)
    return done.stdout


def call(method: str, url: str, body: bytes | None = None, headers: dict | None = None, timeout: float = 10.0):
    """(status, parsed JSON or text); status 0 when the connection failed or was cut (no answer)."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        status = e.code
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError, http.client.HTTPException):
        return 0, None
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class Backend:
    """A fresh database of one kind, its URL, and direct SQL on it."""

    def __init__(self, kind: str, work: Path):
        self.kind = kind
        stamp = f"{os.getpid()}_{int(time.time())}"
        if kind == "sqlite":
            self.path = work / f"crash-{stamp}.db"
            self.url = f"sqlite://{self.path}"
        else:
            name = f"crash_{stamp}"
            run(["psql", PG_ADMIN, "-qc", f"CREATE DATABASE {name}"])
            self.url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
            self.name = name

    def query(self, sql: str) -> list[tuple]:
        if self.kind == "sqlite":
            con = sqlite3.connect(self.path)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        out = run(["psql", self.url, "-AtF", "\t", "-c", sql])
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def drop(self):
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        else:
            subprocess.run(["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"],
                           capture_output=True)


HALF_WRITTEN = """
SELECT c.id, c.last_seq, e.n, e.lo, e.hi FROM cases c
LEFT JOIN (SELECT case_id, COUNT(*) AS n, MIN(seq) AS lo, MAX(seq) AS hi FROM case_events GROUP BY case_id) e
  ON e.case_id = c.id
WHERE e.n IS NULL OR e.hi <> c.last_seq OR e.n <> e.hi - e.lo + 1
"""
ORPHAN_EVENTS = "SELECT DISTINCT case_id FROM case_events WHERE case_id NOT IN (SELECT id FROM cases)"


class Server:
    """`grassroots serve` on a fixed port, killed and restarted by the harness."""

    def __init__(self, db: str, port: int, log: Path):
        self.db, self.port, self.log = db, port, log
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self):
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [binary(), "--db", self.db, "serve", "--listen", f"127.0.0.1:{self.port}",
                 "--rate-per-ip", "1000000", "--rate-per-key", "1000000"],
                stdout=subprocess.DEVNULL, stderr=log,
            )

    def wait_up(self, timeout: float = 60.0) -> float:
        """Seconds until /health answers 200."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            status, _ = call("GET", f"{self.base}/health", timeout=1.0)
            if status == 200:
                return time.monotonic() - started
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log}")
            time.sleep(0.02)
        raise RuntimeError(f"the server did not come back within {timeout} s; see {self.log}")

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


class Ledger:
    """What the server acknowledged, and what it may have done without saying (a request cut off by a kill)."""

    def __init__(self):
        self.lock = threading.Lock()
        # case id -> list of (event kind, acknowledged?) in the order the requests were made
        self.cases: dict[int, list[tuple[str, bool]]] = {}
        self.unanswered_intakes = 0
        self.errors: list[str] = []

    def filed(self, case: int):
        with self.lock:
            self.cases[case] = [("created", True)]

    def acted(self, case: int, kind: str, acknowledged: bool):
        with self.lock:
            self.cases[case].append((kind, acknowledged))

    def error(self, text: str):
        with self.lock:
            if len(self.errors) < 20:
                self.errors.append(text)


def client(server: Server, key: str, token: str, ledger: Ledger, stop: threading.Event, n: int, rng: random.Random):
    form_headers = {"Content-Type": "application/x-www-form-urlencoded"}
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    serial = 0
    while not stop.is_set():
        serial += 1
        body = urllib.parse.urlencode({
            "api_key": key, "service_code": "street_lighting", "address_string": "月河街道",
            "description": f"crash harness client {n} report {serial}",
        }).encode()
        status, answer = call("POST", f"{server.base}/open311/v2/requests.json", body, form_headers)
        if status == 0 or status >= 500:
            with ledger.lock:
                ledger.unanswered_intakes += 1
            time.sleep(0.05)
            continue
        if status != 200:
            ledger.error(f"intake answered {status}: {answer}")
            time.sleep(0.1)
            continue
        case = int(answer[0]["service_request_id"])
        ledger.filed(case)
        for action in (("accepted", {"action": "accept"}), ("replied", {"action": "reply", "text": "fixed"})):
            if stop.is_set():
                break
            kind, payload = action
            while not stop.is_set():
                status, answer = call("POST", f"{server.base}/api/v1/cases/{case}/actions",
                                      json.dumps(payload).encode(), auth)
                if status == 200:
                    ledger.acted(case, kind, True)
                    break
                if status == 409 and ledger.cases[case] and ledger.cases[case][-1] == (kind, False):
                    # The unanswered attempt was recorded after all: the step is done.
                    break
                if status == 0 or status >= 500:
                    # Cut off by a kill: it may have been recorded. Try again once the server is back.
                    ledger.acted(case, kind, False)
                    time.sleep(0.05 + rng.random() * 0.1)
                    continue
                ledger.error(f"case {case} {kind} answered {status}: {answer}")
                break


def killer(server: Server, kills: int, stop: threading.Event, back_times: list[float], rng: random.Random):
    for _ in range(kills):
        time.sleep(0.15 + rng.random() * 0.6)
        server.kill()
        killed_at = time.monotonic()
        server.start()
        server.wait_up()
        back_times.append(time.monotonic() - killed_at)
    stop.set()


def setup(backend: Backend, work: Path) -> tuple[str, str]:
    """A demo store, an Open311 key, and a caseworker of the office that takes street lighting in the township."""
    bin_path = binary()
    run([bin_path, "--db", backend.url, "demo", "--months", "1", "--no-serve", "--json"])
    key = run([bin_path, "--db", backend.url, "apikey", "create", "--name", "crash-harness"]).strip()
    # Which office takes the harness's reports: file one and read it back as an administrator of the township.
    run([bin_path, "--db", backend.url, "user", "add", "crash-admin", "--role", "administrator",
         "--scope", TOWNSHIP, "--password", PASSWORD])
    server = Server(backend.url, free_port(), work / f"crash-{backend.kind}-setup.log")
    server.start()
    try:
        server.wait_up()
        body = urllib.parse.urlencode({"api_key": key, "service_code": "street_lighting",
                                       "address_string": "月河街道", "description": "which office"}).encode()
        status, answer = call("POST", f"{server.base}/open311/v2/requests.json", body,
                              {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, (status, answer)
        case = answer[0]["service_request_id"]
        token = sign_in(server, "crash-admin")
        status, detail = call("GET", f"{server.base}/api/v1/cases/{case}", headers={"Authorization": f"Bearer {token}"})
        assert status == 200, (status, detail)
        office = detail["case"]["office"]
    finally:
        server.stop()
    run([bin_path, "--db", backend.url, "user", "add", "crash-caseworker", "--role", "caseworker",
         "--scope", office.split(":")[0], "--office", office, "--password", PASSWORD])
    return key, office


def sign_in(server: Server, name: str) -> str:
    for _ in range(100):
        status, answer = call("POST", f"{server.base}/api/v1/sessions",
                              json.dumps({"name": name, "password": PASSWORD}).encode(),
                              {"Content-Type": "application/json"})
        if status == 200:
            return answer["token"]
        time.sleep(0.1)
    raise RuntimeError(f"cannot sign in {name}: {status} {answer}")


def verify(backend: Backend, server: Server, ledger: Ledger) -> dict:
    token = sign_in(server, "crash-caseworker")
    auth = {"Authorization": f"Bearer {token}"}
    lost_cases, lost_events, unreadable = [], 0, []
    acknowledged_events = 0
    for case, expected in sorted(ledger.cases.items()):
        status, detail = call("GET", f"{server.base}/api/v1/cases/{case}", headers=auth, timeout=30)
        acknowledged_events += sum(1 for _, ack in expected if ack)
        if status == 404:
            lost_cases.append(case)
            continue
        if status != 200:
            unreadable.append((case, status))
            continue
        kinds = [e["event"]["type"] for e in detail["events"]]
        # Each acknowledged step is in the log, in the order it was taken; an unanswered one may be there or not.
        # Retries of a step cut off by a kill are one step, acknowledged if any attempt was.
        steps: list[tuple[str, bool]] = []
        for kind, acknowledged in expected:
            if steps and steps[-1][0] == kind:
                steps[-1] = (kind, steps[-1][1] or acknowledged)
            else:
                steps.append((kind, acknowledged))
        position = 0
        for kind, acknowledged in steps:
            found = next((i for i in range(position, len(kinds)) if kinds[i] == kind), None)
            if found is None:
                if acknowledged:
                    lost_events += 1
                    if os.environ.get("CRASH_DEBUG"):
                        print(f"case {case}: expected {expected}, log {kinds}", file=sys.stderr)
                continue
            position = found + 1
    half = backend.query(HALF_WRITTEN)
    orphans = backend.query(ORPHAN_EVENTS)
    return {
        "cases": len(ledger.cases),
        "events": acknowledged_events,
        "lost_cases": lost_cases,
        "lost_events": lost_events,
        "unreadable": unreadable,
        "half_written": half,
        "orphans": orphans,
    }


def run_backend(kind: str, kills: int, clients: int, seed: int, work: Path) -> dict:
    backend = Backend(kind, work)
    try:
        key, office = setup(backend, work)
        server = Server(backend.url, free_port(), work / f"crash-{kind}.log")
        server.start()
        server.wait_up()
        token = sign_in(server, "crash-caseworker")
        ledger, stop, back = Ledger(), threading.Event(), []
        rng = random.Random(seed)
        threads = [threading.Thread(target=client, args=(server, key, token, ledger, stop, n, random.Random(seed + n)))
                   for n in range(clients)]
        for t in threads:
            t.start()
        started = time.monotonic()
        killer(server, kills, stop, back, rng)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        server.wait_up()
        result = verify(backend, server, ledger)
        server.stop()
        result.update(kind=kind, kills=len(back), back=back, elapsed=elapsed, office=office,
                      unanswered=ledger.unanswered_intakes, errors=ledger.errors)
        return result
    finally:
        backend.drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = ROOT / ".tmp" / "crash"
    work.mkdir(parents=True, exist_ok=True)
    kinds = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    failed = False
    print("| backend | kills survived | acknowledged cases | acknowledged events | cases lost | events lost "
          "| half-written logs | unreadable | back after kill: median / max s | run s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind in kinds:
        r = run_backend(kind, args.kills, args.clients, args.seed, work)
        bad = r["lost_cases"] or r["lost_events"] or r["half_written"] or r["orphans"] or r["unreadable"]
        failed |= bool(bad)
        back = r["back"] or [0.0]
        print(f"| {kind} | {r['kills']} | {r['cases']} | {r['events']} | {len(r['lost_cases'])} | {r['lost_events']} "
              f"| {len(r['half_written']) + len(r['orphans'])} | {len(r['unreadable'])} "
              f"| {statistics.median(back):.2f} / {max(back):.2f} | {r['elapsed']:.0f} |", flush=True)
        if bad:
            print(f"  {kind}: lost {r['lost_cases'][:10]}, half-written {r['half_written'][:10]}, "
                  f"orphans {r['orphans'][:10]}, unreadable {r['unreadable'][:10]}", file=sys.stderr)
        if r["errors"]:
            print(f"  {kind}: unexpected answers (first {len(r['errors'])}): {r['errors']}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
