#!/usr/bin/env bash
# goldplan-java (JNA over a release libgoldplan) vs the official wechatpay-java (0.2.17), one
# sandbox process (release, public-key mode), the same signed POST with a verified 204 answer.
# usage: bench/java_vs_wechatpay_java.sh [CALLS] — prints calls/s and JVM CPU per call, for 1
# and 8 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CALLS="${1:-4000}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
cargo build --release --locked -p goldplan-c -p goldplan-sandbox
(cd bindings/java && mvn -B -q install -DskipTests)
(cd bench/java && mvn -B -q package dependency:build-classpath -Dmdep.outputFile=target/classpath.txt)
STATE="$(mktemp -d)"
"$TARGET/release/goldplan-sandbox" --port 0 --state-dir "$STATE" --mode public_key > "$STATE/out.log" 2> "$STATE/err.log" &
PID=$!
cleanup() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  rm -rf "$STATE" || true
}
trap cleanup EXIT
for _ in $(seq 100); do grep -q http "$STATE/out.log" 2>/dev/null && break; sleep 0.1; done
CP="bench/java/target/classes:$(cat bench/java/target/classpath.txt)"
echo "host: $(nproc) cores; $(java -version 2>&1 | head -1)"
for threads in 1 8; do
  java -Djna.library.path="$TARGET/release" -cp "$CP" bench.Bench "$STATE/sandbox.json" "$CALLS" "$threads"
done
