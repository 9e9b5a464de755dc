#!/usr/bin/env python3
"""The Python side of bench/cost.py: a goldplan.Client or AsyncClient process, or the peer
SDK wechatpayv3 (PyPI), making 点金计划管理 calls against a sandbox *process*. Prints the wall
time as JSON; bench/cost.py measures the process's CPU time from outside.

    python bench/cost_python.py --config sandbox.json --calls 2000
                                [--kind client|async|wechatpayv3] [--concurrency 16]
                                [--loop asyncio|uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time

SUB_MCHID = "1900000109"


def wechatpayv3_call(config: str):  # type: ignore[no-untyped-def]
    """wechatpayv3's 点金计划管理 for the sandbox in `config`, as its users call it: service
    provider mode, the WeChat Pay public key, responses verified. No base-URL option exists,
    so its private gateway attribute is set."""
    from wechatpayv3 import WeChatPay, WeChatPayType  # type: ignore[import-untyped]

    with open(config, encoding="utf-8") as f:
        info = json.load(f)
    peer = WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE, mchid=info["mchid"],
        private_key=info["private_key_pem"], cert_serial_no=info["serial_no"],
        appid="wxd678efh567hg6787", apiv3_key=info["apiv3_key"], partner_mode=True,
        public_key=info["public_key_pem"], public_key_id=info["public_key_id"],
    )
    peer._core._gate_way = info["base_url"]

    def call() -> None:
        code, _ = peer.goldplan_plan_change(SUB_MCHID, "OPEN")
        if code != 200:
            raise RuntimeError(f"wechatpayv3 answered HTTP {code}")

    return call


def run_blocking(config: str, calls: int, concurrency: int, peer: bool = False) -> float:
    if peer:
        call = wechatpayv3_call(config)
    else:
        import goldplan  # not in the peer's process

        client = goldplan.Client.from_file(config)

        def call() -> None:
            client.change_gold_plan_status(SUB_MCHID, "OPEN")

    call()  # warm

    def worker(share: int) -> None:
        for _ in range(share):
            call()

    shares = [calls // concurrency + (1 if i < calls % concurrency else 0) for i in range(concurrency)]
    threads = [threading.Thread(target=worker, args=(s,)) for s in shares]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


async def run_async(config: str, calls: int, concurrency: int) -> float:
    import goldplan

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
    parser.add_argument("--kind", choices=["client", "async", "wechatpayv3"], default="client")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio",
                        help="the event loop of --kind async")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    if args.kind in ("client", "wechatpayv3"):
        wall = run_blocking(args.config, args.calls, max(1, args.concurrency),
                            peer=args.kind == "wechatpayv3")
    else:
        if args.loop == "uvloop":
            import uvloop  # type: ignore[import-not-found]

            asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        wall = asyncio.run(run_async(args.config, args.calls, max(1, args.concurrency)))
    print(json.dumps({"calls": args.calls, "concurrency": args.concurrency, "wall_s": wall}))


if __name__ == "__main__":
    main()
