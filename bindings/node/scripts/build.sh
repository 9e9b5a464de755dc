#!/usr/bin/env bash
# Builds both addons of the Node binding (debug unless GOLDPLAN_NODE_RELEASE=1):
#   goldplan.testing.linux-x64-gnu.node  the sandbox build (cargo feature `testing`), for
#                                        goldplan/testing and the test suite;
#   goldplan.linux-x64-gnu.node          the production build, which also regenerates the
#                                        committed loader (native.cjs) and types (native.d.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
# One target directory for cargo and napi (napi passes --target; see TOOLCHAIN pitfall 1).
export CARGO_BUILD_TARGET=x86_64-unknown-linux-gnu
release=()
if [[ "${GOLDPLAN_NODE_RELEASE:-0}" == 1 ]]; then release=(--release); fi
npx napi build --platform "${release[@]}" --features testing --no-js --dts testing-native.d.ts --output-dir build/testing
mv build/testing/goldplan.linux-x64-gnu.node goldplan.testing.linux-x64-gnu.node
npx napi build --platform "${release[@]}" --js native.cjs --dts native.d.ts
