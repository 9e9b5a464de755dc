"""Partner JSAPI payments end to end against the in-process sandbox, in every key mode:
prepay -> pay-sign -> the payer pays (sandbox admin API, paySign checked like the WeChat
client) -> the signed, encrypted TRANSACTION.SUCCESS notification reaches our notify_url and is
parsed by the client -> both order queries -> closing a paid order and querying an unknown one
fail with WeChat's codes -> an invalid prepay is refused before anything is sent."""

from __future__ import annotations

import asyncio
import http.server
import json
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Callable, Dict, Iterator, List, Tuple

import pytest

import goldplan
from goldplan import errors
from goldplan.testing import Sandbox

SP_APPID = "wx8888888888888888"
SUB_MCHID = "1900000109"
SUB_APPID = "wxd678efh567hg6999"
SUB_OPENID = "oSubTest0123456789abcdefABCD"
PAY_SIGN_KEYS = {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
NOTIFICATION_WAIT_SECS = 15.0

Headers = List[Tuple[str, str]]


def unique_out_trade_no() -> str:
    return "PY" + uuid.uuid4().hex[:24]


class NotifyListener:
    """The merchant's notify_url: a plain http.server on 127.0.0.1 that hands the raw headers
    and body of each POST to `parse` (the client's parse_notification) and answers 204 when it
    succeeds, the client's failure acknowledgement (4xx/5xx: WeChat re-delivers) otherwise."""

    def __init__(self, parse: Callable[[Headers, bytes], goldplan.Notification]) -> None:
        self.parsed: "queue.Queue[goldplan.Notification]" = queue.Queue()
        self.failures: List[BaseException] = []
        self.paths: List[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                outer.paths.append(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    notification = parse(list(self.headers.items()), body)
                except Exception as error:  # recorded and answered as a failure
                    outer.failures.append(error)
                    ack = goldplan.acknowledgement(error)
                    payload = ack.body.encode()
                    self.send_response(ack.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                outer.parsed.put(notification)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"

    def wait(self, timeout: float = NOTIFICATION_WAIT_SECS) -> goldplan.Notification:
        """The next parsed notification, waiting at most `timeout` seconds."""
        try:
            return self.parsed.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no notification parsed within {timeout}s (parse failures: {self.failures!r})"
            ) from None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def admin_post(sandbox: Sandbox, path: str, payload: Dict[str, Any]) -> Tuple[int, Any]:
    """POST to the sandbox admin API with the standard library; (status, JSON answer)."""
    request = urllib.request.Request(
        f"{sandbox.base_url}/sandbox{path}",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def check_pay_sign(values: Dict[str, Any], prepay_id: str, app_id: str) -> None:
    assert set(values) == PAY_SIGN_KEYS, values
    assert all(isinstance(v, str) and v for v in values.values()), values
    assert values["appId"] == app_id
    assert values["package"] == "prepay_id=" + prepay_id
    assert values["signType"] == "RSA"
    assert len(values["timeStamp"]) == 10 and values["timeStamp"].isdigit(), values
    assert abs(int(values["timeStamp"]) - time.time()) < 300, "timeStamp is Unix seconds, now"
    assert len(values["nonceStr"]) <= 32


def check_paid_notification(
    notification: goldplan.Notification, transaction_id: str, out_trade_no: str, total: int
) -> Dict[str, Any]:
    assert notification.event_type == "TRANSACTION.SUCCESS"
    assert notification.resource_type == "encrypt-resource"
    assert notification.id
    resource: Dict[str, Any] = notification.json()
    assert json.loads(notification.plaintext) == resource
    assert resource["trade_state"] == "SUCCESS"
    assert resource["transaction_id"] == transaction_id
    assert resource["out_trade_no"] == out_trade_no
    assert resource["amount"]["total"] == total
    assert resource["sp_mchid"] == "1900000100" and resource["sub_mchid"] == SUB_MCHID
    assert resource["trade_type"] == "JSAPI"
    assert resource["payer"]["sub_openid"] == SUB_OPENID
    return resource


MODES = ["certificate", "public_key", "combined"]


@pytest.fixture(params=MODES)
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    with Sandbox(mode=request.param) as s:
        yield s


def test_jsapi_payment_flow_with_the_blocking_client(sandbox: Sandbox) -> None:
    client = sandbox.client()
    mchid = client.mchid
    assert sandbox.info["sp_appid"] == SP_APPID
    assert {"sub_mchid": SUB_MCHID, "sub_appid": SUB_APPID, "jsapi": True} in sandbox.info[
        "sub_merchants"
    ]
    listener = NotifyListener(lambda headers, body: client.parse_notification(headers, body))
    try:
        out_trade_no = unique_out_trade_no()
        total = 1234

        # 2. The prepay.
        prepay = client.jsapi_prepay(
            SP_APPID,
            mchid,
            SUB_MCHID,
            "点金计划测试商品",
            out_trade_no,
            listener.url,
            {"total": total},
            {"sub_openid": SUB_OPENID},
            sub_appid=SUB_APPID,
            attach="python-flow",
        )
        assert set(prepay.data) == {"prepay_id"}
        prepay_id = prepay.data["prepay_id"]
        assert isinstance(prepay_id, str) and prepay_id.startswith("wx")
        assert prepay.request_id

        unpaid = client.query_order_by_out_trade_no(out_trade_no, mchid, SUB_MCHID).data
        assert unpaid["trade_state"] == "NOTPAY" and "transaction_id" not in unpaid
        assert client.resolve_transaction_id(SUB_MCHID, out_trade_no).data == {
            "transaction_id": None,
            "trade_state": "NOTPAY",
        }

        # 3. The pay-sign for the page, in the AppID the payer's sub_openid belongs to.
        sandbox.clear_requests()
        values = client.request_payment(SUB_APPID, prepay_id).data
        assert sandbox.requests() == [], "request_payment is computed locally"
        check_pay_sign(values, prepay_id, SUB_APPID)

        # The sandbox checks paySign like the WeChat client: a value changed after signing, or
        # the provider's AppID for a sub_openid payer, is refused and the order stays unpaid.
        status, refusal = admin_post(sandbox, "/v1/pay", {**values, "nonceStr": "X" * 32})
        assert (status, refusal["code"]) == (400, "SIGNATURE_MISMATCH"), refusal
        in_sp_app = client.request_payment(SP_APPID, prepay_id).data
        status, refusal = admin_post(sandbox, "/v1/pay", in_sp_app)
        assert (status, refusal["code"]) == (400, "APPID_MISMATCH"), refusal
        assert listener.parsed.empty()

        # 4. The payer pays with exactly the six values.
        status, paid = admin_post(sandbox, "/v1/pay", values)
        assert status == 200, paid
        assert paid["trade_state"] == "SUCCESS"
        transaction_id = paid["transaction_id"]
        assert isinstance(transaction_id, str) and len(transaction_id) == 28

        # 5. The notification arrives, verified and decrypted by the client.
        notification = listener.wait()
        resource = check_paid_notification(notification, transaction_id, out_trade_no, total)
        assert resource["attach"] == "python-flow"
        assert listener.failures == [] and listener.paths == ["/notify"]
        # Our 204 acknowledged it: the sandbox stops re-delivering.
        delivery = sandbox.wait_for_callback(paid["callback_id"], timeout=NOTIFICATION_WAIT_SECS)
        assert delivery["status"] == "delivered"
        assert [a["status"] for a in delivery["attempts"]] == [204]

        # 6. Both queries answer the paid order.
        by_out_trade_no = client.query_order_by_out_trade_no(out_trade_no, mchid, SUB_MCHID)
        by_transaction_id = client.query_order_by_transaction_id(transaction_id, mchid, SUB_MCHID)
        for reply in (by_out_trade_no, by_transaction_id):
            order = reply.data
            assert order["trade_state"] == "SUCCESS"
            assert order["transaction_id"] == transaction_id
            assert order["out_trade_no"] == out_trade_no
            assert order["amount"]["total"] == total
            assert reply.request_id
        assert by_out_trade_no.data == by_transaction_id.data
        assert client.resolve_transaction_id(SUB_MCHID, out_trade_no, 2000).data == {
            "transaction_id": transaction_id,
            "trade_state": "SUCCESS",
        }

        # 7. A paid order cannot be closed; an unknown order does not exist.
        with pytest.raises(errors.ApiError) as closing:
            client.close_order(out_trade_no, mchid, SUB_MCHID)
        assert closing.value.code == "ORDERPAID" and closing.value.kind == "api"
        unknown = unique_out_trade_no()
        with pytest.raises(errors.ApiError) as missing:
            client.query_order_by_out_trade_no(unknown, mchid, SUB_MCHID)
        assert missing.value.code == "ORDER_NOT_EXIST" and missing.value.status == 404
        with pytest.raises(errors.ApiError) as missing:
            client.query_order_by_transaction_id("4200000000209901010000000001", mchid, SUB_MCHID)
        assert missing.value.code == "ORDER_NOT_EXIST" and missing.value.status == 404
        assert client.resolve_transaction_id(SUB_MCHID, unknown).data == {
            "transaction_id": None,
            "trade_state": None,
        }

        # 8. Refused client-side: nothing reaches the gateway.
        sandbox.clear_requests()
        with pytest.raises(errors.InvalidInputError) as invalid:
            client.jsapi_prepay(
                SP_APPID,
                mchid,
                SUB_MCHID,
                "点金计划测试商品",
                unique_out_trade_no(),
                listener.url,
                {"total": 0},
                {"sub_openid": SUB_OPENID},
                sub_appid=SUB_APPID,
            )
        assert invalid.value.kind == "invalid_input"
        assert sandbox.requests() == []
        # Nothing else was delivered: exactly one notification for one payment.
        assert listener.parsed.empty() and listener.failures == []
    finally:
        listener.close()


def test_jsapi_payment_flow_with_the_async_client() -> None:
    async def main(sandbox: Sandbox) -> None:
        client = sandbox.async_client()
        mchid = client.mchid
        loop = asyncio.get_running_loop()

        async def parse(headers: Headers, body: bytes) -> goldplan.Notification:
            return await client.parse_notification(headers, body)

        # The listener thread hands each delivery to this event loop, as an asyncio
        # application would, and answers once the AsyncClient has parsed it.
        listener = NotifyListener(
            lambda headers, body: asyncio.run_coroutine_threadsafe(
                parse(headers, body), loop
            ).result(timeout=NOTIFICATION_WAIT_SECS)
        )
        try:
            out_trade_no = unique_out_trade_no()
            prepay = await client.jsapi_prepay(
                SP_APPID,
                mchid,
                SUB_MCHID,
                "点金计划测试商品",
                out_trade_no,
                listener.url,
                {"total": 88},
                {"sub_openid": SUB_OPENID},
                sub_appid=SUB_APPID,
            )
            prepay_id = prepay.data["prepay_id"]
            values = (await client.request_payment(SUB_APPID, prepay_id)).data
            check_pay_sign(values, prepay_id, SUB_APPID)

            status, paid = await asyncio.to_thread(admin_post, sandbox, "/v1/pay", values)
            assert status == 200 and paid["trade_state"] == "SUCCESS", paid
            transaction_id = paid["transaction_id"]

            notification = await asyncio.to_thread(listener.wait)
            check_paid_notification(notification, transaction_id, out_trade_no, 88)

            order = (await client.query_order_by_transaction_id(transaction_id, mchid, SUB_MCHID)).data
            assert order["trade_state"] == "SUCCESS" and order["out_trade_no"] == out_trade_no
            order = (await client.query_order_by_out_trade_no(out_trade_no, mchid, SUB_MCHID)).data
            assert order["trade_state"] == "SUCCESS" and order["transaction_id"] == transaction_id

            with pytest.raises(errors.ApiError) as closing:
                await client.close_order(out_trade_no, mchid, SUB_MCHID)
            assert closing.value.code == "ORDERPAID"
            with pytest.raises(errors.ApiError) as missing:
                await client.query_order_by_out_trade_no(unique_out_trade_no(), mchid, SUB_MCHID)
            assert missing.value.code == "ORDER_NOT_EXIST"

            sandbox.clear_requests()
            with pytest.raises(errors.InvalidInputError):
                await client.jsapi_prepay(
                    SP_APPID,
                    mchid,
                    SUB_MCHID,
                    "点金计划测试商品",
                    unique_out_trade_no(),
                    listener.url,
                    {"total": 0},
                    {"sub_openid": SUB_OPENID},
                    sub_appid=SUB_APPID,
                )
            assert sandbox.requests() == []
            assert listener.failures == []
        finally:
            listener.close()

    with Sandbox(mode="public_key") as sandbox:
        asyncio.run(main(sandbox))
