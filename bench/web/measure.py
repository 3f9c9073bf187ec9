"""Server time per page (p50/p95 over 50 requests each), page bytes, and the time to a drawn map in headless Chromium,
on a store made by `grassroots demo --months 1` (tests/web's database unless GRASSROOTS_DB is given).

    .venv/bin/python bench/web/measure.py   # after `pytest tests/web` made .tmp/test/web-browser.db
"""

import gzip
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("GRASSROOTS_BIN", str(ROOT / "target" / "release" / "grassroots"))
DB = os.environ.get("GRASSROOTS_DB", f"sqlite://{ROOT / '.tmp' / 'test' / 'web-browser.db'}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    port = free_port()
    proc = subprocess.Popen([BIN, "--db", DB, "serve", "--listen", f"127.0.0.1:{port}", "--rate-per-ip", "100000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        s = requests.Session()
        start = time.perf_counter()
        s.get(f"{base}/map/areas.geojson")
        first_map = time.perf_counter() - start
        s.get(f"{base}/signin")
        s.post(f"{base}/signin", data={"csrf": s.cookies["grassroots_csrf"], "name": "web-caseworker",
                                       "password": "browser-test-pass", "next": "/"})
        queue = s.get(f"{base}/cases").text
        case = re.search(r'href="/cases/(\d+)"', queue).group(1)
        print(f"first /map/areas.geojson (dissolving the counties' cells): {first_map * 1000:.0f} ms")
        print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>8} {'gzip':>8}")
        for path in ["/", "/report", "/cases", f"/cases/{case}", "/alerts", "/map/areas.geojson"]:
            times = []
            for _ in range(50):
                t = time.perf_counter()
                r = s.get(base + path)
                times.append((time.perf_counter() - t) * 1000)
                assert r.ok, (path, r.status_code)
            times.sort()
            body = r.content
            print(f"{path:32} {statistics.median(times):8.1f} {times[int(len(times) * 0.95) - 1]:8.1f} "
                  f"{len(body):8} {len(gzip.compress(body)):8}")
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path="/usr/bin/chromium",
                                  args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = b.new_page()
            t = time.perf_counter()
            page.goto(f"{base}/report")
            page.wait_for_selector("#map path.leaflet-interactive")
            drawn = time.perf_counter() - t
            township = page.evaluate("""async () => {
                const t0 = performance.now();
                const r = await fetch('/map/areas.geojson?under=330502001');
                const d = await r.json();
                const layer = L.geoJSON(d).addTo(window.grassrootsMap);
                window.grassrootsMap.fitBounds(layer.getBounds());
                await new Promise(requestAnimationFrame);
                return [performance.now() - t0, d.features.length];
            }""")
            print(f"/report to the counties drawn: {drawn * 1000:.0f} ms; one township's villages fetched and drawn: "
                  f"{township[0]:.0f} ms ({township[1]} villages)")
            b.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
