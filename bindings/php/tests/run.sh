#!/usr/bin/env bash
# The PHP suites: PHPUnit over FFI (the Composer package), then with the extension when
# GOLDPLAN_PHP_EXT is set, then the PHP-FPM test.
#
#   GOLDPLAN_PREFIX=/usr/local                  libgoldplan's install prefix (lib/libgoldplan.so)
#   GOLDPLAN_SANDBOX_BIN=…/goldplan-sandbox     the sandbox (default target/debug/goldplan-sandbox)
#   GOLDPLAN_PHP_EXT=…/modules/goldplan.so      optional: also prove the extension's door
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PKG="$(dirname "$HERE")"
ROOT="$(cd "$PKG/../.." && pwd)"
: "${GOLDPLAN_PREFIX:?set GOLDPLAN_PREFIX to the install prefix of libgoldplan}"
export GOLDPLAN_LIBRARY="$GOLDPLAN_PREFIX/lib/libgoldplan.so"
export GOLDPLAN_SANDBOX_BIN="${GOLDPLAN_SANDBOX_BIN:-$ROOT/target/debug/goldplan-sandbox}"
[ -f "$GOLDPLAN_LIBRARY" ] || { echo "run.sh: no $GOLDPLAN_LIBRARY" >&2; exit 1; }
[ -x "$GOLDPLAN_SANDBOX_BIN" ] || { echo "run.sh: no sandbox at $GOLDPLAN_SANDBOX_BIN" >&2; exit 1; }
PHPUNIT="${PHPUNIT:-/usr/bin/phpunit}"

echo "== PHPUnit over FFI (the Composer package)"
GOLDPLAN_PHP_DOOR=ffi php -d ffi.enable=1 "$PHPUNIT" -c "$HERE/phpunit.xml.dist"

if [ -n "${GOLDPLAN_PHP_EXT:-}" ]; then
    echo "== PHPUnit with the extension ($GOLDPLAN_PHP_EXT)"
    # The extension finds libgoldplan.so through the linker, like in production.
    LD_LIBRARY_PATH="$GOLDPLAN_PREFIX/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" GOLDPLAN_PHP_DOOR=ext \
        php -d extension="$GOLDPLAN_PHP_EXT" "$PHPUNIT" -c "$HERE/phpunit.xml.dist"
else
    echo "== the extension's pass is skipped (set GOLDPLAN_PHP_EXT to goldplan.so)"
fi

echo "== PHP-FPM with opcache.preload and ffi.enable=preload"
bash "$HERE/fpm.sh"
