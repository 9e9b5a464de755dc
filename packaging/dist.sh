#!/usr/bin/env bash
# `cargo make dist`: every artifact a user installs, release builds, into dist/ with SHA256SUMS.
#
#   goldplan-<v>-cp39-abi3-manylinux_*_x86_64.whl, goldplan-<v>.tar.gz   Python wheel and sdist
#   goldplan-<v>.tgz, goldplan-linux-x64-gnu-<v>.tgz,
#   goldplan-testing-linux-x64-gnu-<v>.tgz                              npm facade and addons
#   goldplan-<v>-x86_64-linux-gnu.tar.gz                                the C library
#   goldplan-<v>.jar, goldplan-<v>-sources.jar                          Java (also `mvn install`ed)
#   goldplan-php-<v>.tgz, goldplan-php-ext-<v>.tgz                       PHP: Composer FFI package,
#                                                                       PIE extension source
#   goldplan-<v>.crate, goldplan-host-<v>.crate, …                      Rust (`cargo package`)
#
# packaging/try.sh installs each into an empty project and runs its quick start.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
VERSION=$(python3 packaging/versions.py)
TRIPLE=x86_64-unknown-linux-gnu
DIST="$ROOT/dist"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${VENV:-$ROOT/.venv}"
rm -rf "$DIST"
mkdir -p "$DIST"
# Deterministic tarballs: sorted names, no owner, the commit's time.
SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
export SOURCE_DATE_EPOCH
tarball() { # tarball OUT.tar.gz DIR NAME: DIR's contents under NAME/
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
    --transform "s|^\.|$3|" -C "$2" -czf "$1" .
}
step() { echo "== dist: $*"; }

step "Rust crates (cargo package)"
# Not verified one by one here (five builds with five feature sets): packaging/try.sh builds
# all of them together from their .crate files, as a user's project would.
cargo package --locked --allow-dirty --no-verify -p goldplan -p goldplan-host -p goldplan-sandbox -p goldplan-bulk -p goldplan-cli -p goldplan-redis -p goldplan-receipt
cp "$TARGET"/package/goldplan*-"$VERSION".crate "$DIST/"

# Every release build below names the target triple, as napi always does, so that all of them
# share target/<triple>/release and its dependencies are built once.
export CARGO_BUILD_TARGET="$TRIPLE"

step "C library"
c_stage="$TARGET/dist/c"
rm -rf "$c_stage"
PREFIX="$c_stage" bash bindings/c/install.sh
# The tarball's goldplan.pc finds the rest of the tree wherever it is unpacked.
sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$c_stage/lib/pkgconfig/goldplan.pc"
cp LICENSE-MIT LICENSE-APACHE "$c_stage/"
tarball "$DIST/goldplan-$VERSION-x86_64-linux-gnu.tar.gz" "$c_stage" "goldplan-$VERSION-x86_64-linux-gnu"

step "Java jar (carrying libgoldplan.so for JNA) and sources jar, installed with mvn install"
# The stripped library of the C tarball, as a plain file (not the tarball's symlink).
java_native="$TARGET/dist/java-native"
rm -rf "$java_native"
mkdir -p "$java_native"
cp -L "$c_stage/lib/libgoldplan.so" "$java_native/libgoldplan.so"
(cd bindings/java && mvn -B -q -DskipTests -Dgoldplan.libdir="$java_native" install)
cp "bindings/java/target/goldplan-$VERSION.jar" "bindings/java/target/goldplan-$VERSION-sources.jar" "$DIST/"

step "Python wheel (abi3) and sdist"
test -x "$VENV/bin/maturin" || { echo "dist: $VENV/bin/maturin missing: cargo make venv" >&2; exit 1; }
"$VENV/bin/maturin" build --release --locked --target "$TRIPLE" --out "$DIST" -m bindings/python/Cargo.toml
"$VENV/bin/maturin" sdist --out "$DIST" -m bindings/python/Cargo.toml

step "npm tarballs (facade, production addon, sandbox addon)"
(
  cd bindings/node
  npm ci --no-audit --no-fund --loglevel=error
  GOLDPLAN_NODE_RELEASE=1 scripts/build.sh
  node scripts/pack.mjs "$DIST" >/dev/null
)

step "PHP: the Composer package (FFI door) and the extension's source package (PIE)"
stage="$TARGET/dist/php"
rm -rf "$stage"
mkdir -p "$stage/goldplan" "$stage/ext"
# Exactly the committed files, none of a local build's products.
git ls-files -z bindings/php | grep -zv -e '^bindings/php/ext/' -e '^bindings/php/tests/' -e '^bindings/php/tools/' |
  xargs -0 -I{} sh -c 'mkdir -p "$(dirname "$0/${1#bindings/php/}")" && cp "$1" "$0/${1#bindings/php/}"' "$stage/goldplan" {}
git ls-files -z bindings/php/ext | grep -zv -e '^bindings/php/ext/tests/' -e 'run-tests' -e '\.gitignore$' |
  xargs -0 -I{} sh -c 'cp "$1" "$0/"' "$stage/ext" {}
cp LICENSE-MIT LICENSE-APACHE "$stage/ext/"
tarball "$DIST/goldplan-php-$VERSION.tgz" "$stage/goldplan" "goldplan-php-$VERSION"
tarball "$DIST/goldplan-php-ext-$VERSION.tgz" "$stage/ext" "goldplan-php-ext-$VERSION"

(cd "$DIST" && sha256sum -- * > SHA256SUMS)
step "done: $DIST"
(cd "$DIST" && ls -l --block-size=K -- *)
