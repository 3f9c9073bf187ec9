#!/usr/bin/env python3
"""Soak (issue 16 §3): `grassroots serve` for N minutes at half its measured maximum intake rate, reads mixed in.

A fresh SQLite store (`grassroots demo --months 1 --no-serve`, an API key and a caseworker of the office that takes the
reports, as bench/crash/run.py makes them). First the maximum intake rate is measured for `--probe` seconds: several
threads post Open311 reports as fast as the server acknowledges them (on this machine the client and the server share
the cores, so this is the rate of the whole loop). Then the soak runs `--minutes` at half that many requests per second,
open loop (each intake has its scheduled time, so a slow server is not given a rest), each intake followed by `--reads`
reads, in turn the case as its caseworker (`GET /api/v1/cases/{id}`) and as the Open311 request: with one read per
intake, a quarter of the maximum intake rate in intakes and as many reads. Per minute it prints requests, errors (no
answer, or a status other than 200/201), latency percentiles (an intake's from its scheduled time) and the server's
resident memory (VmRSS of /proc/PID/status).

    bench/soak/run.sh [--minutes 10] [--probe 20] [--threads 8] [--reads 1] [--backend sqlite|postgres]
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "crash"))
import run as crash  # noqa: E402  (the crash harness's store, server and sign-in helpers)


class Client:
    """One keep-alive connection; reconnects after an error."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
        return 0, b""


def intake_body(key: str, text: str) -> bytes:
    return urllib.parse.urlencode({"api_key": key, "service_code": "street_lighting",
                                   "address_string": "月河街道", "description": text}).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def probe(port: int, key: str, seconds: float, threads: int) -> float:
    """Acknowledged intakes per second with `threads` clients posting back to back."""
    done = [0] * threads
    stop = time.monotonic() + seconds

    def worker(n: int):
        c = Client(port)
        i = 0
        while time.monotonic() < stop:
            i += 1
            status, _ = c.request("POST", "/open311/v2/requests.json", intake_body(key, f"probe {n} {i}"), FORM)
            if status == 200:
                done[n] += 1

    ts = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(done) / (time.monotonic() - started)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def soak(port: int, pid: int, key: str, token: str, rate: float, minutes: int, threads: int, reads: int) -> bool:
    """Runs the soak; prints a row per minute; True when no request failed."""
    lock = threading.Lock()
    samples: list[tuple[int, float, bool]] = []  # (minute, latency s, ok)
    next_slot = [0]
    started = time.monotonic() + 0.5
    end = started + minutes * 60
    interval = 1.0 / rate
    auth = {"Authorization": f"Bearer {token}"}

    def worker(n: int):
        c = Client(port)
        while True:
            with lock:
                slot = next_slot[0]
                next_slot[0] += 1
            due = started + slot * interval
            if due >= end:
                return
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            status, body = c.request("POST", "/open311/v2/requests.json", intake_body(key, f"soak {slot}"), FORM)
            ok = status == 200
            record(due, ok)
            if not ok:
                continue
            case = json.loads(body)[0]["service_request_id"]
            paths = [f"/api/v1/cases/{case}", f"/open311/v2/requests/{case}.json"]
            for r in range(reads):
                path = paths[(slot + r) % len(paths)]
                t0 = time.monotonic()
                status, _ = c.request("GET", path, headers=auth if path.startswith("/api/") else None)
                record(t0, status == 200)

    def record(since: float, ok: bool):
        now = time.monotonic()
        minute = int((now - started) // 60)
        with lock:
            samples.append((minute, now - since, ok))

    ts = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for t in ts:
        t.start()
    print(f"| minute | requests | errors | p50 ms | p95 ms | p99 ms | server RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    all_ok = True
    for minute in range(minutes):
        time.sleep(max(0.0, started + (minute + 1) * 60 - time.monotonic()))
        rss = rss_kib(pid) / 1024
        with lock:
            rows = [s for s in samples if s[0] == minute]
        latencies = sorted(s[1] for s in rows)
        errors = sum(1 for s in rows if not s[2])
        all_ok &= errors == 0
        print(f"| {minute + 1} | {len(rows)} | {errors} | {percentile(latencies, 0.5) * 1000:.1f} "
              f"| {percentile(latencies, 0.95) * 1000:.1f} | {percentile(latencies, 0.99) * 1000:.1f} | {rss:.1f} |",
              flush=True)
    for t in ts:
        t.join(timeout=60)
    return all_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--probe", type=float, default=20.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--reads", type=int, default=1)
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    work = crash.ROOT / ".tmp" / "soak"
    work.mkdir(parents=True, exist_ok=True)
    backend = crash.Backend(args.backend, work)
    try:
        key, office = crash.setup(backend, work)
        server = crash.Server(backend.url, crash.free_port(), work / f"soak-{args.backend}.log")
        server.start()
        server.wait_up()
        token = crash.sign_in(server, "crash-caseworker")
        maximum = probe(server.port, key, args.probe, args.threads)
        rate = maximum / 2 / (1 + args.reads)
        print(f"maximum intake {maximum:.0f}/s with {args.threads} clients over {args.probe:.0f} s; soaking "
              f"{args.minutes} min at {maximum / 2:.0f} requests/s: {rate:.0f} intakes/s, {args.reads} read(s) each "
              f"({args.backend})", flush=True)
        ok = soak(server.port, server.proc.pid, key, token, rate, args.minutes, args.threads * 2, args.reads)
        server.stop()
        return 0 if ok else 1
    finally:
        backend.drop()


if __name__ == "__main__":
    sys.exit(main())
