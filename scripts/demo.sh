#!/usr/bin/env bash
# The README's demo: validate, plan and apply an example (FastAPI + PostgreSQL + Redis) on the
# embedded local gateway, ending in its live URL. Run it again: the plan is empty, nothing is
# redeployed. The local gateway keeps its state in ~/.opendeploy/local/, apart from any real
# credential.
set -euo pipefail
cd "$(dirname "$0")/.."
ODPLAN=.venv/bin/odplan
EXAMPLE=examples/fastapi-postgres-redis/opendeploy.yaml
# The example's one secret. A real project reads it from the environment or an untracked .env.
export SHORTENER_ADMIN_TOKEN="${SHORTENER_ADMIN_TOKEN:-demo-admin-token-not-a-real-secret}"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step odplan validate -f "$EXAMPLE"
"$ODPLAN" validate -f "$EXAMPLE"

step odplan plan --gateway local -f "$EXAMPLE"
"$ODPLAN" plan --gateway local -f "$EXAMPLE"

step odplan apply --gateway local --auto-approve -f "$EXAMPLE"
"$ODPLAN" apply --gateway local --auto-approve --no-color -f "$EXAMPLE"

