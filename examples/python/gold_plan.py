#!/usr/bin/env python3
"""The Gold Plan scenario in Python, against an in-process sandbox (no WeChat Pay account).

A service provider opens Gold Plan for a special merchant, turns on the merchant receipt,
sets the industry filter, opens ad display, receives a signed and encrypted payment callback
on its own HTTP endpoint, and checks a receipt page's check_code.

    python examples/python/gold_plan.py

With real credentials, replace `sandbox.client()` by
`goldplan.Client(mchid=..., serial_no=..., private_key="apiclient_key.pem", apiv3_key=...,
public_key_id="PUB_KEY_ID_...", public_key="pub_key.pem")`.
"""

from __future__ import annotations

import http.server
import threading

import goldplan
from goldplan import IndustryType, OperationPayScene, OperationType
from goldplan.testing import Sandbox


def callback_server(client: goldplan.Client) -> http.server.ThreadingHTTPServer:
    """Your notify_url: verifies and decrypts WeChat Pay's POST, answers as WeChat expects."""

    class Notify(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                event = client.parse_notification(self.headers.items(), body)
                print(f"callback {event.event_type}: {event.json()['out_trade_no']}")
                ack = goldplan.acknowledgement()
            except goldplan.GoldPlanError as error:
                print(f"callback rejected: {error.kind}")
                ack = goldplan.acknowledgement(error)
            self.send_response(ack.status)
            self.send_header("Content-Length", str(len(ack.body.encode())))
            self.end_headers()
            self.wfile.write(ack.body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Notify)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    with Sandbox(mode="combined") as sandbox:
        sandbox.update_merchant(receipt_link="https://provider.example/receipt")
        client = sandbox.client()
        sub_mchid = sandbox.sub_mchids[0]
        print(client)

        reply = client.change_gold_plan_status(
            sub_mchid, OperationType.OPEN, OperationPayScene.JSAPI_AND_MINIPROGRAM
        )
        print(f"Gold Plan opened for {reply.data['sub_mchid']} (Request-ID {reply.request_id})")
        client.change_custom_page_status(sub_mchid, OperationType.OPEN)
        client.set_advertising_industry_filter(
            sub_mchid, [IndustryType.SOFTWARE, IndustryType.SECURITY, IndustryType.LOVE_MARRIAGE]
        )
        client.open_advertising_show(sub_mchid)
        state = sandbox.sub_merchant(sub_mchid)
        print(f"gateway state: gold_plan={state['gold_plan']} custom_page={state['custom_page']} "
              f"advertising_show={state['advertising_show']}")

        try:
            client.set_advertising_industry_filter(sub_mchid, ["FOOD"] * 4)
        except goldplan.InvalidInputError as error:
            print(f"refused before sending: {error}")
        else:
            raise SystemExit("error: four industry filters were accepted; at most three are allowed")

        server = callback_server(client)
        url = f"http://127.0.0.1:{server.server_address[1]}/notify"
        record = sandbox.send_callback(
            url, {"out_trade_no": "ORDER-1001", "trade_state": "SUCCESS"}, wait=True
        )
        print(f"callback delivery: {record['status']} after {len(record['attempts'])} attempt(s)")
        server.shutdown()

        link = "https://provider.example/receipt"
        received = f"{link}?sub_mch_id={sub_mchid}&out_trade_no=ORDER-1001&check_code="
        code = goldplan.expected_check_code(link, sub_mchid, "ORDER-1001", "4200000000000000001")
        params = goldplan.parse_receipt_query(received + code)
        print(f"receipt check_code valid: {params.verify(link, '4200000000000000001')}")


if __name__ == "__main__":
    main()
