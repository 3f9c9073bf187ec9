#!/usr/bin/env bash
# Fuzzes the live REST API against its own OpenAPI document with schemathesis: no 5xx, no response that violates the
# schema (status codes, content types, headers, bodies). Usage: crosscheck/openapi/run.sh BASE_URL [BEARER_TOKEN]
# The sign-out operation is excluded so that the token stays valid for the whole run.
set -euo pipefail
base="${1:?base URL, e.g. http://127.0.0.1:8311}"
token="${2:-}"
here="$(cd "$(dirname "$0")/../.." && pwd)"
auth=()
if [[ -n "$token" ]]; then auth=(-H "Authorization: Bearer $token"); fi
exec "$here/.venv/bin/schemathesis" run "$base/openapi.json" "${auth[@]}" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --exclude-method DELETE --max-examples "${MAX_EXAMPLES:-50}"
