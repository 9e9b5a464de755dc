#!/usr/bin/env python3
"""The Python side of bench/cost.py: a goldplan.Client or AsyncClient process making
点金计划管理 calls against a sandbox *process*. Prints the wall time as JSON; bench/cost.py
measures the process's CPU time from outside.

    python bench/cost_python.py --config sandbox.json --calls 2000 [--kind client|async]
                                [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time

import goldplan

SUB_MCHID = "1900000109"


def run_blocking(config: str, calls: int, concurrency: int) -> float:
    client = goldplan.Client.from_file(config)
    client.change_gold_plan_status(SUB_MCHID, "OPEN")  # warm

    def worker(share: int) -> None:
        for _ in range(share):
            client.change_gold_plan_status(SUB_MCHID, "OPEN")

    shares = [calls // concurrency + (1 if i < calls % concurrency else 0) for i in range(concurrency)]
    threads = [threading.Thread(target=worker, args=(s,)) for s in shares]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


async def run_async(config: str, calls: int, concurrency: int) -> float:
    client = goldplan.AsyncClient.from_file(config)
    await client.change_gold_plan_status(SUB_MCHID, "OPEN")  # warm

    async def worker(share: int) -> None:
        for _ in range(share):
            await client.change_gold_plan_status(SUB_MCHID, "OPEN")

    shares = [calls // concurrency + (1 if i < calls % concurrency else 0) for i in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(*(worker(s) for s in shares))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--kind", choices=["client", "async"], default="client")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    if args.kind == "client":
        wall = run_blocking(args.config, args.calls, max(1, args.concurrency))
    else:
        wall = asyncio.run(run_async(args.config, args.calls, max(1, args.concurrency)))
    print(json.dumps({"calls": args.calls, "concurrency": args.concurrency, "wall_s": wall}))


if __name__ == "__main__":
    main()
