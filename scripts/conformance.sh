#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance, server scenarios) against
# `lifecycle serve --http` and compare the results with tests/server/conformance-baseline.json.
#
# Usage: scripts/conformance.sh [--db PATH] [--results DIR]
#   --db PATH      dataset to serve (default: a tiny fixture dataset built in a temporary directory)
#   --results DIR  keep each scenario's checks.json and log in DIR (default: a temporary directory, removed)
# Environment: PYTHON (default .venv/bin/python, else python3), LIFECYCLE_NPM_DIR (default .cache/npm).
#
# The package is installed from the npm registry into $LIFECYCLE_NPM_DIR/conformance-<version> (gitignored),
# with npm's download cache in $LIFECYCLE_NPM_DIR/_cache. Every server scenario the package lists is run
# except the baseline's not_applicable ones (they need the SDK's fixture tools, prompts and resources).
# Exit 0 when the results match the baseline; 1 on a new failure, on an unexpected pass (remove the entry
# from expected_failures) or when the server died; 2 on a setup error.
set -euo pipefail

# 0.1.13 is the newest release that runs on Node 20: 0.1.14+ import fs.globSync (Node >= 22). Its server
# scenarios are the same as 0.1.16's. Bumping it means re-checking the baseline (its "version" must match).
CONFORMANCE_VERSION="0.1.13"
SCENARIO_TIMEOUT_S=60
START_TIMEOUT_S=60

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BASELINE="$ROOT/tests/server/conformance-baseline.json"
HELPER="$ROOT/scripts/conformance_compare.py"
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x "$ROOT/.venv/bin/python" ]]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON="python3"; fi
fi

DB=""
RESULTS=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --db) DB="$2"; shift 2 ;;
        --results) RESULTS="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "Error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

[[ -z "$DB" || "$DB" == /* ]] || DB="$PWD/$DB"
[[ -z "$RESULTS" || "$RESULTS" == /* ]] || RESULTS="$PWD/$RESULTS"

for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "Error: $tool is not installed (Node.js 20+ is needed)" >&2; exit 2; }
done

NPM_DIR="${LIFECYCLE_NPM_DIR:-$ROOT/.cache/npm}"
PREFIX="$NPM_DIR/conformance-$CONFORMANCE_VERSION"
PACKAGE_JSON="$PREFIX/node_modules/@modelcontextprotocol/conformance/package.json"
export npm_config_cache="$NPM_DIR/_cache" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
mkdir -p "$PREFIX"

installed_version() {
    [[ -f "$PACKAGE_JSON" ]] && node -e 'console.log(require(process.argv[1]).version)' "$PACKAGE_JSON" || true
}

started=$SECONDS
(
    # One installer at a time (parallel test workers share the cache directory).
    if command -v flock >/dev/null; then exec 9>"$NPM_DIR/.conformance.lock"; flock 9; fi
    if [[ "$(installed_version)" != "$CONFORMANCE_VERSION" ]]; then
        echo "Installing @modelcontextprotocol/conformance@$CONFORMANCE_VERSION into $PREFIX" >&2
        npm install --prefix "$PREFIX" --no-save --loglevel=error \
            "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" >&2
    fi
)
[[ "$(installed_version)" == "$CONFORMANCE_VERSION" ]] || { echo "Error: npm install failed" >&2; exit 2; }
CONFORMANCE=(node "$PREFIX/node_modules/@modelcontextprotocol/conformance/dist/index.js")
echo "conformance $CONFORMANCE_VERSION ready after $((SECONDS - started)) s (node $(node --version))" >&2

WORK="$(mktemp -d "${TMPDIR:-/tmp}/lifecycle-conformance.XXXXXX")"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
RESULTS="${RESULTS:-$WORK/results}"
mkdir -p "$RESULTS" "$WORK/data"

if [[ -z "$DB" ]]; then
    DB="$WORK/tiny.db"
    (cd "$ROOT" && "$PYTHON" "$HELPER" make-db "$DB")
fi

# The server: loopback, a free port, no token, an empty data directory of its own.
(
    cd "$ROOT"
    unset LIFECYCLE_MCP_TOKEN LIFECYCLE_DB
    export LIFECYCLE_DATA_DIR="$WORK/data"
    exec "$PYTHON" -m server.cli serve --db "$DB" --http --port 0 2>"$WORK/server.log"
) &
SERVER_PID=$!
URL=""
for _ in $(seq $((START_TIMEOUT_S * 10))); do
    URL="$(sed -n 's/.*serving streamable HTTP at \(http[^ ]*\).*/\1/p' "$WORK/server.log" | head -n 1)"
    [[ -n "$URL" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
done
if [[ -z "$URL" ]]; then
    echo "Error: the server did not start:" >&2; cat "$WORK/server.log" >&2; exit 1
fi
echo "server at $URL" >&2

"${CONFORMANCE[@]}" list --server >"$WORK/listed.txt"
"$PYTHON" "$HELPER" plan "$BASELINE" "$WORK/listed.txt" >"$WORK/plan.txt" || exit 2
mapfile -t SCENARIOS <"$WORK/plan.txt"

run_timeout=()
command -v timeout >/dev/null && run_timeout=(timeout "$SCENARIO_TIMEOUT_S")
for scenario in "${SCENARIOS[@]}"; do
    "${run_timeout[@]}" "${CONFORMANCE[@]}" server --url "$URL" --scenario "$scenario" -o "$RESULTS/$scenario" \
        >"$RESULTS/$scenario.log" 2>&1 || true
done

status=0
"$PYTHON" "$HELPER" compare "$BASELINE" "$RESULTS" "$CONFORMANCE_VERSION" "${SCENARIOS[@]}" || status=$?
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "PROBLEM the server exited during the run:" >&2; cat "$WORK/server.log" >&2; status=1
fi
echo "conformance run took $((SECONDS - started)) s" >&2
exit "$status"
