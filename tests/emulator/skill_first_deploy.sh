#!/usr/bin/env bash
# The opendeploy skill's documented first-deploy flow (auth.md -> setup.md -> deploy.md ->
# domain.md -> operate.md), with curl and jq, against $OD_GATEWAY. Exits non-zero on any
# deviation. Secrets are never echoed. Prints `APP_URL=...` at the end.
set -euo pipefail
: "${OD_GATEWAY:?set OD_GATEWAY to the gateway base URL (ending in /api)}"
OD_ENVIRONMENT="${OD_ENVIRONMENT:-production}"
PROJECT_NAME="${PROJECT_NAME:-skill-flow}"
SUBDOMAIN="${SUBDOMAIN:-skill-flow-app}"
WORKDIR=$(mktemp -d)
trap 'rm -rf "$WORKDIR"' EXIT
JSON="Content-Type: application/json"
fail() { echo "FAIL: $*" >&2; exit 1; }

# auth.md: register a local deploy credential (consent given by the caller), save auth.json 0600.
RESP=$(curl -fsSL -X POST "$OD_GATEWAY/v1/client-guests/register" -H "$JSON" \
  -d "$(jq -nc --arg sh "tests/$(uname -s)" '{source_hint:$sh, name:"opendeploy local deploy"}')")
OD_API_KEY=$(echo "$RESP" | jq -r '.api_key // empty')
GUEST_ID=$(echo "$RESP" | jq -r '.guest_id // empty')
BIND_SIG=$(echo "$RESP" | jq -r '.bind_sig // empty')
[ -n "$OD_API_KEY" ] && [ -n "$GUEST_ID" ] && [ -n "$BIND_SIG" ] || fail "register response incomplete"
mkdir -p "$HOME/.opendeploy" && umask 0077
jq -n --arg k "$OD_API_KEY" --arg gw "$OD_GATEWAY" --arg gid "$GUEST_ID" --arg sig "$BIND_SIG" \
  '{version:1, api_key:$k, gateway:$gw, guest_id:$gid, bind_sig:$sig}' > "$HOME/.opendeploy/auth.json"
BIND_URL="${OD_GATEWAY%/api}/guest/$GUEST_ID?h=$BIND_SIG"
AUTH="Authorization: Bearer $OD_API_KEY"

# Preamble: regions (trailing slash) + account probe.
REGIONS_JSON=$(curl -fsSL -H "$AUTH" "$OD_GATEWAY/v1/regions/")
OD_REGION_ID=$(echo "$REGIONS_JSON" | jq -r '[.[] | select(.status=="active")][0].id // empty')
[ -n "$OD_REGION_ID" ] || fail "no active region"
IS_BOUND=0
if curl -fsS -o /dev/null -H "$AUTH" "$OD_GATEWAY/v1/profile" 2>/dev/null; then IS_BOUND=1; fi
[ "$IS_BOUND" = 0 ] || fail "a fresh guest credential must not read /v1/profile"

# setup.md 3.1: project.
PROJ=$(curl -fsSL -X POST "$OD_GATEWAY/v1/projects/" -H "$AUTH" -H "$JSON" \
  -d "$(jq -n --arg name "$PROJECT_NAME" --arg repo "file://upload" --arg branch "main" \
        --arg region "$OD_REGION_ID" \
        '{name:$name, repo_url:$repo, branch:$branch, region_id:$region,
          skip_validation: ($repo|startswith("file://"))}')")
PROJECT_ID=$(echo "$PROJ" | jq -r .id)

# setup.md 3.2: postgres dependency; its env_vars go into the service's runtime variables.
DEP=$(curl -fsSL -X POST "$OD_GATEWAY/v1/dependencies/create" -H "$AUTH" -H "$JSON" \
  -d "$(jq -n --arg pid "$PROJECT_ID" --arg env "$OD_ENVIRONMENT" \
        '{project_id:$pid, dependency_id:"postgres", environment:$env}')")
DEP_ID=$(echo "$DEP" | jq -r .id)
DEP_ENV=$(echo "$DEP" | jq -c .env_vars)
echo "$DEP_ENV" | jq -e '.DATABASE_URL | startswith("postgresql://")' >/dev/null \
  || fail "dependency env_vars lack DATABASE_URL"
DEPENDENCY_IDS_JSON=$(jq -nc --arg d "$DEP_ID" '[$d]')

# setup.md 3.3: the service, inside the guest caps.
RUNTIME_VARS=$(jq -n --argjson db "$DEP_ENV" '{PORT:"8000"} * $db')
SVC=$(curl -fsSL -X POST "$OD_GATEWAY/v1/projects/$PROJECT_ID/services/" -H "$AUTH" -H "$JSON" \
  -d "$(jq -n --arg env "$OD_ENVIRONMENT" --argjson rv "$RUNTIME_VARS" \
        '{name:"web", type:"web", environment:$env, language:"python", framework:"fastapi",
          port:8000, build_variables:{}, runtime_variables:$rv, cpu_request:"500m",
          cpu_limit:"1", memory_request:"512Mi", memory_limit:"1Gi", replicas:1}')")
SERVICE_ID=$(echo "$SVC" | jq -r '.service_id // .id')

# deploy.md 4.a: zip and park the source.
mkdir -p "$WORKDIR/app"
printf 'from fastapi import FastAPI\napp = FastAPI()\n' > "$WORKDIR/app/main.py"
printf 'fastapi\nuvicorn\n' > "$WORKDIR/app/requirements.txt"
(cd "$WORKDIR/app" && zip -qr "$WORKDIR/source.zip" .)
UP=$(curl -fsSL -X POST "$OD_GATEWAY/v1/upload/upload-only" -H "$AUTH" \
  -F "project_name=$PROJECT_NAME" -F "region_id=$OD_REGION_ID" \
  -F "project_file=@$WORKDIR/source.zip")
TEMP_FILE_PATH=$(echo "$UP" | jq -r .temp_file_path)

# deploy.md 4.5: bind the upload to the project (with the local analysis).
printf '{"language":"python","framework":"fastapi","port":8000}' > "$WORKDIR/analysis.json"
UPDATE=$(curl -fsSL -X POST "$OD_GATEWAY/v1/upload/update-source" -H "$AUTH" -H "$JSON" \
  -d "$(jq -n --arg pid "$PROJECT_ID" --arg tmp "$TEMP_FILE_PATH" \
        --slurpfile analysis "$WORKDIR/analysis.json" \
        '{project_id:$pid, temp_file_path:$tmp, analysis:$analysis[0]}')")
[ -n "$(echo "$UPDATE" | jq -r '.source_path // empty')" ] || fail "update-source set no source_path"
curl -fsSL -H "$AUTH" "$OD_GATEWAY/v1/projects/$PROJECT_ID" | jq -e '.source_path != ""' >/dev/null

# deploy.md 7: deploy (no resources block) and watch until terminal.
DEPLOY=$(curl -fsSL -X POST "$OD_GATEWAY/v1/deployments/" -H "$AUTH" -H "$JSON" \
  -d "$(jq -n --arg pid "$PROJECT_ID" --arg sid "$SERVICE_ID" --arg env "$OD_ENVIRONMENT" \
        --arg tmp "$TEMP_FILE_PATH" --argjson deps "$DEPENDENCY_IDS_JSON" \
        '{project_id:$pid, service_id:$sid, environment:$env, source:"zip",
          temp_file_path:$tmp, branch:"main", dependencies:$deps}')")
DEPLOYMENT_ID=$(echo "$DEPLOY" | jq -r .id)
for _ in $(seq 1 240); do
  S=$(curl -fsSL -H "$AUTH" "$OD_GATEWAY/v1/deployments/$DEPLOYMENT_ID" | jq -r .status)
  case "$S" in success|failed|cancelled|rolled_back) break ;; esac
  sleep 0.25
done
[ "$S" = success ] || fail "deployment ended $S"
curl -fsSL -H "$AUTH" "$OD_GATEWAY/v1/deployments/$DEPLOYMENT_ID/logs?tail=200" \
  | jq -e '.total > 0' >/dev/null || fail "no deploy logs"

# domain.md 8.2: poll for the auto domain row (up to 30 s), 8.1 check, 8.3 rename.
AUTO_ID=""
for _ in $(seq 1 60); do
  AUTO_ID=$(curl -fsSL -H "$AUTH" \
    "$OD_GATEWAY/v1/service-domains?service_id=$SERVICE_ID&environment=$OD_ENVIRONMENT&type=auto" \
    | jq -r '.[0].id // empty')
  [ -n "$AUTO_ID" ] && break
  sleep 0.5
done
[ -n "$AUTO_ID" ] || fail "no auto domain row after 30 s"
curl -fsSL -H "$AUTH" "$OD_GATEWAY/v1/service-domains/check-subdomain/$SUBDOMAIN" \
  | jq -e '.available == true' >/dev/null || fail "subdomain $SUBDOMAIN unavailable"
RENAMED=$(curl -fsSL -X PUT "$OD_GATEWAY/v1/service-domains/$AUTO_ID/subdomain" -H "$AUTH" \
  -H "$JSON" -d "$(jq -n --arg s "$SUBDOMAIN" '{subdomain:$s}')")
BASE_DOMAIN=$([ "$OD_ENVIRONMENT" = production ] && echo opendeploy.run || echo dev.opendeploy.run)
[ "$(echo "$RENAMED" | jq -r .domain)" = "$SUBDOMAIN.$BASE_DOMAIN" ] || fail "rename not applied"

# operate.md: rotate one env var (GET, merge, full-replace PUT), then resize in place.
CURRENT=$(curl -fsSL -H "$AUTH" "$OD_GATEWAY/v1/projects/$PROJECT_ID/services/$SERVICE_ID/env" \
  | jq -c '.variables | map({(.key): .value}) | add')
MERGED=$(echo "$CURRENT" | jq -c '. + {FEATURE_FLAG:"on"}')
curl -fsSL -X PUT "$OD_GATEWAY/v1/projects/$PROJECT_ID/services/$SERVICE_ID/env" -H "$AUTH" \
  -H "$JSON" -d "$(jq -n --argjson vars "$MERGED" '{variables:$vars}')" \
  | jq -e --argjson n "$(echo "$MERGED" | jq length)" '.count == $n' >/dev/null \
  || fail "env replace count mismatch"
curl -fsSL -X PUT "$OD_GATEWAY/v1/services/$SERVICE_ID" -H "$AUTH" -H "$JSON" \
  -d '{"cpu_request":"250m","cpu_limit":"1","memory_request":"256Mi","memory_limit":"1Gi"}' >/dev/null
curl -fsSL -H "$AUTH" "$OD_GATEWAY/v1/services/$SERVICE_ID" \
  | jq -e '.cpu_request == "250m" and .memory_request == "256Mi"' >/dev/null || fail "resize lost"

echo "APP_URL=https://$SUBDOMAIN.$BASE_DOMAIN"
echo "BIND_URL_HOST=${BIND_URL%%/guest/*}"
