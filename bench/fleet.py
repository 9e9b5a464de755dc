"""A fleet with and without a shared certificate store: certificate downloads and the first
call's latency of new processes, and the CPU a store adds to a call in steady state.

    python3 bench/fleet.py [--processes 20,100] [--calls 2000] [--instructions 300]

Needs the Python binding with its sandbox (`cargo make test-python` leaves one in .venv) and
Debian's redis-server. The sandbox runs in this process on its own thread pool; every fleet
member is a process of its own that builds a certificate-mode client and makes one call, all
started together; CPU per call is the whole member process's (user + system). With
`--instructions N`, the steady-state cost is also counted by callgrind (user-space instructions
of N calls minus none, over N), which the machine's load does not move.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from goldplan.testing import Sandbox

MEMBER = r"""
import json, sys, time
t0 = time.perf_counter()
import goldplan
config = json.load(open(sys.argv[1]))
store = sys.argv[2] or None
start = float(sys.argv[3])
client = goldplan.Client(
    mchid=config["mchid"], serial_no=config["serial_no"], private_key=config["private_key_pem"],
    apiv3_key=config["apiv3_key"], base_url=config["base_url"], mode="certificate",
    certificate_store=store,
)
while time.time() < start:
    time.sleep(0.001)
t1 = time.perf_counter()
client.change_gold_plan_status("1900000109", "OPEN")
first = time.perf_counter() - t1
print(json.dumps({"first_call_ms": first * 1000}))
"""

STEADY = r"""
import json, resource, sys, goldplan
config = json.load(open(sys.argv[1]))
store, calls = sys.argv[2] or None, int(sys.argv[3])
client = goldplan.Client(
    mchid=config["mchid"], serial_no=config["serial_no"], private_key=config["private_key_pem"],
    apiv3_key=config["apiv3_key"], base_url=config["base_url"], mode="certificate",
    certificate_store=store,
)
for _ in range(50):
    client.change_gold_plan_status("1900000109", "OPEN")
before = resource.getrusage(resource.RUSAGE_SELF)
for _ in range(calls):
    client.change_gold_plan_status("1900000109", "OPEN")
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(json.dumps({"cpu_us_per_call": cpu / max(calls, 1) * 1e6}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def downloads(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests() if r["path"].startswith("/v3/certificates"))


def fleet_run(sandbox: Sandbox, config: pathlib.Path, script: pathlib.Path, n: int,
              store: str) -> dict:
    sandbox.clear_requests()
    start = time.time() + 2.0 + n * 0.05
    members = [
        subprocess.Popen([sys.executable, str(script), str(config), store, str(start)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(n)
    ]
    latencies = []
    for member in members:
        out, err = member.communicate(timeout=300)
        if member.returncode != 0:
            raise SystemExit(err)
        latencies.append(json.loads(out)["first_call_ms"])
    latencies.sort()
    return {
        "downloads": downloads(sandbox),
        "first_call_ms_median": statistics.median(latencies),
        "first_call_ms_p90": latencies[int(len(latencies) * 0.9) - 1],
        "first_call_ms_max": latencies[-1],
    }


def callgrind_instructions(cmd: list) -> int:
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                          capture_output=True, text=True, check=True)
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split(":")[-1].strip())
    raise SystemExit("no instruction count in callgrind's output")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", default="20,100")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--instructions", type=int, default=0)
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="goldplan-fleet-bench-"))
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(work)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)
        with Sandbox(mode="certificate", state_dir=str(work / "sandbox")) as sandbox:
            config = work / "sandbox" / "sandbox.json"
            member = work / "member.py"
            member.write_text(MEMBER, encoding="utf-8")
            steady = work / "steady.py"
            steady.write_text(STEADY, encoding="utf-8")
            print(f"# {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, "
                  f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
            print("| processes | store | downloads | first call median (ms) | p90 | max |")
            print("|---:|---|---:|---:|---:|---:|")
            for i, n in enumerate(int(x) for x in args.processes.split(",")):
                # A database of its own per fleet size: each starts with nothing shared.
                for name, store in [("none", ""), ("redis", f"redis://127.0.0.1:{port}/{i + 1}")]:
                    r = fleet_run(sandbox, config, member, n, store)
                    print(f"| {n} | {name} | {r['downloads']} | {r['first_call_ms_median']:.1f} "
                          f"| {r['first_call_ms_p90']:.1f} | {r['first_call_ms_max']:.1f} |",
                          flush=True)
            print()
            print("| steady state | CPU per call (µs), median of rounds | rounds |")
            print("|---|---:|---|")
            results: dict = {"none": [], "redis": []}
            for _ in range(args.rounds):
                for name, store in [("none", ""), ("redis", f"redis://127.0.0.1:{port}/15")]:
                    out = subprocess.run(
                        [sys.executable, str(steady), str(config), store, str(args.calls)],
                        capture_output=True, text=True, check=True,
                    ).stdout
                    results[name].append(json.loads(out)["cpu_us_per_call"])
            for name, values in results.items():
                shown = ", ".join(f"{v:.0f}" for v in values)
                print(f"| {name} | {statistics.median(values):.0f} | {shown} |")
            ratio = statistics.median(results["redis"]) / statistics.median(results["none"])
            print(f"\nwith a store / without: {ratio:.3f}")
            if args.instructions:
                per_call = {}
                for name, store in [("none", ""), ("redis", f"redis://127.0.0.1:{port}/14")]:
                    base = [sys.executable, str(steady), str(config), store]
                    many = callgrind_instructions(base + [str(args.instructions)])
                    none = callgrind_instructions(base + ["0"])
                    per_call[name] = (many - none) / args.instructions
                    print(f"{name}: {per_call[name] / 1e6:.3f} M instructions per call "
                          f"(callgrind, {args.instructions} calls minus 0)")
                print(f"with a store / without (instructions): "
                      f"{per_call['redis'] / per_call['none']:.4f}")
    finally:
        redis.kill()
        redis.wait()


if __name__ == "__main__":
    main()
