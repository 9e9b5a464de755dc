#!/usr/bin/env bash
# The C suite (`cargo make test-c`): builds libgoldplan and the sandbox, installs the library
# into a scratch prefix and builds the README's quick start with pkg-config, then runs the suite
# three times: plain, under AddressSanitizer + UBSan, and under valgrind.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT="$PWD"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$TARGET/c-tests"
LIBDIR="$TARGET/debug"
mkdir -p "$OUT"

# Two invocations, the library last: the core's lib is also named `goldplan`, and the C
# library's libgoldplan.so must be the last `libgoldplan.*` written into $LIBDIR.
cargo build -p goldplan-sandbox --locked
cargo build -p goldplan-c --locked
test -f "$LIBDIR/libgoldplan.so" || { echo "libgoldplan.so was not built into $LIBDIR"; exit 1; }
SANDBOX="$LIBDIR/goldplan-sandbox"

# What `nm -D` shows is the library's whole ABI: only goldplan_* functions may be exported.
foreign=$(nm -D --defined-only "$LIBDIR/libgoldplan.so" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^goldplan_' || true)
if [ -n "$foreign" ]; then
  echo "libgoldplan.so exports symbols outside goldplan_*:" >&2
  echo "$foreign" >&2
  exit 1
fi
echo "exports: $(nm -D --defined-only "$LIBDIR/libgoldplan.so" | grep -c ' T goldplan_') goldplan_* functions, nothing else"

CFLAGS=(-std=gnu11 -Wall -Wextra -Werror -g -I"$ROOT/bindings/c/include" -I"$ROOT/bindings/php/resources" -I"$ROOT/bindings/c/tests")
SRC="$ROOT/bindings/c/tests/test_goldplan.c"
VECTORS="$ROOT/tests/vectors"

# The PHP-clean header must parse as C on its own (what PHP's FFI::cdef receives).
printf '#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n#include "goldplan_php.h"\nint main(void){return 0;}\n' > "$OUT/php_header.c"
gcc "${CFLAGS[@]}" "$OUT/php_header.c" -o "$OUT/php_header"

# The README's C quick start is examples/c/quickstart.c verbatim.
python3 - "$ROOT" <<'PY'
import sys
root = sys.argv[1]
source = open(f"{root}/examples/c/quickstart.c", encoding="utf-8").read()
if "```c\n" + source + "```" not in open(f"{root}/README.md", encoding="utf-8").read():
    sys.exit("README.md does not show examples/c/quickstart.c verbatim")
PY

# install-c into a scratch prefix, then the quick start exactly as the README builds it.
PREFIX="$OUT/prefix"
rm -rf "$PREFIX"
PREFIX="$PREFIX" GOLDPLAN_PROFILE=debug bash "$ROOT/bindings/c/install.sh"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror "$ROOT/examples/c/quickstart.c" -o "$OUT/quickstart" $(pkg-config --cflags --libs goldplan)
rm -rf "$OUT/qs-state"
"$SANDBOX" --port 0 --state-dir "$OUT/qs-state" --mode combined > "$OUT/qs-sandbox.log" 2>&1 &
QS_PID=$!
trap 'kill $QS_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$OUT/qs-state/sandbox.json" ] && grep -q base_url "$OUT/qs-state/sandbox.json" && break; sleep 0.1; done
sleep 0.2
LD_LIBRARY_PATH="$PREFIX/lib" "$OUT/quickstart" "$OUT/qs-state/sandbox.json"
kill $QS_PID; wait $QS_PID 2>/dev/null || true
trap - EXIT

gcc "${CFLAGS[@]}" "$SRC" -L"$LIBDIR" -lgoldplan -lpthread -o "$OUT/test_goldplan"
gcc "${CFLAGS[@]}" -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
  "$SRC" -L"$LIBDIR" -lgoldplan -lpthread -o "$OUT/test_goldplan_asan"

echo "== plain"
rm -rf "$OUT/work"
LD_LIBRARY_PATH="$LIBDIR" "$OUT/test_goldplan" "$VECTORS" "$SANDBOX" "$OUT/work"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
rm -rf "$OUT/work"
LD_LIBRARY_PATH="$LIBDIR" ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  "$OUT/test_goldplan_asan" "$VECTORS" "$SANDBOX" "$OUT/work"

echo "== valgrind"
rm -rf "$OUT/work" "$OUT"/valgrind.*.log
# valgrind runs the code 30-50x slower, so the thread test makes 16 x 10 calls here (16 x 1000 in
# the two runs above) and the fork-under-load test forks 3 children (40 above). The suppressions
# are explained in valgrind.supp. valgrind runs one thread at a time, and its default lock lets
# a thread that never blocks keep running: the free-while-in-use test (main waits until each of
# four threads made one call) then starved for as long as CI let it. --fair-sched=yes hands the
# lock round in turn.
status=0
LD_LIBRARY_PATH="$LIBDIR" GOLDPLAN_TEST_CALLS=10 GOLDPLAN_TEST_FORKS=3 GOLDPLAN_UNDER_VALGRIND=1 \
  valgrind --fair-sched=yes --quiet --leak-check=full --error-exitcode=1 \
  --suppressions="$ROOT/bindings/c/tests/valgrind.supp" --log-file="$OUT/valgrind.%p.log" \
  "$OUT/test_goldplan" "$VECTORS" "$SANDBOX" "$OUT/work" || status=$?
# The forked children report through exec (see test_fork): their logs must still be free of
# memory errors, and so must every other log.
if grep -lE "Invalid (read|write|free)|uninitialised|Mismatched free|overlap|definitely lost|ERROR SUMMARY: [1-9]" \
     "$OUT"/valgrind.*.log; then
  cat "$OUT"/valgrind.*.log >&2
  status=1
fi
if [ "$status" -ne 0 ]; then
  cat "$OUT"/valgrind.*.log >&2
  echo "valgrind found problems" >&2
  exit 1
fi
echo "C suite: plain, ASan+UBSan and valgrind passed"
