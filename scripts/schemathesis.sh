#!/usr/bin/env bash
# API fuzzing of the admin API from its own OpenAPI document, with schemathesis.
#
# Builds keyhaven, starts it on a free loopback port with a fresh SQLite database and KEK in a
# temporary folder, makes an admin client with the CLI, takes a token from /token, and runs
# schemathesis against /admin/v1/openapi.json with every check that holds for this API.
# Fails on any finding. Stops the server and removes the folder on exit.
#
#   scripts/schemathesis.sh                  # the CI budget
#   ST_MAX_EXAMPLES=200 ST_MAX_TIME=600 scripts/schemathesis.sh
#   ST_BIN=/path/to/keyhaven scripts/schemathesis.sh   # run against another build
#
# The venv is kept in target/schemathesis-venv (ST_VENV) so later runs need no download.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION="4.32.5"
max_examples="${ST_MAX_EXAMPLES:-40}"
max_time="${ST_MAX_TIME:-120}"
venv="${ST_VENV:-$PWD/target/schemathesis-venv}"

installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)"
if [ "$installed" != "$SCHEMATHESIS_VERSION" ]; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ -n "${ST_BIN:-}" ]; then
  bin="$ST_BIN"   # another build, e.g. an older one to see what the run finds in its document
else
  echo "== building keyhaven"
  cargo build --quiet --bin keyhaven
  bin="$PWD/target/debug/keyhaven"
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# A free port: bind port 0, read what the kernel gave, let it go.
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port"
export KEYHAVEN_LISTEN="127.0.0.1:$port"
export KEYHAVEN_ISSUER="$base"
export KEYHAVEN_DATA_DIR="$work/data"
export KEYHAVEN_KEK_FILE="$work/kek"
export KEYHAVEN_LOG_LEVEL="${KEYHAVEN_LOG_LEVEL:-warn}"
# Schemathesis sends many requests from one address; the per-IP limits are not under test.
export KEYHAVEN_RATE_LIMIT_API="100000/1s"
export KEYHAVEN_RATE_LIMIT_PAGES="100000/1s"
export KEYHAVEN_JANITOR_INTERVAL="1h"

echo "== starting keyhaven on $base (data in $work)"
"$bin" migrate >/dev/null
"$bin" serve >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "keyhaven did not start" >&2; exit 1; }
  sleep 0.2
done

client="$("$bin" --json client create --name schemathesis --grant-type client_credentials \
  --audience keyhaven-admin --scope keyhaven:admin)"
client_id="$(printf '%s' "$client" | python3 -c 'import json, sys; print(json.load(sys.stdin)["client_id"])')"
client_secret="$(printf '%s' "$client" | python3 -c 'import json, sys; print(json.load(sys.stdin)["client_secret"])')"
# The access token lives 15 minutes; the run is kept well under that (ST_MAX_TIME).
token="$(curl -fsS -u "$client_id:$client_secret" -d grant_type=client_credentials \
  -d scope=keyhaven:admin -d resource=keyhaven-admin "$base/token" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')"

document="$base/admin/v1/openapi.json"
echo "== schemathesis $SCHEMATHESIS_VERSION against $document (at most $max_examples cases per operation, ${max_time}s)"
status=0
# From the temporary folder, so that schemathesis leaves nothing in the work tree.
# filter_too_much: for the resource registry's `{uri}` path parameter (a percent-encoded URI, a
# plain string in the document, like the other ids) Hypothesis discards most of the strings it
# draws as unfit for a path segment and stops with a health check, not a finding about the API.
(cd "$work" && "$venv/bin/schemathesis" --no-color run "$document" \
  --url "$base" \
  --header "Authorization: Bearer $token" \
  --checks all \
  --exclude-checks positive_data_acceptance \
  --phases examples,coverage,fuzzing \
  --max-examples "$max_examples" \
  --max-time "$max_time" \
  --workers 2 \
  --seed "${ST_SEED:-20261129}" \
  --generation-database none \
  --suppress-health-check filter_too_much \
  --continue-on-failure) || status=$?

if grep -q "panicked" "$work/server.log"; then
  echo "keyhaven panicked during the run:" >&2
  grep -A5 "panicked" "$work/server.log" >&2
  status=1
fi
exit "$status"
