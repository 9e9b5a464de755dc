"""The independent vector check (tests/vectors/check_vectors.py, run by `cargo make
test-vectors`) fails, with a non-zero status, when an expected value is hand-edited."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

from conftest import VECTORS


def test_a_hand_edited_expected_value_fails_the_check(tmp_path: pathlib.Path) -> None:
    copy = tmp_path / "vectors"
    shutil.copytree(VECTORS, copy)
    path = copy / "messages.json"
    text = path.read_text(encoding="utf-8")
    r1 = next(c for c in json.loads(text)["cases"] if c["name"] == "R1")
    digest = r1["sha256"]
    edited = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    assert text.count(digest) == 1
    path.write_text(text.replace(digest, edited), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, str(copy / "check_vectors.py")],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL:")]
    assert failures and all("R1" in line for line in failures), failures
    assert result.stdout.rstrip().endswith(f"{len(failures)} failures")
