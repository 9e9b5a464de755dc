#!/usr/bin/env python3
"""Load from many Python threads on one goldplan.Client against the in-process sandbox.

    python bench/python_threads.py [--threads 32] [--calls 200]

Moved here from the test suite: how fast calls go, and how often a Python "ticker" thread
gets to run meanwhile (a sign that calls release the GIL), are measurements, not pass/fail
checks on a debug build. The tests prove the same properties by ordering instead
(bindings/python/tests/test_concurrency.py). Build goldplan with `maturin develop --release`
for meaningful figures. Exits 1 if any call fails or a worker never finishes.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import List

from goldplan import OperationType
from goldplan.testing import Sandbox


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--calls", type=int, default=200, help="calls per thread")
    args = parser.parse_args()

    with Sandbox(mode="combined", settings={"reopen_wait_secs": 0}) as sandbox:
        client = sandbox.client()
        sub = sandbox.sub_mchids[0]
        client.change_gold_plan_status(sub, OperationType.OPEN)
        failures: List[BaseException] = []
        done = threading.Event()
        ticks = [0]

        def ticker() -> None:
            while not done.is_set():
                ticks[0] += 1
                time.sleep(0.005)

        def worker() -> None:
            try:
                for _ in range(args.calls):
                    client.change_gold_plan_status(sub, OperationType.OPEN)
            except BaseException as e:  # noqa: BLE001
                failures.append(e)

        tick_thread = threading.Thread(target=ticker)
        tick_thread.start()
        workers = [threading.Thread(target=worker) for _ in range(args.threads)]
        started = time.monotonic()
        for t in workers:
            t.start()
        for t in workers:
            t.join(timeout=600)
        elapsed = time.monotonic() - started
        done.set()
        tick_thread.join()

    hung = sum(t.is_alive() for t in workers)
    total = args.threads * args.calls
    print(f"{args.threads} threads x {args.calls} calls: {total} calls in {elapsed:.2f} s "
          f"({total / elapsed:.0f} calls/s)")
    print(f"ticker ran {ticks[0]} times (at most {int(elapsed / 0.005)} with a free GIL)")
    if failures or hung:
        print(f"FAILED: {len(failures)} failed call(s), {hung} worker(s) never finished: "
              f"{failures[:3]}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
