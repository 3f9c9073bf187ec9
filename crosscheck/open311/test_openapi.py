"""schemathesis against the live server's own `/openapi.json`: no 5xx, and every response conforms to the document
(status code, content type, headers, body schema). Runs as a caseworker so that the authenticated operations are
exercised too (see conftest.py and ../openapi/run.sh)."""

import subprocess

import requests

from conftest import PASSWORD, ROOT


def test_schemathesis_finds_no_failures(server):
    base, _ = server
    r = requests.post(f"{base}/api/v1/sessions", json={"name": "crosscheck-caseworker", "password": PASSWORD}, timeout=30)
    token = r.json()["token"] if r.ok else ""
    run = subprocess.run(
        [str(ROOT / "crosscheck" / "openapi" / "run.sh"), base, token],
        capture_output=True, text=True, timeout=900,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "passed" in run.stdout
