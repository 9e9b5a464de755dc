"""Every Python example runs, and the README's Python quick start works as written."""

from __future__ import annotations

import contextlib
import pathlib
import re
import subprocess
import sys

import pytest

import goldplan.testing
from conftest import REPO

EXAMPLES = sorted((REPO / "examples" / "python").glob("*.py"))


def test_there_are_examples() -> None:
    assert EXAMPLES, "examples/python is empty"


# What each example must print, line by line, in this order (patterns match whole lines).
EXPECTED_OUTPUT = {
    "gold_plan.py": [
        r"<goldplan\.Client .*>|Client\(.*\)",
        r"Gold Plan opened for 1900000109 \(Request-ID \S+\)",
        r"gateway state: gold_plan=OPEN custom_page=OPEN advertising_show=OPEN",
        r"refused before sending: .*",
        r"callback TRANSACTION\.SUCCESS: ORDER-1001",
        r"callback delivery: delivered after 1 attempt\(s\)",
        r"receipt check_code valid: True",
    ],
    "quickstart.py": [
        r"Gold Plan opened for 1900000109 \(Request-ID \S+\)",
        r"refused: HTTP 4\d\d [A-Z_]+: .+ \[\S+\]",
    ],
}

# Examples that read a configuration file (a sandbox's sandbox.json, the fields a client takes
# with real credentials) given as their first argument.
READS_CONFIG = {"quickstart.py"}


def test_every_example_declares_its_output() -> None:
    assert sorted(EXPECTED_OUTPUT) == [p.name for p in EXAMPLES]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(example: pathlib.Path, tmp_path: pathlib.Path) -> None:
    command = [sys.executable, str(example)]
    with contextlib.ExitStack() as stack:
        if example.name in READS_CONFIG:
            state = tmp_path / "sandbox"
            stack.enter_context(goldplan.testing.Sandbox(state_dir=str(state)))
            command.append(str(state / "sandbox.json"))
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    patterns = EXPECTED_OUTPUT[example.name]
    assert len(lines) == len(patterns), result.stdout
    for line, pattern in zip(lines, patterns):
        assert re.fullmatch(pattern, line), (pattern, line)


LENIENT = """
import runpy, sys
import goldplan.testing

class Lenient:
    # A client that lets an invalid filter list through, as a broken SDK would.
    def __init__(self, inner):
        self._inner = inner
    def __getattr__(self, name):
        return getattr(self._inner, name)
    def set_advertising_industry_filter(self, sub_mchid, filters):
        if len(filters) > 3:
            return None
        return self._inner.set_advertising_industry_filter(sub_mchid, filters)

original = goldplan.testing.Sandbox.client
goldplan.testing.Sandbox.client = lambda self, **kw: Lenient(original(self, **kw))
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def test_the_gold_plan_example_fails_loudly_when_validation_is_missing(
    tmp_path: pathlib.Path,
) -> None:
    script = tmp_path / "lenient.py"
    script.write_text(LENIENT, encoding="utf-8")
    example = REPO / "examples" / "python" / "gold_plan.py"
    result = subprocess.run(
        [sys.executable, str(script), str(example)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "four industry filters were accepted" in result.stderr
    assert "refused before sending" not in result.stdout
    assert "callback" not in result.stdout, "the example stops at the first surprise"


def readme_python_blocks() -> list:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_shows_the_quick_start_example_verbatim() -> None:
    quickstart = (REPO / "examples" / "python" / "quickstart.py").read_text(encoding="utf-8")
    assert quickstart in readme_python_blocks()


def test_readme_python_sandbox_block_works_as_written(tmp_path: pathlib.Path) -> None:
    blocks = [b for b in readme_python_blocks() if "from goldplan.testing import Sandbox" in b]
    assert len(blocks) == 1, "the README shows goldplan.testing.Sandbox once"
    script = tmp_path / "sandbox_block.py"
    script.write_text(blocks[0], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OPEN" in result.stdout
