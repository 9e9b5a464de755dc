#!/usr/bin/env bash
# Gold Plan writes per second that a sandbox *process* answers, with its state directory on the
# disk (every answered write is fsynced: group commit) and on tmpfs, 16 clients in flight.
# The clients are the release Rust cost client in another process (each call: RSA sign on the
# client, verify + sign in the sandbox, verify on the client), so on one machine the figure is
# bound by RSA on both sides as well as by the disk. So each row also shows the sandbox process's
# own CPU per write (user + system, all its threads, from /proc) and the writes/s that this
# makes possible with every core of the machine given to the sandbox: its capacity, were the
# clients elsewhere.
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
  local before after
  before=$(sandbox_ticks "$pid")
  out=$("$TARGET/examples/cost_client" run --config "$dir/sandbox.json" --calls "$CALLS" --concurrency "$IN_FLIGHT")
  after=$(sandbox_ticks "$pid")
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  python3 - "$out" "$before" "$after" "$(getconf CLK_TCK)" "$(nproc)" <<'PY'
import json, sys
run, before, after, tick, cores = json.loads(sys.argv[1]), *map(int, sys.argv[2:])
cpu_us = (after - before) / tick / run["calls"] * 1e6
print(f"{run['calls'] / run['wall_s']:.0f} | {cpu_us:.0f} | {cores / cpu_us * 1e6:.0f}")
PY
}

sandbox_ticks() { # user + system clock ticks of process $1, all threads
  # Fields after the parenthesised command name: 12th is utime, 13th stime.
  sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg); $CALLS writes, $IN_FLIGHT in flight"
echo "| state directory | writes/s | sandbox CPU per write (us) | sandbox capacity on $(nproc) cores (writes/s) |"
echo "|---|---:|---:|---:|"
echo "| disk ($DISK) | $(one_run "$DISK") |"
if [ -d /dev/shm ]; then echo "| tmpfs (/dev/shm) | $(one_run /dev/shm) |"; fi
