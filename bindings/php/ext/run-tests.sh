#!/usr/bin/env bash
# Builds the goldplan extension and runs its .phpt suite twice: plain, then under valgrind
# (run-tests.php -m: USE_ZEND_ALLOC=0 ZEND_DONT_UNLOAD_MODULES=1). Fails on any failed, borked,
# leaked or unexpectedly skipped test and on any valgrind error.
#
# env: GOLDPLAN_PREFIX        where libgoldplan is installed (lib/pkgconfig/goldplan.pc);
#                             `cargo make test-php-ext` passes its scratch install prefix
#      GOLDPLAN_SANDBOX_BIN   the goldplan-sandbox binary (default: target/debug of the repo)
#      GOLDPLAN_PHP_VALGRIND  0 to skip the valgrind pass (default 1)
set -euo pipefail

ext=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$ext/../../.." && pwd)
cd "$ext"

if [ -n "${GOLDPLAN_PREFIX:-}" ]; then
  export PKG_CONFIG_PATH="$GOLDPLAN_PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
fi
if ! pkg-config --exists goldplan; then
  echo "run-tests.sh: pkg-config cannot find goldplan; set GOLDPLAN_PREFIX to libgoldplan's install prefix" >&2
  exit 2
fi
export GOLDPLAN_SANDBOX_BIN="${GOLDPLAN_SANDBOX_BIN:-$root/target/debug/goldplan-sandbox}"
if [ ! -x "$GOLDPLAN_SANDBOX_BIN" ]; then
  echo "run-tests.sh: no sandbox at $GOLDPLAN_SANDBOX_BIN (set GOLDPLAN_SANDBOX_BIN)" >&2
  exit 2
fi

echo "== arginfo matches the stub"
bash "$ext/../tools/gen_arginfo.sh" --check

echo "== build (libgoldplan $(pkg-config --modversion goldplan) from $(pkg-config --variable=libdir goldplan))"
phpize >/dev/null
# -Werror: the build must be free of warnings under -Wall -Wextra (config.m4 adds them).
./configure --with-goldplan CFLAGS="-g -O2 -Werror" >/dev/null
make clean >/dev/null
make >/dev/null

rm -f tests/*.diff tests/*.exp tests/*.log tests/*.out tests/*.php tests/*.sh tests/*.mem
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# $1: label, $2: skipped tests allowed, rest: extra run-tests.php options
run_suite() {
  local label=$1 allowed_skips=$2
  shift 2
  echo "== .phpt suite ($label)"
  local status=0
  make test TESTS="-q --show-diff $* tests" | tee "$results/$label.txt" || status=$?
  local skipped
  skipped=$(sed -n 's/^Tests skipped *: *\([0-9]*\).*/\1/p' "$results/$label.txt")
  if [ "$status" -ne 0 ]; then
    echo "run-tests.sh: the $label pass failed" >&2
    exit 1
  fi
  if [ "${skipped:-x}" != "$allowed_skips" ]; then
    echo "run-tests.sh: $label pass skipped ${skipped:-?} tests, expected $allowed_skips" >&2
    exit 1
  fi
}

export GOLDPLAN_RSS_REPORT="$results/rss.txt"
run_suite plain 0
echo "-- RSS"
cat "$results/rss.txt"

if [ "${GOLDPLAN_PHP_VALGRIND:-1}" != "0" ]; then
  # valgrind traces children (run-tests.php passes --trace-children=yes): the sandbox and the
  # shells the tests start are not PHP and not ours, so they run natively. Leaks are checked in
  # full; the suppressions cover only memory the library keeps for the process lifetime.
  export VALGRIND_OPTS="--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --suppressions=$root/bindings/c/tests/valgrind.supp --trace-children-skip=*goldplan-sandbox*,/bin/sh,/usr/bin/sh,/bin/rm,/usr/bin/rm,*/rm"
  # 060_rss.phpt measures RSS and skips itself under valgrind.
  run_suite valgrind 1 -m
fi
echo "php ext: all passes clean"
