#!/usr/bin/env bash
# Generates bindings/php/ext/goldplan_arginfo.h from bindings/php/goldplan.stub.php with PHP's
# own build/gen_stub.php, so the extension's signatures cannot drift from the shared stub.
#
#   tools/gen_arginfo.sh           rewrite ext/goldplan_arginfo.h
#   tools/gen_arginfo.sh --check   fail (exit 1) when the committed file differs from a fresh one
#
# gen_stub.php wants to download PHP-Parser 4.15.1 from GitHub next to itself; offline we give a
# copy of it a PHP-Parser-4.15.1/lib/PhpParser symlink to Debian's php-parser instead.
# env: GEN_STUB  path of gen_stub.php (default: the newest /usr/lib/php/*/build/gen_stub.php)
#      PHP_PARSER_DIR  the PhpParser source folder (default /usr/share/php/PhpParser)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
php_dir=$(dirname "$here")
stub="$php_dir/goldplan.stub.php"
target="$php_dir/ext/goldplan_arginfo.h"

check=0
case "${1:-}" in
  --check) check=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

gen_stub=${GEN_STUB:-$(ls -1 /usr/lib/php/*/build/gen_stub.php 2>/dev/null | sort | tail -n 1)}
parser=${PHP_PARSER_DIR:-/usr/share/php/PhpParser}
if [ -z "$gen_stub" ] || [ ! -f "$gen_stub" ]; then
  echo "gen_arginfo: no gen_stub.php (install php-dev, or set GEN_STUB)" >&2
  exit 2
fi
if [ ! -f "$parser/Parser.php" ]; then
  echo "gen_arginfo: no PHP-Parser at $parser (install php-parser, or set PHP_PARSER_DIR)" >&2
  exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$gen_stub" "$tmp/gen_stub.php"
version=$(sed -n 's/^ *\$version = "\([0-9.]*\)";/\1/p' "$gen_stub" | head -n 1)
mkdir -p "$tmp/PHP-Parser-$version/lib"
ln -s "$parser" "$tmp/PHP-Parser-$version/lib/PhpParser"
mkdir "$tmp/stub"
cp "$stub" "$tmp/stub/goldplan.stub.php"
php "$tmp/gen_stub.php" -f "$tmp/stub/goldplan.stub.php" >"$tmp/log" 2>&1 || {
  cat "$tmp/log" >&2
  exit 1
}
generated="$tmp/stub/goldplan_arginfo.h"
if [ ! -s "$generated" ]; then
  cat "$tmp/log" >&2
  echo "gen_arginfo: gen_stub.php wrote no arginfo" >&2
  exit 1
fi

if [ "$check" = 1 ]; then
  if ! diff -u "$target" "$generated"; then
    echo "gen_arginfo: $target is stale; run bindings/php/tools/gen_arginfo.sh" >&2
    exit 1
  fi
  echo "gen_arginfo: $target is up to date"
else
  cp "$generated" "$target"
  echo "gen_arginfo: wrote $target"
fi
