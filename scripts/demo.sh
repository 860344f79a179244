#!/usr/bin/env bash
# The README's demo (for now): start the local opendeploy gateway on a free port, show it
# serving, stop it cleanly. The lead replaces this with plan + apply later.
set -euo pipefail
cd "$(dirname "$0")/.."
ODPLAN=.venv/bin/odplan
PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$ODPLAN" gateway serve --port "$PORT" --db "$WORK/gateway.db" >"$WORK/out" 2>"$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do
  grep -q '^dashboard token:' "$WORK/out" 2>/dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/err" >&2; exit 1; }
  sleep 0.1
done
BASE=$(sed -n 's/^opendeploy local gateway: //p' "$WORK/out")
TOKEN=$(sed -n 's/^dashboard token: //p' "$WORK/out")
echo "local gateway serving at $BASE (token od_k***)"
echo "GET $BASE/v1/regions/"
curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE/v1/regions/" \
  | .venv/bin/python -c '
import json, sys
for r in json.load(sys.stdin):
    print("  %-12s %-9s %s" % (r["code"], r["status"], r["environment"]))'
echo "GET $BASE/v1/regions (no slash) -> $(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H "Authorization: Bearer $TOKEN" "$BASE/v1/regions")"
kill -INT "$SERVER"
wait "$SERVER"
echo "gateway stopped cleanly (exit $?)"
