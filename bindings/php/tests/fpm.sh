#!/usr/bin/env bash
# The PHP-FPM test of the FFI package: Debian's php-fpm8.2 on 127.0.0.1 with opcache.preload of
# bindings/php/preload.php and ffi.enable=preload (FFI::cdef refused at run time, as on real
# servers) and ffi.preload of the header bin/goldplan-ffi-header writes, pm=static with 2 workers; tests/fpm/worker.php is called over FastCGI (cgi-fcgi)
# until both workers have each made a successful Gold Plan call against a sandbox, and seen a
# replay guard (a PHP closure the library calls back through FFI) refuse a processed callback.
#
# env: GOLDPLAN_LIBRARY (libgoldplan.so), GOLDPLAN_SANDBOX_BIN, PHP_FPM (default php-fpm8.2)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PKG="$(dirname "$HERE")"
FPM="${PHP_FPM:-$(command -v php-fpm8.2 || echo /usr/sbin/php-fpm8.2)}"
: "${GOLDPLAN_LIBRARY:?set GOLDPLAN_LIBRARY to libgoldplan.so}"
: "${GOLDPLAN_SANDBOX_BIN:?set GOLDPLAN_SANDBOX_BIN}"
CGI_FCGI="$(command -v cgi-fcgi)" || { echo "fpm.sh: cgi-fcgi missing (apt-get install libfcgi-bin)" >&2; exit 1; }
[ -x "$FPM" ] || { echo "fpm.sh: $FPM missing (apt-get install php8.2-fpm)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/goldplan-fpm.XXXXXX")"
SANDBOX_PID=""
FPM_PID=""
cleanup() {
    [ -n "$FPM_PID" ] && kill "$FPM_PID" 2>/dev/null && wait "$FPM_PID" 2>/dev/null || true
    [ -n "$SANDBOX_PID" ] && kill "$SANDBOX_PID" 2>/dev/null && wait "$SANDBOX_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

"$GOLDPLAN_SANDBOX_BIN" --port 0 --state-dir "$WORK/sandbox" --mode public_key >"$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 200); do [ -s "$WORK/sandbox/sandbox.json" ] && break; sleep 0.05; done
[ -s "$WORK/sandbox/sandbox.json" ] || { cat "$WORK/sandbox.log" >&2; exit 1; }
SUB="$(php -r 'echo json_decode(file_get_contents($argv[1]), true)["sub_mchids"][0];' "$WORK/sandbox/sandbox.json")"

PORT="$(php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];')"
USER_NAME="$(id -un)"
# As root, opcache preloads in a child running as opcache.preload_user, where PHP refuses
# FFI::load(): the scope comes from ffi.preload, with the header the package ships a writer for.
php "$PKG/bin/goldplan-ffi-header" "$GOLDPLAN_LIBRARY" >"$WORK/goldplan-ffi.h"
cat >"$WORK/php.ini" <<INI
zend_extension=opcache
extension=ffi
opcache.enable=1
opcache.preload=$PKG/preload.php
opcache.preload_user=$USER_NAME
ffi.enable=preload
ffi.preload=$WORK/goldplan-ffi.h
display_errors=stderr
log_errors=1
INI
cat >"$WORK/fpm.conf" <<CONF
[global]
error_log = $WORK/fpm.log
daemonize = no
[goldplan]
listen = 127.0.0.1:$PORT
pm = static
pm.max_children = 2
catch_workers_output = yes
clear_env = no
CONF
[ "$(id -u)" = 0 ] && AS_ROOT=(-R) || AS_ROOT=()
# Preloading runs in the master: the library path must be in its environment.
GOLDPLAN_LIBRARY="$GOLDPLAN_LIBRARY" "$FPM" -n -c "$WORK/php.ini" -y "$WORK/fpm.conf" -F "${AS_ROOT[@]}" &
FPM_PID=$!

call() {
    env -i SCRIPT_FILENAME="$HERE/fpm/worker.php" SCRIPT_NAME=/worker.php REQUEST_METHOD=GET \
        GOLDPLAN_SANDBOX_JSON="$WORK/sandbox/sandbox.json" GOLDPLAN_SUB_MCHID="$SUB" \
        "$CGI_FCGI" -bind -connect "127.0.0.1:$PORT" 2>&1
}

for _ in $(seq 100); do call >/dev/null 2>&1 && break; sleep 0.1; done
declare -A seen=()
failures=0
for i in $(seq 60); do
    out="$(call || true)"
    body="$(printf '%s' "$out" | sed -n '/^{/p' | tail -1)"
    if printf '%s' "$body" | php -r '$r = json_decode(stream_get_contents(STDIN), true); exit(($r["ok"] ?? false) && ($r["replay_guard"] ?? false) && $r["ffi_enable"] === "preload" && $r["package_class"] && $r["preloaded"] && $r["cdef_refused"] && $r["sapi"] === "fpm-fcgi" ? 0 : 1);'; then
        pid="$(printf '%s' "$body" | php -r 'echo json_decode(stream_get_contents(STDIN), true)["pid"];')"
        seen[$pid]=$(( ${seen[$pid]:-0} + 1 ))
        [ "$i" -le 2 ] && echo "fpm: $body"
    else
        failures=$((failures + 1))
        echo "fpm: call $i failed: $out" >&2
    fi
    [ "${#seen[@]}" -ge 2 ] && [ "$i" -ge 4 ] && break
done
echo "fpm: successful calls per worker pid: $(for p in "${!seen[@]}"; do printf '%s=%s ' "$p" "${seen[$p]}"; done)"
if [ "${#seen[@]}" -lt 2 ] || [ "$failures" -gt 0 ]; then
    echo "fpm: FAILED (${#seen[@]} workers answered, $failures failed calls)" >&2
    cat "$WORK/fpm.log" >&2 || true
    exit 1
fi
echo "fpm: ok (2 workers, preloaded FFI scope, ffi.enable=preload)"
