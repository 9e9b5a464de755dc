"""Wall time of `goldplan receipt test` per receipt page, as a provider runs it.

A sandbox (in-process, goldplan.testing), the Python receipt example
(examples/receipt/python, a separate process) configured as the receipt link, one paid order;
then the CLI -- a separate process each time, Chromium started each time -- on the passing page
ROUNDS times, and once on each broken variant. Prints min/median/max of the wall time seen by
the caller and of the tester's own figures (browser start, onIframeReady), and writes the
Gold Plan page's screenshot when asked (the README's picture comes from here).

Run: python bench/receipt.py [--cli target/release/goldplan] [--rounds 7] [--screenshot FILE]
(in the venv with the testing build: `cargo make test-python` makes one).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any, Dict, List, Tuple

from goldplan.testing import Sandbox

REPO = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "receipt" / "python" / "receipt_server.py"
SUB_MCHID = "1900000109"


def run(cli: str, url: str, order: Dict[str, str], extra: List[str]) -> Tuple[float, Dict[str, Any]]:
    command = [cli, "receipt", "test", url, "--json", "--sub-mch-id", SUB_MCHID,
               "--out-trade-no", order["out_trade_no"], "--transaction-id", order["transaction_id"],
               *extra]
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    wall = (time.monotonic() - started) * 1000
    report: Dict[str, Any] = json.loads(result.stdout)
    return wall, report


def spread(values: List[float]) -> str:
    return (f"min {min(values):.0f}  median {statistics.median(values):.0f}  "
            f"max {max(values):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", default=str(REPO / "target" / "debug" / "goldplan"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--screenshot", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Sandbox(state_dir=tmp) as sandbox:
        server = subprocess.Popen(
            [sys.executable, str(EXAMPLE), f"{tmp}/sandbox.json", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            assert server.stdout is not None
            link = server.stdout.readline().split(" at ")[1].strip()
            base = link.rsplit("/", 1)[0]
            client = sandbox.client()
            sandbox.update_merchant(receipt_link=link)
            client.change_gold_plan_status(SUB_MCHID, "OPEN", "JSAPI")
            client.change_custom_page_status(SUB_MCHID, "OPEN")
            out_trade_no = f"BENCH{int(time.time() * 1000)}"
            client.jsapi_prepay(
                "wx8888888888888888", client.mchid, SUB_MCHID, "点金计划小票", out_trade_no,
                "https://provider.example.com/notify", {"total": 1280},
                {"sub_openid": "oSubTest0123456789abcdefABCD"}, sub_appid="wxd678efh567hg6999",
            )
            request = urllib.request.Request(
                f"{sandbox.base_url}/sandbox/v1/pay",
                data=json.dumps({"sp_mchid": client.mchid, "sub_mchid": SUB_MCHID,
                                 "out_trade_no": out_trade_no}).encode(),
                headers={"Content-Type": "application/json"}, method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                order = json.loads(response.read())
            order["out_trade_no"] = out_trade_no

            walls, starts, readies, own = [], [], [], []
            for i in range(args.rounds):
                extra = ["--screenshot", args.screenshot] if args.screenshot and i == 0 else []
                wall, report = run(args.cli, link, order, extra)
                assert report["passed"], report
                walls.append(wall)
                own.append(report["wall_ms"])
                starts.append(report["browser_start_ms"])
                readies.append(report["ready_ms"])
            print(f"passing page, {args.rounds} runs of `goldplan receipt test` ({args.cli}):")
            print(f"  wall time (process, as the caller sees it)  {spread(walls)}")
            print(f"  tester's own figure                         {spread(own)}")
            print(f"  of which Chromium start                     {spread(starts)}")
            print(f"  onIframeReady after iframe start            {spread(readies)}")
            for variant in ["too-slow", "object-message", "wrong-origin", "no-check-code",
                            "http-jump-out"]:
                wall, report = run(args.cli, f"{base}/broken/{variant}", order, [])
                failed = [r["rule"] for r in report["rules"] if not r["passed"]]
                print(f"broken/{variant:<15} {wall:6.0f} ms  fails {', '.join(failed)}")
            if args.screenshot:
                print(f"screenshot: {args.screenshot}")
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
