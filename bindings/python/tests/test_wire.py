"""goldplan's requests checked from the outside: captured by a plain Python ``http.server``,
the string to sign rebuilt by hand from the bytes that arrived (spec 1.1), and the
``Authorization`` signature verified with ``cryptography`` and the merchant's public key."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

import goldplan
from conftest import MCHID, PUB_KEY_ID, SERIAL
from wechat_stub import (
    MERCHANT_PUBLIC_KEY,
    Captured,
    Stub,
    parse_authorization,
    string_to_sign,
)


def verify_from_outside(request: Captured) -> None:
    auth = parse_authorization(request.header("Authorization") or "")
    assert auth["mchid"] == MCHID and auth["serial_no"] == SERIAL
    assert len(auth["nonce_str"]) == 32 and auth["nonce_str"].isalnum()
    assert auth["timestamp"].isdigit()
    # The client signs with the current time (a wrong clock would be refused by WeChat Pay).
    assert abs(int(auth["timestamp"]) - time.time()) < 300
    signature = base64.b64decode(auth["signature"], validate=True)
    assert len(signature) == 256
    message = string_to_sign(request, auth["timestamp"], auth["nonce_str"])
    MERCHANT_PUBLIC_KEY.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    # The same signature does not cover any other request.
    for altered in (
        message.replace(request.method.encode(), b"PUT", 1),
        message + b"x",
        message.replace(b"\n", b"\n ", 1),
    ):
        with pytest.raises(InvalidSignature):
            MERCHANT_PUBLIC_KEY.verify(signature, altered, padding.PKCS1v15(), hashes.SHA256())
    assert request.header("Wechatpay-Serial") == PUB_KEY_ID
    assert request.header("Accept") == "application/json"
    assert (request.header("User-Agent") or "").startswith("WechatPay-Rust/")


QUERY = "/v3/pay/transactions/id/4200000000000000001?mchid=1900000100&x=%E7%82%B9"


def test_a_get_with_a_query_is_signed_over_what_is_sent() -> None:
    with Stub(body=b'{"trade_state":"SUCCESS"}') as stub:
        response = stub.client().request("GET", QUERY)
        assert response.status == 200 and response.json() == {"trade_state": "SUCCESS"}
        assert response.serial == PUB_KEY_ID
        (request,) = stub.requests
    assert request.method == "GET"
    assert request.target == QUERY, "the query is sent exactly as signed"
    assert request.body == b""
    assert request.header("Content-Type") is None
    verify_from_outside(request)
    auth = parse_authorization(request.header("Authorization") or "")
    assert string_to_sign(request, auth["timestamp"], auth["nonce_str"]).startswith(
        f"GET\n{QUERY}\n".encode()
    )


def test_posts_are_signed_over_the_exact_body_bytes() -> None:
    raw = '{"sub_mchid":"1900000109","operation_type":"OPEN","note":"点金"}'.encode()
    with Stub(body=b'{"sub_mchid":"1900000109"}') as stub:
        client = stub.client()
        # Bytes are sent (and signed) untouched.
        client.request("POST", "/v3/goldplan/merchants/changegoldplanstatus", raw)
        # A typed call: the SDK serialises once and signs those bytes.
        reply = client.change_gold_plan_status(
            "1900000109", goldplan.OperationType.OPEN, goldplan.OperationPayScene.JSAPI
        )
        assert reply.data == {"sub_mchid": "1900000109"}
        # A dict body through the generic call.
        client.request("PATCH", "/v3/goldplan/merchants/open-advertising-show",
                       {"sub_mchid": "1900000109"})
        requests = list(stub.requests)
    assert [r.method for r in requests] == ["POST", "POST", "PATCH"]
    assert requests[0].body == raw
    assert json.loads(requests[1].body) == {
        "sub_mchid": "1900000109",
        "operation_type": "OPEN",
        "operation_pay_scene": "JSAPI",
    }
    assert json.loads(requests[2].body) == {"sub_mchid": "1900000109"}
    for request in requests:
        assert request.header("Content-Type") == "application/json"
        assert int(request.header("Content-Length") or "-1") == len(request.body)
        verify_from_outside(request)
    # Two requests never share a nonce.
    nonces = {parse_authorization(r.header("Authorization") or "")["nonce_str"] for r in requests}
    assert len(nonces) == 3


def test_the_asyncio_client_signs_the_same_way() -> None:
    body = b'{"sub_mchid":"1900000109","operation_type":"CLOSE"}'
    with Stub() as stub:
        client = stub.async_client()

        async def main() -> None:
            await client.request("GET", QUERY)
            await client.request("POST", "/v3/goldplan/merchants/changegoldplanstatus", body)

        asyncio.run(main())
        get, post = stub.requests
    assert get.target == QUERY and get.body == b""
    assert post.body == body
    verify_from_outside(get)
    verify_from_outside(post)
