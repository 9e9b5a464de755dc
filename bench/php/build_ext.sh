#!/usr/bin/env bash
# Builds the goldplan PHP extension for bench/cost.py against a *release* libgoldplan (the ext's
# own build links whatever libgoldplan pkg-config finds, often a debug one), out of tree so that
# the source folder stays clean. Prints the path of goldplan.so, for GOLDPLAN_PHP_EXT:
#
#   GOLDPLAN_PHP_EXT=$(bash bench/php/build_ext.sh [EXT_SOURCE_DIR]) python3 bench/cost.py
#
# EXT_SOURCE_DIR defaults to bindings/php/ext. Needs php8.2-dev (phpize) and pkg-config.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
SRC="$(cd "${1:-$ROOT/bindings/php/ext}" && pwd)"
OUT="${CARGO_TARGET_DIR:-$ROOT/target}/release/bench"
PREFIX="$OUT/prefix"
BUILD="$OUT/php-ext"
PREFIX="$PREFIX" GOLDPLAN_PROFILE=release bash bindings/c/install.sh >&2
# Sources only: a copy of another checkout's build products would be built upon, not rebuilt.
rm -rf "$BUILD"
mkdir -p "$BUILD"
(cd "$SRC" && find . -maxdepth 1 \( -name '*.c' -o -name '*.h' -o -name 'config.m4' \) \
  -exec cp {} "$BUILD/" \;)
cd "$BUILD"
{
  phpize
  ./configure --with-goldplan PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
  make -j"$(nproc)"
} >"$BUILD/build.log" 2>&1 || { tail -30 "$BUILD/build.log" >&2; exit 1; }
# The extension must load the release library it was configured with (rpath), nothing else.
if ! ldd modules/goldplan.so | grep -q "$PREFIX/lib/libgoldplan.so"; then
  echo "modules/goldplan.so does not resolve libgoldplan.so to $PREFIX/lib:" >&2
  ldd modules/goldplan.so >&2
  exit 1
fi
echo "$BUILD/modules/goldplan.so"
