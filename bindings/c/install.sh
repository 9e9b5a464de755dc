#!/usr/bin/env bash
# `cargo make install-c PREFIX=/usr/local`: lays out PREFIX/lib (libgoldplan.so, libgoldplan.a),
# PREFIX/include (goldplan.h, goldplan_php.h) and PREFIX/lib/pkgconfig/goldplan.pc, so that
# `cc app.c $(pkg-config --cflags --libs goldplan)` works.
set -euo pipefail
: "${PREFIX:?set PREFIX, e.g. PREFIX=/usr/local}"
cd "$(dirname "$0")/../.."
ROOT="$PWD"
LIBDIR="${CARGO_TARGET_DIR:-$ROOT/target}/${GOLDPLAN_PROFILE:-debug}"
cargo build -p goldplan-c --locked ${GOLDPLAN_CARGO_FLAGS:-}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
install -m 0755 "$LIBDIR/libgoldplan.so" "$PREFIX/lib/libgoldplan.so"
install -m 0644 "$LIBDIR/libgoldplan.a" "$PREFIX/lib/libgoldplan.a"
install -m 0644 bindings/c/include/goldplan.h bindings/php/resources/goldplan_php.h "$PREFIX/include/"
# Libs.private: what a static link needs besides libgoldplan.a (pkg-config --static).
cat > "$PREFIX/lib/pkgconfig/goldplan.pc" <<PC
prefix=$PREFIX
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: goldplan
Description: WeChat Pay APIv3 and Gold Plan (点金计划) SDK, C library
Version: $VERSION
Libs: -L\${libdir} -lgoldplan
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
echo "installed libgoldplan $VERSION into $PREFIX"
