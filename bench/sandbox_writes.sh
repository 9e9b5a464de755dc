#!/usr/bin/env bash
# Gold Plan writes per second that a sandbox *process* answers, with its state directory on the
# disk (every answered write is fsynced: group commit) and on tmpfs, 16 clients in flight.
# The clients are the release Rust cost client in another process (each call: RSA sign on the
# client, verify + sign in the sandbox, verify on the client), so on one machine the figure is
# bound by RSA on both sides as well as by the disk.
#
#     bash bench/sandbox_writes.sh [CALLS] [IN_FLIGHT]
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS="${1:-4000}"
IN_FLIGHT="${2:-16}"
TARGET="${CARGO_TARGET_DIR:-$PWD/target}/release"
cargo build --release --locked -q -p goldplan-sandbox --bin goldplan-sandbox -p goldplan-e2e --example cost_client
DISK="$PWD/target/bench-state"
mkdir -p "$DISK"

one_run() { # $1: parent folder of the state directory
  local dir pid out
  dir=$(mktemp -d -p "$1")
  "$TARGET/goldplan-sandbox" --port 0 --state-dir "$dir" --mode public_key >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 200); do
    [ -s "$dir/sandbox.json" ] && grep -q base_url "$dir/sandbox.json" && break
    sleep 0.05
  done
  "$TARGET/examples/cost_client" run --config "$dir/sandbox.json" --calls 200 --concurrency "$IN_FLIGHT" >/dev/null
  out=$("$TARGET/examples/cost_client" run --config "$dir/sandbox.json" --calls "$CALLS" --concurrency "$IN_FLIGHT")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(round(r["calls"]/r["wall_s"]))' "$out"
}

echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg); $CALLS writes, $IN_FLIGHT in flight"
echo "| state directory | writes/s |"
echo "|---|---:|"
echo "| disk ($DISK) | $(one_run "$DISK") |"
if [ -d /dev/shm ]; then echo "| tmpfs (/dev/shm) | $(one_run /dev/shm) |"; fi
