#!/usr/bin/env python3
"""Per-call cost of every language surface, end to end, beside the physical limit.

Everything runs as a user would run it: the sandbox in its own process (public-key mode, its
state directory on tmpfs so that its fsyncs do not turn the figures into a disk benchmark),
each client in another process, over a real loopback socket. For each surface:

* CPU per call: the client process's CPU time (user + system, all threads, measured from
  outside with getrusage) for N calls, minus the same process making 0 calls (start-up, key
  parsing, first connection), divided by N;
* wall time per sequential call, and calls/s with 16 calls in flight;
* the ratio of CPU per call to the limit: one RSA-2048 signature plus one verification,
  measured in the same run on the same machine.

    python bench/cost.py [--calls 2000] [--inflight 16] [--rounds 3]

It builds the release sandbox and the Rust cost client itself; the Python surfaces need
goldplan built in release mode into the running interpreter's environment
(`cd bindings/python && maturin develop --release`), and are skipped with a note otherwise.
No figure here uses a mocked transport.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

REPO = pathlib.Path(__file__).resolve().parent.parent
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))


def build() -> None:
    subprocess.run(
        ["cargo", "build", "--release", "--locked", "-p", "goldplan-sandbox", "--bin",
         "goldplan-sandbox", "-p", "goldplan-e2e", "--example", "cost_client"],
        cwd=REPO, check=True,
    )


class SandboxProcess:
    def __init__(self) -> None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") else None
        self.dir = tempfile.mkdtemp(prefix="goldplan-cost-", dir=base)
        self.proc = subprocess.Popen(
            [str(TARGET / "release" / "goldplan-sandbox"), "--state-dir", self.dir,
             "--mode", "public_key"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.proc.stdout is not None
        self.base_url = self.proc.stdout.readline().strip()
        self.config = os.path.join(self.dir, "sandbox.json")
        deadline = time.time() + 30
        while not os.path.exists(self.config) and time.time() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(cmd: List[str]) -> Dict[str, float]:
    """Runs one client process; returns its JSON output plus its CPU seconds."""
    before = children_cpu()
    out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
    cpu = children_cpu() - before
    result = json.loads(out.strip().splitlines()[-1])
    result["cpu_s"] = cpu
    return result


def surfaces(config: str, python: Optional[str]) -> Dict[str, List[str]]:
    rust = [str(TARGET / "release" / "examples" / "cost_client"), "run", "--config", config]
    found = {"Rust Client": rust}
    if python is not None:
        script = [python, str(REPO / "bench" / "cost_python.py"), "--config", config]
        found["Python Client"] = script + ["--kind", "client"]
        found["Python AsyncClient"] = script + ["--kind", "async"]
    return found


def python_with_goldplan() -> Optional[str]:
    probe = subprocess.run(
        [sys.executable, "-c", "import goldplan"], capture_output=True, text=True
    )
    return sys.executable if probe.returncode == 0 else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--inflight", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    build()
    python = python_with_goldplan()
    sandbox = SandboxProcess()
    try:
        limit = measure([str(TARGET / "release" / "examples" / "cost_client"), "limit",
                         "--config", sandbox.config, "--iterations", "2000"])
        limit_us = limit["sign_us"] + limit["verify_us"]
        rows = []
        for name, cmd in surfaces(sandbox.config, python).items():
            cpu, wall, rate = [], [], []
            for _ in range(args.rounds):
                idle = measure(cmd + ["--calls", "0"])
                seq = measure(cmd + ["--calls", str(args.calls)])
                par = measure(cmd + ["--calls", str(args.calls), "--concurrency",
                                     str(args.inflight)])
                cpu.append((seq["cpu_s"] - idle["cpu_s"]) / args.calls * 1e6)
                wall.append(seq["wall_s"] / args.calls * 1e6)
                rate.append(args.calls / par["wall_s"])
            rows.append((name, statistics.median(cpu), statistics.median(wall),
                         statistics.median(rate)))
    finally:
        sandbox.stop()

    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; sandbox process in "
          f"public-key mode, state on tmpfs; {args.calls} calls x {args.rounds} rounds (median)")
    print(f"limit (same run): sign {limit['sign_us']:.1f} us + verify {limit['verify_us']:.1f} us"
          f" = {limit_us:.1f} us of CPU per call")
    print(f"| surface | CPU/call (us) | x limit | wall/call sequential (us) | calls/s, "
          f"{args.inflight} in flight |")
    print("|---|---:|---:|---:|---:|")
    for name, cpu, wall, rate in rows:
        print(f"| {name} | {cpu:.0f} | {cpu / limit_us:.2f} | {wall:.0f} | {rate:.0f} |")
    if python is None:
        print("(Python surfaces skipped: goldplan is not importable by this interpreter; "
              "build it with `maturin develop --release` in bindings/python)")


if __name__ == "__main__":
    main()
