"""A merchant receipt (商家小票) page served by the provider's back end, in Python.

WeChat opens ``<link>?sub_mch_id=…&out_trade_no=…&check_code=…`` in an iframe of its Gold Plan
page. This server, within WeChat's 3-second budget:

1. reads the three parameters (``goldplan.parse_receipt_query``) and checks ``sub_mch_id`` is one
   of its special merchants;
2. resolves the order's ``transaction_id`` with one order query bounded to 1 s
   (``client.resolve_transaction_id``);
3. verifies ``check_code`` (``goldplan.verify_check_code``) over the link exactly as configured;
4. renders the receipt and posts ``onIframeReady`` with ``SHOW_CUSTOM_PAGE`` -- or, when any step
   fails, posts ``SHOW_OFFICIAL_PAGE`` at once and shows nothing of the order.

It also serves deliberately broken variants under ``/broken/<name>`` that
``goldplan receipt test`` fails, each for its own reason: ``too-slow``, ``object-message``,
``wrong-origin``, ``no-check-code``, ``http-jump-out``.

Run: python receipt_server.py CONFIG.json [--port 8000] [--sub-mchid 1900000109 ...]
(CONFIG.json: the client's configuration, e.g. the sandbox's ``sandbox.json``). The configured
receipt link of each page is ``http://127.0.0.1:PORT`` + its path.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional, Tuple

import goldplan

WECHAT_ORIGIN = "https://payapp.weixin.qq.com"
JGOLDPLAN_SCRIPT = "https://wx.gtimg.com/pay_h5/goldplan/js/jgoldplan-1.0.0.js"
# Of WeChat's 3 s: what the order query may take, leaving the rest to the page itself.
QUERY_TIMEOUT_MS = 1000
BROKEN = {"too-slow", "object-message", "wrong-origin", "no-check-code", "http-jump-out"}


def resolve(
    client: goldplan.Client, merchants: set, link: str, url: str
) -> Tuple[Optional[Dict[str, str]], str]:
    """The verified order behind a receipt URL, or None and why not (for the log only)."""
    try:
        params = goldplan.parse_receipt_query(url)
    except goldplan.errors.GoldPlanError:
        return None, "bad parameters"
    sub_mch_id = params.sub_mch_id.raw
    out_trade_no = params.out_trade_no.raw
    if sub_mch_id not in merchants:
        # Attacker-controlled until check_code verifies: never query for a stranger.
        return None, "not our special merchant"
    try:
        resolved = client.resolve_transaction_id(sub_mch_id, out_trade_no, QUERY_TIMEOUT_MS).data
    except goldplan.errors.GoldPlanError as e:
        return None, f"order query failed ({type(e).__name__})"
    transaction_id = resolved["transaction_id"]
    if transaction_id is None:
        return None, f"order not paid ({resolved['trade_state']})"
    if not goldplan.verify_check_code(
        link, sub_mch_id, out_trade_no, transaction_id, params.check_code.raw
    ):
        return None, "check_code mismatch"
    return {
        "sub_mch_id": sub_mch_id,
        "out_trade_no": out_trade_no,
        "transaction_id": transaction_id,
        "trade_state": resolved["trade_state"],
    }, "ok"


def page(order: Optional[Dict[str, str]], variant: Optional[str]) -> str:
    """The receipt HTML; ``variant`` breaks one rule on purpose."""
    style = "SHOW_CUSTOM_PAGE" if order else "SHOW_OFFICIAL_PAGE"
    ready: Dict[str, Any] = {"action": "onIframeReady", "displayStyle": style}
    # JSON.stringify in the page: WeChat reads a JSON string, not an object.
    message = f"JSON.stringify({json.dumps(ready)})"
    if variant == "object-message":
        message = json.dumps(ready)
    target = json.dumps("https://pay.weixin.qq.com" if variant == "wrong-origin" else WECHAT_ORIGIN)
    delay_ms = 3500 if variant == "too-slow" else 0
    body = "<p>订单信息请以微信支付凭证为准</p>"
    jump = ""
    if order:
        scheme = "http" if variant == "http-jump-out" else "https"
        jump_out = {
            "action": "jumpOut",
            "jumpOutUrl": f"{scheme}://shop.example.com/orders/{order['out_trade_no']}",
        }
        rows = "".join(
            f"<tr><td>{label}</td><td>{html.escape(order[key])}</td></tr>"
            for label, key in (
                ("商户单号", "out_trade_no"),
                ("微信支付单号", "transaction_id"),
                ("状态", "trade_state"),
            )
        )
        body = f"<h2>感谢惠顾</h2><table>{rows}</table>"
        jump = (
            "<button type=\"button\" id=\"orders\">查看订单</button>"
            f"<script>document.getElementById('orders').addEventListener('click', () => "
            f"parent.postMessage(JSON.stringify({json.dumps(jump_out)}), {target}));</script>"
        )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>商家小票</title>
<script src="{JGOLDPLAN_SCRIPT}"></script>
<style>html{{font-size:16px}} body{{margin:0;padding:16px;font-family:sans-serif}}
td{{padding:4px 8px 4px 0}} button{{margin-top:12px;padding:8px 16px}}</style>
</head><body>
{body}{jump}
<script>setTimeout(() => parent.postMessage({message}, {target}), {delay_ms});</script>
</body></html>"""


def serve(client: goldplan.Client, merchants: set, port: int) -> ThreadingHTTPServer:
    class Receipt(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path, _, _ = self.path.partition("?")
            variant = None
            if path.startswith("/broken/"):
                variant = path[len("/broken/"):]
                if variant not in BROKEN:
                    self.send_error(404)
                    return
            elif path != "/receipt":
                self.send_error(404)
                return
            link = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
            started = time.monotonic()
            order, why = resolve(client, merchants, link, self.path)
            if variant == "no-check-code" and why == "check_code mismatch":
                # Broken on purpose: renders the order whatever check_code says.
                params = goldplan.parse_receipt_query(self.path)
                order = {
                    "sub_mch_id": params.sub_mch_id.raw,
                    "out_trade_no": params.out_trade_no.raw,
                    "transaction_id": "(unverified)",
                    "trade_state": "SUCCESS",
                }
            body = page(order, variant).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)
            spent = (time.monotonic() - started) * 1000
            sys.stderr.write(f"{path}: {why} in {spent:.0f} ms\n")

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Receipt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="the client's JSON configuration (e.g. sandbox.json)")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--sub-mchid", action="append", default=None, dest="merchants")
    args = parser.parse_args()
    client = goldplan.Client.from_file(args.config)
    server = serve(client, set(args.merchants or ["1900000109"]), args.port)
    port = server.server_address[1]
    print(f"receipt page at http://127.0.0.1:{port}/receipt", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
