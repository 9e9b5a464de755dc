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


PACED = """
import json, sys, time, goldplan
config = json.load(open(sys.argv[1]))
client = goldplan.Client(
    mchid=config["mchid"], serial_no=config["serial_no"], private_key=config["private_key_pem"],
    public_key_id=config["public_key_id"], public_key=config["public_key_pem"],
    base_url=config["base_url"], mode="public_key",
    rate_limit={"per_second": float(sys.argv[3]), "store": sys.argv[2]},
)
start, end = float(sys.argv[4]), float(sys.argv[5])
client.change_gold_plan_status("1900000109", "OPEN")  # connected, and the bucket drained
while time.time() < start:
    time.sleep(0.002)
calls = 0
while time.time() < end:
    client.change_gold_plan_status("1900000109", "OPEN")
    calls += 1
print(calls)
"""


def test_eight_processes_share_one_rate_limit(redis_url: str, tmp_path: pathlib.Path) -> None:
    rate, seconds = 40.0, 4.0
    with Sandbox(mode="public_key", state_dir=str(tmp_path / "sandbox")):
        config = tmp_path / "sandbox" / "sandbox.json"
        script = tmp_path / "paced.py"
        script.write_text(PACED, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        start = time.time() + 3.0
        members = [
            subprocess.Popen(
                [sys.executable, str(script), str(config), redis_url, str(rate), str(start),
                 str(start + seconds)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )
            for _ in range(8)
        ]
        counts = []
        for member in members:
            out, err = member.communicate(timeout=120)
            assert member.returncode == 0, err
            counts.append(int(out.strip()))
    total = sum(counts)
    # Each member alone could make hundreds of calls a second; together they hold the rate.
    assert abs(total / seconds - rate) <= 0.05 * rate, (total, counts)
    assert min(counts) > 0, counts


def test_a_rate_limit_that_is_not_an_object_is_refused_by_name() -> None:
    with Sandbox(mode="public_key") as sandbox:
        info = sandbox.info
        with pytest.raises(goldplan.errors.ConfigurationError) as raised:
            goldplan.Client(
                mchid=info["mchid"], serial_no=info["serial_no"],
                private_key=info["private_key_pem"], public_key_id=info["public_key_id"],
                public_key=info["public_key_pem"], base_url=info["base_url"],
                rate_limit={"per_second": 10, "stroe": "redis://:hunter2@localhost/"},
            )
        assert "hunter2" not in str(raised.value)
        assert "rate_limit" in str(raised.value)


FLEET_MEMBER = """
import json, os, sys, time, goldplan
merchants = json.load(open(sys.argv[1]))
url, go = sys.argv[2], sys.argv[3]
clients = [
    goldplan.Client(
        mchid=m["mchid"], serial_no=m["serial_no"], private_key=m["private_key"],
        apiv3_key=m["apiv3_key"], base_url=m["base_url"], mode="certificate",
        certificate_store=url,
    )
    for m in merchants
]
for client, m in zip(clients, merchants):
    client.change_gold_plan_status(m["sub_mchid"], "OPEN")
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.01)
for client, m in zip(clients, merchants):
    client.change_gold_plan_status(m["sub_mchid"], "OPEN")
print("done", flush=True)
"""


def test_twenty_processes_five_merchants_one_download_per_merchant_and_rotation(
    redis_url: str, tmp_path: pathlib.Path
) -> None:
    processes, merchant_count = 20, 5
    with Sandbox(mode="certificate") as sandbox:
        info = sandbox.info
        merchants = [{
            "mchid": info["mchid"], "serial_no": info["serial_no"],
            "private_key": info["private_key_pem"], "apiv3_key": info["apiv3_key"],
            "base_url": info["base_url"], "sub_mchid": "1900000109",
        }]
        for i in range(1, merchant_count):
            mchid, apiv3_key = f"19000003{i:02d}", f"fleet-merchant-{i:02d}-apiv3-key-32!!"[:32]
            sub = f"19000004{i:02d}"
            sandbox.add_merchant(
                mchid, apiv3_key=apiv3_key, certificate_pem=info["certificate_pem"],
                mode="certificate", sub_mchids=[sub],
            )
            merchants.append({**merchants[0], "mchid": mchid, "apiv3_key": apiv3_key,
                              "sub_mchid": sub})
        config = tmp_path / "merchants.json"
        config.write_text(json.dumps(merchants), encoding="utf-8")
        script = tmp_path / "member.py"
        script.write_text(FLEET_MEMBER, encoding="utf-8")
        go = tmp_path / "go"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        members = [
            subprocess.Popen([sys.executable, str(script), str(config), redis_url, str(go)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            for _ in range(processes)
        ]
        try:
            for member in members:
                assert member.stdout is not None
                assert member.stdout.readline().strip() == "ready", member.stderr
            downloads = lambda: [  # noqa: E731
                r for r in sandbox.requests() if r["path"].startswith("/v3/certificates")
            ]
            first = downloads()
            assert len(first) == merchant_count, first
            assert sorted(r["mchid"] for r in first) == sorted(m["mchid"] for m in merchants)

            # Every merchant's platform certificate rotates, signing at once: all 20 processes
            # meet the 5 new serials.
            for m in merchants:
                sandbox.rotate_certificates(mchid=m["mchid"], sign_with_new=True)
            go.write_text("go", encoding="utf-8")
            for member in members:
                out, err = member.communicate(timeout=120)
                assert member.returncode == 0, err
                assert out.strip() == "done", err
        finally:
            for member in members:
                member.kill()
        # One download per merchant for the rotation, not one per process and merchant.
        after = downloads()[len(first):]
        assert sorted(r["mchid"] for r in after) == sorted(m["mchid"] for m in merchants), after
