#!/usr/bin/env bash
# Durable Open311 intake over loopback beside the raw insert rate of the same rows into the same SQLite file.
# See crates/server/benches/intake.rs. INTAKE_REQUESTS and INTAKE_CONNECTIONS tune the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec cargo bench -p server --bench intake
