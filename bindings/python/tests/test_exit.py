"""Interpreter exit while daemon threads are inside calls: nothing is printed (no tokio panic
from a runtime stopped under a poll) and the exit status is the script's own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("exit_with_calls_in_flight.py")
GUARD = 120.0  # seconds; only reached if the exit hangs


@pytest.mark.parametrize(
    ("how", "status", "printed"),
    [
        ("end", 0, "in flight\n"),
        ("exit:0", 0, "in flight\n"),
        ("exit:3", 3, "in flight\n"),
        ("late-call", 0, "in flight\nlate call answered\n"),
    ],
)
def test_exit_with_blocking_and_asyncio_calls_in_flight_on_daemon_threads(
    how: str, status: int, printed: str
) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), how],
        capture_output=True,
        text=True,
        timeout=GUARD,
        check=False,
    )
    # "in flight" once every daemon thread's request is held by the sandbox.
    assert done.stdout == printed
    assert "panic" not in done.stderr.lower() and "tokio" not in done.stderr.lower(), done.stderr
    assert done.stderr == ""
    assert done.returncode == status
