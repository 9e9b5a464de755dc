"""An independent peer: the community `wechatpayv3` SDK (which nobody here wrote) drives the
sandbox with its own request signing and its own response verification, so a bug shared by
our client and our sandbox cannot hide.

wechatpayv3 hard-codes the production gateway in the private attribute `_core._gate_way`;
it is constructed either in public-key mode or with a certificate directory filled from
sandbox.json, so that it never downloads anything from the real host, and then pointed at the
sandbox.
"""

import http.server
import json
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3 import WeChatPay, WeChatPayType
from wechatpayv3.utils import aes_decrypt

SUB = "1900000109"
APPID = "wxd678efh567hg6787"


def peer(sandbox, *, public_key=True, cert_dir=None, private_key=None):
    info = sandbox.info
    kwargs = {}
    if public_key:
        kwargs = {"public_key": info["public_key_pem"], "public_key_id": info["public_key_id"]}
    else:
        kwargs = {"cert_dir": str(cert_dir)}
    pay = WeChatPay(
        wechatpay_type=WeChatPayType.JSAPI,
        mchid=info["mchid"],
        private_key=private_key or info["private_key_pem"],
        cert_serial_no=info["serial_no"],
        appid=APPID,
        apiv3_key=info["apiv3_key"],
        partner_mode=True,
        timeout=(5, 30),
        **kwargs,
    )
    # No base-URL option exists; the gateway is a private attribute (see TOOLCHAIN.md §5).
    pay._core._gate_way = sandbox.base_url
    return pay


def state(sandbox, sub=SUB):
    return sandbox.admin("GET", f"/merchants/{sandbox.info['mchid']}/sub-merchants/{sub}")


def test_the_five_gold_plan_calls_in_public_key_mode(sandbox):
    sandbox.admin("PATCH", f"/merchants/{sandbox.info['mchid']}/sub-merchants/{SUB}",
                  {"receipt_link": "https://receipt.example.com/r"})
    pay = peer(sandbox)

    code, text = pay.goldplan_plan_change(SUB, "OPEN")
    assert (code, json.loads(text)) == (200, {"sub_mchid": SUB})
    code, text = pay.goldplan_custompage_change(SUB, "OPEN")
    assert (code, json.loads(text)) == (200, {"sub_mchid": SUB})
    code, _ = pay.goldplan_advertising_filter(SUB, ["SOFTWARE", "POTOGRAPHY", "BUSSINESS"])
    assert code == 204
    code, _ = pay.goldplan_advertising_open(SUB, ["INDUSTY", "LOVE_MARRIAGE"])
    assert code == 204

    s = state(sandbox)
    assert s["gold_plan"] == "OPEN" and s["pay_scenes"] == ["JSAPI"]
    assert s["custom_page"] == "OPEN"
    assert s["advertising_show"] == "OPEN"
    assert s["advertising_industry_filters"] == ["INDUSTY", "LOVE_MARRIAGE"]

    code, _ = pay.goldplan_advertising_close(SUB)
    assert code == 204
    assert state(sandbox)["advertising_show"] == "CLOSE"

    # Business errors come back as WeChat error bodies (unverified, like every SDK does).
    code, text = pay.goldplan_plan_change("1999999999", "OPEN")
    assert code == 400 and json.loads(text)["code"] == "MCH_NOT_EXISTS"


def test_certificate_download_verified_with_the_public_key(sandbox):
    pay = peer(sandbox)
    code, text = pay._core.request("/v3/certificates?algorithm_type=RSA")
    assert code == 200
    listed = {c["serial_no"]: c["certificate_pem"] for c in sandbox.reload_info()["platform_certificates"]}
    data = json.loads(text)["data"]
    assert {e["serial_no"] for e in data} == set(listed)
    for entry in data:
        enc = entry["encrypt_certificate"]
        pem = aes_decrypt(nonce=enc["nonce"], ciphertext=enc["ciphertext"],
                          associated_data=enc["associated_data"], apiv3_key=sandbox.info["apiv3_key"])
        assert pem.strip() == listed[entry["serial_no"]].strip()


def test_certificate_mode_follows_a_rotation(sandbox, tmp_path):
    info = sandbox.reload_info()
    for cert in info["platform_certificates"]:
        (tmp_path / f"{cert['serial_no']}.pem").write_text(cert["certificate_pem"])
    pay = peer(sandbox, public_key=False, cert_dir=tmp_path)
    assert [hex(c.serial_number)[2:].upper() for c in pay._core._certificates] == \
        [c["serial_no"] for c in info["platform_certificates"]]

    code, _ = pay.goldplan_plan_change(SUB, "OPEN")
    assert code == 200

    # A new platform certificate signs from now on (the explicit immediate switch; by default
    # it would only be listed for the lead time); the peer meets an unknown serial,
    # downloads the list from the sandbox and verifies with the new certificate.
    rotated = sandbox.admin(
        "POST", "/platform-certificates/rotate", {"overlap_secs": 3600, "sign_with_new": True}
    )
    code, _ = pay.goldplan_plan_change(SUB, "OPEN")
    assert code == 200
    serials = {hex(c.serial_number)[2:].upper() for c in pay._core._certificates}
    assert rotated["new_serial_no"] in serials


def test_verification_is_really_on(sandbox):
    pay = peer(sandbox)
    for kind in ("bad_signature", "unknown_serial"):
        sandbox.admin("POST", "/faults", {"kind": kind, "path": "/v3/goldplan/*"})
        with pytest.raises(Exception, match="failed to verify the signature"):
            pay.goldplan_advertising_close(SUB)
    code, _ = pay.goldplan_advertising_close(SUB)
    assert code == 204


def test_the_sandbox_rejects_a_wrong_key(sandbox):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode()
    pay = peer(sandbox, private_key=pem)
    code, text = pay.goldplan_plan_change(SUB, "OPEN")
    assert code == 401 and json.loads(text)["code"] == "SIGN_ERROR"


def test_a_callback_decrypts_with_the_peer(sandbox):
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        record = sandbox.admin("POST", "/callbacks", {
            "url": f"http://127.0.0.1:{server.server_address[1]}/notify",
            "resource": {"sub_mchid": SUB, "out_trade_no": "ORDER20240101", "trade_state": "SUCCESS"},
            "wait": True,
        })
    finally:
        server.shutdown()
    assert record["status"] == "delivered"
    assert record["attempts"][0]["status"] == 204
    headers, body = received[0]
    result = peer(sandbox).callback(headers, body)
    assert result["id"] == record["id"]
    assert result["resource"]["out_trade_no"] == "ORDER20240101"
