#!/usr/bin/env bash
# A smoke run of bench/php/cost_php.php (not a benchmark: no timing is checked): against one
# sandbox (public-key mode), each available door makes 5 calls sequentially and 5 from 2 forked
# workers, and must refuse a response whose signature, key id or timestamp is wrong.
#
#   bash bench/php/smoke.sh            # plain always; ext with GOLDPLAN_PHP_EXT=/path/goldplan.so;
#                                      # ffi with GOLDPLAN_LIBRARY (and GOLDPLAN_PHP_PACKAGE)
# GOLDPLAN_SANDBOX_BIN overrides the sandbox binary (default target/debug/goldplan-sandbox).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
SANDBOX="${GOLDPLAN_SANDBOX_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/debug/goldplan-sandbox}"
STATE="$(mktemp -d)"
"$SANDBOX" --port 0 --state-dir "$STATE" --mode public_key >"$STATE/log" 2>&1 &
SANDBOX_PID=$!
trap 'kill "$SANDBOX_PID" 2>/dev/null; wait "$SANDBOX_PID" 2>/dev/null; rm -rf "$STATE"' EXIT
for _ in $(seq 300); do [[ -s "$STATE/sandbox.json" ]] && break; sleep 0.1; done
CONFIG="$STATE/sandbox.json"
ADMIN=$(php -r 'echo json_decode(file_get_contents($argv[1]), true)["admin_url"];' "$CONFIG")

doors=(plain)
declare -A flags=([plain]="")
if [[ -n "${GOLDPLAN_PHP_EXT:-}" ]]; then doors+=(ext); flags[ext]="-d extension=$GOLDPLAN_PHP_EXT"; fi
if [[ -n "${GOLDPLAN_LIBRARY:-}" ]]; then doors+=(ffi); flags[ffi]="-d ffi.enable=1"; fi

for door in "${doors[@]}"; do
  run() { php ${flags[$door]} bench/php/cost_php.php --door "$door" --config "$CONFIG" "$@"; }
  for concurrency in 1 2; do
    out=$(run --calls 5 --concurrency "$concurrency")
    php -r '$r = json_decode($argv[1], true); exit($r["calls"] === 5 && $r["wall_s"] > 0 ? 0 : 1);' \
      "$(tail -1 <<<"$out")" || { echo "FAIL $door x$concurrency: $out"; exit 1; }
  done
  for fault in bad_signature unknown_serial stale_timestamp; do
    curl -sf -X POST -H 'Content-Type: application/json' -d "{\"kind\":\"$fault\"}" \
      "$ADMIN/faults" >/dev/null
    if run --calls 0 >/dev/null 2>&1; then echo "FAIL $door accepted a response with $fault"; exit 1; fi
    curl -sf -X DELETE "$ADMIN/faults" >/dev/null
  done
  echo "ok $door: 5 calls sequentially and from 2 workers; refused bad_signature, unknown_serial, stale_timestamp"
done
