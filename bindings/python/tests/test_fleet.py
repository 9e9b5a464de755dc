"""Certificate downloads shared by the processes of a fleet through Redis, configured from
Python (`certificate_store=`): each process here is a real child process with its own client."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
from typing import Iterator

import pytest

import goldplan
from goldplan.testing import Sandbox

@pytest.fixture
def redis_url(tmp_path: pathlib.Path) -> Iterator[str]:
    assert shutil.which("redis-server"), "redis-server is missing: cargo make redis-tools"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.025)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait()


MEMBER = """
import json, sys, goldplan
config = json.load(open(sys.argv[1]))
client = goldplan.Client(
    mchid=config["mchid"], serial_no=config["serial_no"], private_key=config["private_key_pem"],
    apiv3_key=config["apiv3_key"], base_url=config["base_url"], mode="certificate",
    certificate_store=sys.argv[2],
)
print(client.change_gold_plan_status("1900000109", "OPEN").data["sub_mchid"])
"""


def test_processes_configured_with_one_redis_download_once(
    redis_url: str, tmp_path: pathlib.Path
) -> None:
    with Sandbox(mode="certificate", state_dir=str(tmp_path / "sandbox")) as sandbox:
        config = tmp_path / "sandbox" / "sandbox.json"
        script = tmp_path / "member.py"
        script.write_text(MEMBER, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        members = [
            subprocess.Popen([sys.executable, str(script), str(config), redis_url],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(4)
        ]
        for member in members:
            out, err = member.communicate(timeout=120)
            assert member.returncode == 0, err
            assert out.strip() == "1900000109"
        downloads = [r for r in sandbox.requests() if r["path"].startswith("/v3/certificates")]
        assert len(downloads) == 1, downloads


def test_an_unknown_store_is_a_configuration_error_without_the_url() -> None:
    with Sandbox(mode="certificate") as sandbox:
        info = sandbox.info
        with pytest.raises(goldplan.errors.ConfigurationError) as raised:
            goldplan.Client(
                mchid=info["mchid"], serial_no=info["serial_no"],
                private_key=info["private_key_pem"], apiv3_key=info["apiv3_key"],
                base_url=info["base_url"], mode="certificate",
                certificate_store="memcached://:hunter2@127.0.0.1/",
            )
        assert "hunter2" not in str(raised.value)
        assert "certificate_store" in str(raised.value)
