#!/usr/bin/env bash
# Lays out libgoldplan under PREFIX, as `cargo make install-c PREFIX=…` and the C tarball of
# `cargo make dist` ship it:
#   PREFIX/lib/libgoldplan.so.<version>  (SONAME libgoldplan.so.<abi>; .so.<abi> and .so link to it)
#   PREFIX/lib/libgoldplan.a
#   PREFIX/include/goldplan.h, goldplan_php.h (the PHP-clean twin, for FFI::cdef)
#   PREFIX/lib/pkgconfig/goldplan.pc
# so that `cc app.c $(pkg-config --cflags --libs goldplan)` works (the tarball's goldplan.pc is
# made relocatable by packaging/dist.sh).
# The ABI version is the major version, or major.minor below 1.0 (0.1.x releases share an ABI).
#
# GOLDPLAN_PROFILE=debug installs the test suites' debug build instead: a plain libgoldplan.so
# with no SONAME, built by `cargo build` like everything else they link.
set -euo pipefail
: "${PREFIX:?set PREFIX, e.g. PREFIX=/usr/local}"
cd "$(dirname "$0")/../.."
ROOT="$PWD"
PROFILE="${GOLDPLAN_PROFILE:-release}"
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
case "$VERSION" in
  0.*) ABI=$(echo "$VERSION" | cut -d. -f1-2) ;;
  *) ABI=$(echo "$VERSION" | cut -d. -f1) ;;
esac
# cargo puts a build for an explicit target triple (CARGO_BUILD_TARGET) under target/<triple>/.
LIBDIR="${CARGO_TARGET_DIR:-$ROOT/target}/${CARGO_BUILD_TARGET:+$CARGO_BUILD_TARGET/}$PROFILE"
mkdir -p "$PREFIX/lib/pkgconfig" "$PREFIX/include"
case "$PROFILE" in
  release)
    # The SONAME goes on the final link only (`cargo rustc`), so every dependency is shared
    # with the other release builds.
    cargo rustc --release --locked -p goldplan-c --lib -- -C "link-arg=-Wl,-soname,libgoldplan.so.$ABI"
    rm -f "$PREFIX/lib/libgoldplan.so" "$PREFIX/lib/libgoldplan.so.$ABI"
    install -m 0755 "$LIBDIR/libgoldplan.so" "$PREFIX/lib/libgoldplan.so.$VERSION"
    # What a dynamic link of a release needs: the dynamic symbol table, not the debug sections.
    strip --strip-unneeded "$PREFIX/lib/libgoldplan.so.$VERSION"
    ln -s "libgoldplan.so.$VERSION" "$PREFIX/lib/libgoldplan.so.$ABI"
    ln -s "libgoldplan.so.$ABI" "$PREFIX/lib/libgoldplan.so"
    ;;
  debug)
    cargo build -p goldplan-c --locked
    install -m 0755 "$LIBDIR/libgoldplan.so" "$PREFIX/lib/libgoldplan.so"
    ;;
  *) echo "GOLDPLAN_PROFILE must be release or debug" >&2; exit 2 ;;
esac
install -m 0644 "$LIBDIR/libgoldplan.a" "$PREFIX/lib/libgoldplan.a"
install -m 0644 bindings/c/include/goldplan.h bindings/php/resources/goldplan_php.h "$PREFIX/include/"
# Libs.private: what a static link needs besides libgoldplan.a (pkg-config --static).
cat > "$PREFIX/lib/pkgconfig/goldplan.pc" <<PC
prefix=$(cd "$PREFIX" && pwd)
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: goldplan
Description: WeChat Pay APIv3 and Gold Plan (点金计划) SDK, C library
Version: $VERSION
Libs: -L\${libdir} -lgoldplan
Libs.private: -lpthread -ldl -lm
Cflags: -I\${includedir}
PC
echo "installed libgoldplan $VERSION ($PROFILE) into $PREFIX"
