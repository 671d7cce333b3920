#!/usr/bin/env bash
# `make fuzz`: start local mode on its own ports and data folder, run schemathesis against its
# /openapi.json (bounded: FUZZ_EXAMPLES per operation, fixed seed), print its summary, stop local mode.
# Checks: no 5xx, and answers that match the OpenAPI description (status codes, content types, schemas).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="${PY:-.venv/bin/python}"
PORT="${BALAI_PORT:-8100}"
DB_PORT="${BALAI_DB_PORT:-8101}"
EXAMPLES="${FUZZ_EXAMPLES:-25}"
DATA="$(mktemp -d -t balai-fuzz-XXXXXX)"
LOG="$DATA/run.log"

"$PY" -m localmode.run --port "$PORT" --db-port "$DB_PORT" --data-dir "$DATA" >"$LOG" 2>&1 &
RUN_PID=$!
cleanup() {
  kill "$RUN_PID" 2>/dev/null || true
  wait "$RUN_PID" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do
  if curl -sf "$BASE/openapi.json" >/dev/null 2>&1; then break; fi
  sleep 1
done
curl -sf "$BASE/openapi.json" >/dev/null || { echo "local mode did not start; log:" >&2; tail -30 "$LOG" >&2; exit 1; }

TOKEN="$(curl -s -H 'Content-Type: application/json' "$BASE/v1/auth/login" \
  -d '{"username":"admin","password":"balai-demo"}' | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["token"])')"

start=$(date +%s)
set +e
.venv/bin/schemathesis run "$BASE/openapi.json" --url "$BASE" \
  --max-examples "$EXAMPLES" --seed 8 --workers 1 --phases examples,coverage,fuzzing \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  -H "Authorization: Bearer $TOKEN" --request-timeout 30 --no-color
status=$?
set -e
echo "[fuzz] schemathesis exit status $status in $(( $(date +%s) - start )) s ($EXAMPLES examples per operation)"
# 5xx answers seen by local mode, whatever schemathesis reported
echo "[fuzz] 5xx lines in the local-mode log: $(grep -c '" 5[0-9][0-9] ' "$LOG" || true)"
exit $status
