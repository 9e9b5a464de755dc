"""Every Python example runs, and the README's Python quick start works as written."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = sorted((REPO / "examples" / "python").glob("*.py"))


def test_there_are_examples() -> None:
    assert EXAMPLES, "examples/python is empty"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example: pathlib.Path, tmp_path: pathlib.Path) -> None:
    result = subprocess.run(
        [sys.executable, str(example)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip(), "an example should show what it did"


def readme_python_blocks() -> list:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_python_quick_start_works_as_written(tmp_path: pathlib.Path) -> None:
    blocks = readme_python_blocks()
    assert blocks, "the README has no Python quick start"
    script = tmp_path / "quick_start.py"
    script.write_text(blocks[0], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OPEN" in result.stdout
