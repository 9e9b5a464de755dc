#!/usr/bin/env bash
# Regenerates the committed fuzz seeds (fuzz/testdata/<target>/) from tests/vectors.
set -euo pipefail
exec python3 "$(dirname "$0")/seed.py"
