"""Starts the goldplan-sandbox binary for the peer tests (random port, temporary state dir)."""

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]


def sandbox_binary() -> Path:
    explicit = os.environ.get("GOLDPLAN_SANDBOX_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "goldplan-sandbox"


class Sandbox:
    def __init__(self, base_url: str, info: dict, state_dir: Path):
        self.base_url = base_url
        self.info = info
        self.state_dir = state_dir

    def admin(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + "/sandbox" + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def reload_info(self) -> dict:
        self.info = json.loads((self.state_dir / "sandbox.json").read_text())
        return self.info


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    binary = sandbox_binary()
    if not binary.exists():
        pytest.fail(f"{binary} not found: run `cargo build -p goldplan-sandbox` first")
    state_dir = tmp_path_factory.mktemp("sandbox-state")
    proc = subprocess.Popen(
        [str(binary), "--port", "0", "--state-dir", str(state_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:"), f"unexpected first line {base_url!r}"
        info = json.loads((state_dir / "sandbox.json").read_text())
        assert info["base_url"] == base_url
        yield Sandbox(base_url, info, state_dir)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
