#!/usr/bin/env python3
"""goldplan.Client against the wechatpayv3 package, in one run, against the same sandbox.

Both clients call 点金计划管理 (change Gold Plan status, OPEN: idempotent, 200 with a JSON
body) against one in-process goldplan sandbox in public-key mode, and both verify every
response's signature (wechatpayv3 does it in `Core.request`; goldplan always does). Each
client gets a warm-up, then runs for a fixed time, sequentially and from several threads.

Also measured, each in a fresh interpreter: the time to import each package, and the RSS
that one client adds (and the average over many clients).

    python bench/python_vs_wechatpayv3.py [--seconds 5] [--threads 8] [--rounds 3]

Requirements: goldplan built into the environment (`cargo make venv`, then
`maturin develop --release` in bindings/python) and `pip install wechatpayv3==2.0.4`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import threading
import time
from typing import Callable, List, Tuple


def calls_per_second(
    call: Callable[[], object], seconds: float, threads: int
) -> Tuple[float, int, float]:
    """Runs `call` in `threads` threads for `seconds`; returns (calls/s, failures, CPU time
    of the calling threads per call). The sandbox's work runs on its own runtime threads, so
    the CPU figure is the client's own cost: signing, verifying, HTTP, Python."""
    deadline = time.perf_counter() + seconds
    counts: List[int] = [0] * threads
    failures: List[int] = [0] * threads
    cpu: List[float] = [0.0] * threads

    def worker(i: int) -> None:
        started = time.thread_time()
        while time.perf_counter() < deadline:
            try:
                call()
                counts[i] += 1
            except Exception:  # noqa: BLE001 - counted and reported
                failures[i] += 1
        cpu[i] = time.thread_time() - started

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    calls = max(1, sum(counts))
    return sum(counts) / elapsed, sum(failures), sum(cpu) / calls


IMPORT_SNIPPET = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"

RSS_SNIPPET = r"""
import gc, sys
def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
from goldplan.testing import Sandbox
import goldplan
{setup}
sandbox = Sandbox(mode="public_key")
info = sandbox.info
first = make(info)          # warm: libraries and lazily created state are loaded
call(first, info)
gc.collect(); before = rss_kib()
one = make(info); call(one, info)
gc.collect(); after_one = rss_kib()
many = [make(info) for _ in range(99)]
for c in many:
    call(c, info)
gc.collect(); after_many = rss_kib()
print(after_one - before, (after_many - before) / 100)
sandbox.stop()
"""

GOLDPLAN_SETUP = """
def make(info):
    return goldplan.Client(mchid=info["mchid"], serial_no=info["serial_no"],
        private_key=info["private_key_pem"], public_key_id=info["public_key_id"],
        public_key=info["public_key_pem"], base_url=info["base_url"])
def call(c, info):
    c.change_gold_plan_status(info["sub_mchids"][0], "OPEN")
"""

WECHATPAYV3_SETUP = """
from wechatpayv3 import WeChatPay, WeChatPayType
def make(info):
    w = WeChatPay(wechatpay_type=WeChatPayType.NATIVE, mchid=info["mchid"],
        private_key=info["private_key_pem"], cert_serial_no=info["serial_no"],
        appid="wxd678efh567hg6787", apiv3_key=info["apiv3_key"], partner_mode=True,
        public_key=info["public_key_pem"], public_key_id=info["public_key_id"])
    w._core._gate_way = info["base_url"]
    return w
def call(c, info):
    code, _ = c.goldplan_plan_change(info["sub_mchids"][0], "OPEN")
    assert code == 200, code
"""


def import_seconds(module: str, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", IMPORT_SNIPPET.format(module=module)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        times.append(float(out))
    return statistics.median(times)


def rss_added(setup: str) -> Tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", RSS_SNIPPET.format(setup=setup)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per run")
    parser.add_argument("--threads", type=int, default=8, help="threads of the concurrent run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    args = parser.parse_args()

    import goldplan
    from goldplan.testing import Sandbox
    from wechatpayv3 import WeChatPay, WeChatPayType  # type: ignore[import-untyped]

    with Sandbox(mode="public_key") as sandbox:
        info = sandbox.info
        sub = info["sub_mchids"][0]
        ours = sandbox.client(max_attempts=1)
        theirs = WeChatPay(
            wechatpay_type=WeChatPayType.NATIVE,
            mchid=info["mchid"],
            private_key=info["private_key_pem"],
            cert_serial_no=info["serial_no"],
            appid="wxd678efh567hg6787",
            apiv3_key=info["apiv3_key"],
            partner_mode=True,
            public_key=info["public_key_pem"],
            public_key_id=info["public_key_id"],
        )
        theirs._core._gate_way = sandbox.base_url  # no base-URL option (private attribute)

        def goldplan_call() -> None:
            ours.change_gold_plan_status(sub, goldplan.OperationType.OPEN)

        def wechatpayv3_call() -> None:
            code, _ = theirs.goldplan_plan_change(sub, "OPEN")
            if code != 200:
                raise RuntimeError(f"HTTP {code}")

        # Both really verify: a response with a broken signature must be refused by each.
        for call in (goldplan_call, wechatpayv3_call):
            sandbox.inject_fault("bad_signature")
            try:
                call()
            except Exception:  # noqa: BLE001
                pass
            else:
                raise SystemExit(f"{call.__name__} accepted a response with a bad signature")
            sandbox.clear_faults()

        print(
            f"sandbox {sandbox.base_url}, {args.seconds:g} s per run, median of {args.rounds} "
            f"alternating rounds, Python {sys.version.split()[0]}"
        )
        print(f"{'run':<28}{'goldplan':>12}{'wechatpayv3':>14}{'ratio':>9}")
        for threads in (1, args.threads):
            for call in (goldplan_call, wechatpayv3_call):
                calls_per_second(call, min(1.0, args.seconds), threads)  # warm-up
            rounds = []
            for _ in range(args.rounds):
                mine = calls_per_second(goldplan_call, args.seconds, threads)
                peer = calls_per_second(wechatpayv3_call, args.seconds, threads)
                rounds.append((mine, peer))
            ours_rate = statistics.median(o[0] for o, _ in rounds)
            theirs_rate = statistics.median(t[0] for _, t in rounds)
            ours_cpu = statistics.median(o[2] for o, _ in rounds)
            theirs_cpu = statistics.median(t[2] for _, t in rounds)
            ratios = ", ".join(f"{o[0] / t[0]:.1f}" for o, t in rounds)
            label = "sequential (1 thread)" if threads == 1 else f"{threads} threads"
            print(
                f"{label + ' calls/s':<28}{ours_rate:>12.0f}{theirs_rate:>14.0f}"
                f"{ours_rate / theirs_rate:>8.1f}x   (rounds: {ratios})"
            )
            if threads == 1:
                print(
                    f"{'  client CPU per call':<28}{ours_cpu * 1e6:>10.0f}us{theirs_cpu * 1e6:>12.0f}us"
                    f"{theirs_cpu / ours_cpu:>8.1f}x"
                )
            failed = sum(o[1] for o, _ in rounds), sum(t[1] for _, t in rounds)
            if any(failed):
                print(f"  failures: goldplan {failed[0]}, wechatpayv3 {failed[1]}")

    gp_import = import_seconds("goldplan")
    wx_import = import_seconds("wechatpayv3")
    print(f"{'import time (median of 7)':<28}{gp_import * 1000:>10.1f}ms{wx_import * 1000:>12.1f}ms")
    gp_one, gp_avg = rss_added(GOLDPLAN_SETUP)
    wx_one, wx_avg = rss_added(WECHATPAYV3_SETUP)
    print(f"{'RSS added by one client':<28}{gp_one:>9.0f}KiB{wx_one:>11.0f}KiB")
    print(f"{'RSS per client (100 avg)':<28}{gp_avg:>9.1f}KiB{wx_avg:>11.1f}KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
