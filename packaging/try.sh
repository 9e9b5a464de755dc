#!/usr/bin/env bash
# `cargo make try-dist`: each artifact of dist/ installed into an empty project with its
# ecosystem's own tool, then that language's README quick start run against a local sandbox.
# Nothing here reads the source tree's bindings: only dist/, the examples and the sandbox.
#
#   C       the tarball unpacked anywhere, a program built with pkg-config
#   Python  pip install of the wheel into a new virtualenv, and of the sdist (built from source)
#   Node    npm install of the facade with its platform and sandbox packages
#   Java    a Maven project depending on dev.goldplan:goldplan (installed by dist), no JNA path
#   PHP     composer require from a path repository (FFI), and the extension built with phpize
#   Rust    cargo with path dependencies on the unpacked .crate files
#
# GOLDPLAN_TRY=c,python,… runs a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
DIST="$ROOT/dist"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${VENV:-$ROOT/.venv}"
VERSION=$(python3 packaging/versions.py)
ONLY=",${GOLDPLAN_TRY:-c,python,node,java,php,rust},"
test -s "$DIST/SHA256SUMS" || { echo "try: no dist/: run cargo make dist first" >&2; exit 1; }
(cd "$DIST" && sha256sum --quiet -c SHA256SUMS)
python3 packaging/readme_shows.py examples/c/quickstart.c examples/python/quickstart.py \
  examples/node/quickstart.mjs examples/php/quickstart.php

WORK=$(mktemp -d "${TMPDIR:-/tmp}/goldplan-try.XXXXXX")
SANDBOX_PID=""
cleanup() {
  [ -n "$SANDBOX_PID" ] && kill "$SANDBOX_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { echo "== try: $*"; }

# One sandbox process, in combined mode, for the quick starts that read its sandbox.json.
cargo build -q -p goldplan-sandbox --locked
"$TARGET/debug/goldplan-sandbox" --port 0 --state-dir "$WORK/sandbox" --mode combined >"$WORK/sandbox.log" 2>&1 &
SANDBOX_PID=$!
for _ in $(seq 200); do grep -qs base_url "$WORK/sandbox/sandbox.json" && break; sleep 0.1; done
CONFIG="$WORK/sandbox/sandbox.json"
test -s "$CONFIG" || { cat "$WORK/sandbox.log" >&2; exit 1; }
# Each quick start opens Gold Plan for this special merchant, then reads WeChat's refusal of
# an unknown one: both lines must be in its output.
expect_quickstart() { # expect_quickstart LABEL OUTPUT_FILE
  grep -q "1900000109" "$2" && grep -Eq 'refused: HTTP 4[0-9][0-9]|"kind":"api"|^api 4[0-9][0-9] ' "$2" ||
    { echo "try $1: unexpected output:" >&2; cat "$2" >&2; exit 1; }
  echo "try $1: ok"
}

C_HOME="$WORK/c/goldplan-$VERSION-x86_64-linux-gnu"
if [[ "$ONLY" == *,c,* || "$ONLY" == *,php,* ]]; then
  step "C: unpack the tarball anywhere, build with pkg-config"
  mkdir -p "$WORK/c"
  tar -xzf "$DIST/goldplan-$VERSION-x86_64-linux-gnu.tar.gz" -C "$WORK/c"
  soname=$(readelf -d "$C_HOME/lib/libgoldplan.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
  [ "$soname" = "$(readlink "$C_HOME/lib/libgoldplan.so")" ] ||
    { echo "try c: SONAME $soname is not what libgoldplan.so links to" >&2; exit 1; }
fi
if [[ "$ONLY" == *,c,* ]]; then
  mkdir -p "$WORK/c/app"
  cp examples/c/quickstart.c "$WORK/c/app/"
  (
    cd "$WORK/c/app"
    export PKG_CONFIG_PATH="$C_HOME/lib/pkgconfig"
    # shellcheck disable=SC2046
    cc -Wall -Wextra -Werror quickstart.c $(pkg-config --cflags --libs goldplan) -o quickstart
    LD_LIBRARY_PATH="$C_HOME/lib" ./quickstart "$CONFIG" >out.txt 2>&1
    expect_quickstart c out.txt
  )
fi

if [[ "$ONLY" == *,python,* ]]; then
  step "Python: the wheel, then the sdist, each into a new virtualenv"
  for artifact in "$DIST"/goldplan-"$VERSION"-*.whl "$DIST/goldplan-$VERSION.tar.gz"; do
    env_dir="$WORK/py-$(basename "$artifact")"
    python3 -m venv "$env_dir"
    if [[ "$artifact" == *.whl ]]; then
      "$env_dir/bin/pip" install -q --disable-pip-version-check --no-index "$artifact"
    else
      # Built from source as pip does where Rust is installed (maturin comes from PyPI); the
      # build shares this checkout's cargo target directory, so only our crates compile.
      CARGO_TARGET_DIR="$TARGET" CARGO_BUILD_TARGET=x86_64-unknown-linux-gnu \
        "$env_dir/bin/pip" install -q --disable-pip-version-check "$artifact"
    fi
    mkdir -p "$env_dir/app"
    cp examples/python/quickstart.py "$env_dir/app/"
    (cd "$env_dir/app" && env -u PYTHONPATH "$env_dir/bin/python" quickstart.py "$CONFIG" >out.txt 2>&1 ||
      { cat out.txt >&2; exit 1; })
    expect_quickstart "python ($(basename "$artifact"))" "$env_dir/app/out.txt"
  done
fi

if [[ "$ONLY" == *,node,* ]]; then
  step "Node: npm install of the facade, its platform package and the sandbox package"
  mkdir -p "$WORK/node"
  (
    cd "$WORK/node"
    printf '{ "name": "app", "version": "1.0.0", "private": true, "type": "module" }\n' >package.json
    npm install --offline --no-audit --no-fund --silent \
      "$DIST/goldplan-$VERSION.tgz" "$DIST/goldplan-linux-x64-gnu-$VERSION.tgz"
    npm install --offline --no-audit --no-fund --silent --save-dev "$DIST/goldplan-testing-linux-x64-gnu-$VERSION.tgz"
    cp "$ROOT/examples/node/quickstart.mjs" .
    node quickstart.mjs >out.txt 2>&1 || { cat out.txt >&2; exit 1; }
    # The quick start prints the merchant's Gold Plan state, a Request-ID and `true`.
    grep -q "^OPEN .* true$" out.txt || { cat out.txt >&2; exit 1; }
    echo "try node: ok"
  )
fi

if [[ "$ONLY" == *,java,* ]]; then
  step "Java: a Maven project with dev.goldplan:goldplan:$VERSION, no library path given"
  mkdir -p "$WORK/java/src/main/java/dev/goldplan"
  cp bindings/java/src/test/java/dev/goldplan/QuickStart.java "$WORK/java/src/main/java/dev/goldplan/"
  cat >"$WORK/java/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example</groupId>
  <artifactId>app</artifactId>
  <version>1.0.0</version>
  <properties>
    <maven.compiler.source>1.8</maven.compiler.source>
    <maven.compiler.target>1.8</maven.compiler.target>
    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
  </properties>
  <dependencies>
    <dependency>
      <groupId>dev.goldplan</groupId>
      <artifactId>goldplan</artifactId>
      <version>$VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  (
    cd "$WORK/java"
    mvn -B -q compile dependency:build-classpath -Dmdep.outputFile=classpath.txt
    # A JVM of its own, with neither jna.library.path nor LD_LIBRARY_PATH: the jar's copy loads.
    env -u LD_LIBRARY_PATH java -cp "target/classes:$(cat classpath.txt)" dev.goldplan.QuickStart "$CONFIG" >out.txt 2>&1 ||
      { cat out.txt >&2; exit 1; }
    expect_quickstart java out.txt
  )
fi

if [[ "$ONLY" == *,php,* ]]; then
  step "PHP: composer require from a path repository (FFI door)"
  command -v composer >/dev/null || { echo "try php: composer missing: cargo make php-tools" >&2; exit 1; }
  mkdir -p "$WORK/php/packages" "$WORK/php/app"
  tar -xzf "$DIST/goldplan-php-$VERSION.tgz" -C "$WORK/php/packages"
  (
    cd "$WORK/php/app"
    cat >composer.json <<JSON
{
  "name": "example/app",
  "repositories": [
    { "type": "path", "url": "$WORK/php/packages/goldplan-php-$VERSION",
      "options": { "symlink": false, "versions": { "goldplan/goldplan": "$VERSION" } } },
    { "packagist.org": false }
  ]
}
JSON
    COMPOSER_ALLOW_SUPERUSER=1 composer require -q --no-interaction "goldplan/goldplan:$VERSION"
    # The application's own autoloader instead of the repository's.
    sed "s|require __DIR__ . '/../../bindings/php/autoload.php';|require __DIR__ . '/vendor/autoload.php';|" \
      "$ROOT/examples/php/quickstart.php" >quickstart.php
    grep -q "vendor/autoload.php" quickstart.php
    GOLDPLAN_LIBRARY="$C_HOME/lib/libgoldplan.so" php -d ffi.enable=1 quickstart.php "$CONFIG" >out.txt 2>&1 ||
      { cat out.txt >&2; exit 1; }
    expect_quickstart "php (FFI)" out.txt
  )
  step "PHP: the extension's source package built with phpize against the C tarball"
  mkdir -p "$WORK/php/ext"
  tar -xzf "$DIST/goldplan-php-ext-$VERSION.tgz" -C "$WORK/php/ext"
  (
    cd "$WORK/php/ext/goldplan-php-ext-$VERSION"
    { phpize && ./configure --with-goldplan="$C_HOME" && make -j"$(nproc)"; } >build.log 2>&1 ||
      { tail -30 build.log >&2; exit 1; }
    cd "$WORK/php/app"
    php -d extension="$WORK/php/ext/goldplan-php-ext-$VERSION/modules/goldplan.so" -r \
      'exit(extension_loaded("goldplan") ? 0 : 1);'
    php -d extension="$WORK/php/ext/goldplan-php-ext-$VERSION/modules/goldplan.so" quickstart.php "$CONFIG" >out-ext.txt 2>&1 ||
      { cat out-ext.txt >&2; exit 1; }
    expect_quickstart "php (extension)" out-ext.txt
  )
fi

if [[ "$ONLY" == *,rust,* ]]; then
  step "Rust: every packaged crate built from its .crate, the quick start as a new crate using them"
  mkdir -p "$WORK/rust/crates" "$WORK/rust/app/src"
  patches=""
  for crate in "$DIST"/goldplan*-"$VERSION".crate; do
    tar -xzf "$crate" -C "$WORK/rust/crates"
    name=$(basename "$crate" "-$VERSION.crate")
    patches+="$name = { path = \"crates/$name-$VERSION\" }"$'\n'
  done
  # The packaged manifests name each other by version, as on crates.io: the patch section
  # points those names at the unpacked crates (never at a registry crate of the same name).
  cat >"$WORK/rust/Cargo.toml" <<TOML
[workspace]
resolver = "3"
members = ["app", "crates/*"]

[patch.crates-io]
$patches
TOML
  cp examples/rust/examples/quickstart.rs "$WORK/rust/app/src/main.rs"
  cat >"$WORK/rust/app/Cargo.toml" <<TOML
[package]
name = "app"
version = "1.0.0"
edition = "2024"
publish = false

[dependencies]
goldplan = "$VERSION"
goldplan-sandbox = "$VERSION"
tempfile = "3"
tokio = { version = "1", features = ["macros", "rt-multi-thread", "process"] }
TOML
  # The same dependency versions as this checkout (its lock file) and its target directory.
  cp Cargo.lock "$WORK/rust/"
  (
    cd "$WORK/rust"
    export CARGO_TARGET_DIR="$TARGET"
    cargo build -q --workspace
    cargo run -q -p app >out.txt 2>&1 || { cat out.txt >&2; exit 1; }
    grep -q "^1900000109 (Request-ID" out.txt || { cat out.txt >&2; exit 1; }
  )
  echo "try rust: ok"
fi
echo "try: every artifact installed and ran its quick start"
