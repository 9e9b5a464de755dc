"""Every shared vector in tests/vectors/*.json, run through the Python binding."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import json
import urllib.parse
from typing import Any, Callable, Dict, List

import pytest

import goldplan
from goldplan import errors
from goldplan.testing import Sandbox
from conftest import KEYS, MCHID, PUB_KEY_ID, SERIAL, VECTORS, key_text, load_vector

COVERED = {
    "aead.json",
    "authorization.json",
    "certificates.json",
    "messages.json",
    "notification.json",
    "payments.json",
    "receipt.json",
    "secret_sweep.json",
    "sensitive.json",
    "signing.json",
}


def vector_path(relative: str) -> str:
    return str(VECTORS / relative)


def test_every_vector_file_is_read_by_this_suite() -> None:
    present = {p.name for p in VECTORS.glob("*.json")}
    assert present == COVERED, "a vector file nobody reads is a defect"


def test_messages_have_the_exact_bytes() -> None:
    cases = load_vector("messages.json")["cases"]
    assert len(cases) >= 9
    for case in cases:
        body = case["body"].encode()
        if case["kind"] == "request":
            parts = urllib.parse.urlsplit(case["url"])
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            url = goldplan.canonical_url(target)
            assert url == case["canonical_url"], case["name"]
            message = goldplan.message_to_sign(
                case["method"], url, int(case["timestamp"]), case["nonce"], body
            )
        else:
            assert case["kind"] == "response"
            message = goldplan.message_to_verify(case["timestamp"], case["nonce"], body)
        assert message == case["message"].encode(), case["name"]
        assert len(message) == case["len"], case["name"]
        assert hashlib.sha256(message).hexdigest() == case["sha256"], case["name"]


PAY_SIGN_KEYS = {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}


def pay_sign_message(values: Dict[str, Any]) -> bytes:
    """The string a JSAPI paySign covers (PAYMENTS.md §2.2), from request_payment's values."""
    lines = (values["appId"], values["timeStamp"], values["nonceStr"], values["package"])
    return "".join(f"{line}\n" for line in lines).encode()


def test_payments_pay_sign_messages_through_request_payment() -> None:
    v = load_vector("payments.json")
    cases = v["cases"]
    assert [c["name"] for c in cases] == ["P1"]
    assert len(v["negative"]) == 2
    signing = {c["name"]: c for c in load_vector("signing.json")["cases"]}
    # The client a merchant would configure with the vector's merchant test key: request_payment
    # is computed locally, so its paySign must be signing.json's P1 signature byte for byte.
    vector_key_client = goldplan.Client(
        mchid=MCHID,
        serial_no=SERIAL,
        private_key=KEYS / "merchant_test_key.pem",
        public_key_id=PUB_KEY_ID,
        public_key=KEYS / "wechatpay_test_pubkey.pem",
    )
    with Sandbox() as sandbox:
        client = sandbox.client()
        sandbox_key = goldplan.PrivateKey.from_pem(sandbox.info["private_key_pem"])
        for case in cases:
            name = case["name"]
            sandbox.clear_requests()
            reply = client.request_payment(
                case["app_id"], case["prepay_id"], case["nonce_str"], int(case["time_stamp"])
            )
            # Computed locally: nothing reaches the gateway.
            assert sandbox.requests() == [], name
            values = reply.data
            assert set(values) == PAY_SIGN_KEYS, name
            assert values["appId"] == case["app_id"], name
            assert values["timeStamp"] == case["time_stamp"], name
            assert values["nonceStr"] == case["nonce_str"], name
            assert values["package"] == case["package"] == "prepay_id=" + case["prepay_id"], name
            assert values["signType"] == "RSA", name
            message = pay_sign_message(values)
            assert message == case["message"].encode(), name
            assert len(message) == case["len"], name
            assert hashlib.sha256(message).hexdigest() == case["sha256"], name
            for negative in v["negative"]:
                assert negative["message"].encode() != message, negative["name"]
                assert hashlib.sha256(negative["message"].encode()).hexdigest() != case["sha256"]
            # Signed with the sandbox merchant's key (PKCS#1 v1.5 is deterministic).
            assert values["paySign"] == sandbox_key.sign(message), name
            assert values["paySign"] != sandbox_key.sign(v["negative"][0]["message"]), name

            by_vector_key = vector_key_client.request_payment(
                case["app_id"], case["prepay_id"], case["nonce_str"], int(case["time_stamp"])
            ).data
            assert pay_sign_message(by_vector_key) == message, name
            assert signing[name]["message"] == case["message"], name
            assert by_vector_key["paySign"] == signing[name]["signature"], name

    async def on_the_async_client() -> Any:
        with Sandbox() as sandbox:
            case = cases[0]
            reply = await sandbox.async_client().request_payment(
                case["app_id"], case["prepay_id"], case["nonce_str"], int(case["time_stamp"])
            )
            return reply.data

    values = asyncio.run(on_the_async_client())
    assert pay_sign_message(values) == cases[0]["message"].encode()


def test_signatures_equal_openssl_for_pkcs8_and_pkcs1_keys() -> None:
    v = load_vector("signing.json")
    pkcs8 = goldplan.PrivateKey.from_file(vector_path(v["key_pkcs8"]))
    pkcs1 = goldplan.PrivateKey.from_pem(key_text(v["key_pkcs1"].split("/")[-1]))
    assert pkcs8.bits == pkcs1.bits == 2048
    assert pkcs8.public_key_der == pkcs1.public_key_der
    signer = goldplan.Signer(
        "1900000100",
        v["serial_no"],
        vector_path(v["key_pkcs8"]),
        certificate=vector_path(v["certificate"]),
    )
    by_key = goldplan.Verifier.public_key("PUB_KEY_ID_01", vector_path(v["public_key"]))
    assert len(v["cases"]) >= 9
    for case in v["cases"]:
        message = case["message"].encode()
        assert hashlib.sha256(message).hexdigest() == case["sha256"]
        expected = case["signature"]
        assert pkcs8.sign(message) == expected, case["name"]
        assert pkcs1.sign(message) == expected, case["name"]
        assert signer.sign(message) == expected, case["name"]
        # The verifier accepts it over exactly this message and nothing else.
        ts, nonce = "1700000000", "nonce"
        body = message
        resigned = pkcs8.sign(goldplan.message_to_verify(ts, nonce, body))
        headers = {
            "Wechatpay-Timestamp": ts,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Serial": "PUB_KEY_ID_01",
            "Wechatpay-Signature": resigned,
        }
        assert by_key.verify(headers, body, now=1700000000).serial == "PUB_KEY_ID_01"
        with pytest.raises(errors.SignatureError) as info:
            by_key.verify(headers, body + b"x", now=1700000000)
        assert info.value.kind == "signature_invalid"


def test_signer_checks_the_merchant_certificate() -> None:
    v = load_vector("signing.json")
    with pytest.raises(errors.ConfigurationError):
        goldplan.Signer(
            "1900000100",
            "0ABC1234",
            vector_path(v["key_pkcs8"]),
            certificate=vector_path(v["certificate"]),
        )


def test_authorization_headers_are_byte_exact() -> None:
    v = load_vector("authorization.json")
    key = goldplan.PrivateKey.from_file(vector_path(v["private_key"]))
    for case in v["cases"]:
        if case["signature"] == "SIG":
            signature = "SIG"
        else:
            signature = key.sign(case["message"])
            assert signature == case["signature"], case["name"]
        auth = goldplan.Authorization(
            case["mchid"], case["nonce"], int(case["timestamp"]), case["serial_no"], signature
        )
        assert auth.header_value() == case["expected"], case["name"]
        assert goldplan.Authorization.parse(case["expected"]) == auth
        assert signature not in repr(auth)


def test_signed_requests_carry_what_was_signed() -> None:
    v = load_vector("authorization.json")
    case = next(c for c in v["cases"] if c["signature"] != "SIG")
    signer = goldplan.Signer(case["mchid"], case["serial_no"], vector_path(v["private_key"]))
    body = b'{"sub_mchid":"1900000109","operation_type":"OPEN"}'
    signed = signer.sign_request("post", "/v3/goldplan/merchants/changegoldplanstatus?", body,
                                 timestamp=1700000000)
    assert signed.method == "POST"
    assert signed.canonical_url == "/v3/goldplan/merchants/changegoldplanstatus"
    auth = signed.authorization
    assert auth.timestamp == 1700000000 and len(auth.nonce_str) == 32
    assert signed.authorization_header == auth.header_value()
    message = goldplan.message_to_sign(
        "POST", signed.canonical_url, auth.timestamp, auth.nonce_str, body
    )
    assert auth.signature == signer.sign(message)


def test_aead_vectors_decrypt_encrypt_and_reject_tampering() -> None:
    v = load_vector("aead.json")
    for case in v["cases"]:
        plain = goldplan.aead_decrypt(
            v["key"], case["associated_data"], case["nonce"], case["ciphertext"]
        )
        assert plain == case["plaintext"].encode(), case["name"]
        again = goldplan.aead_encrypt(
            v["key"], case["associated_data"], case["nonce"], case["plaintext"]
        )
        assert again == case["ciphertext"], case["name"]
    assert len(v["negative"]) >= 5
    for case in v["negative"]:
        with pytest.raises(errors.DecryptionError) as info:
            goldplan.aead_decrypt(
                case.get("key", v["key"]),
                case["associated_data"],
                case["nonce"],
                case["ciphertext"],
            )
        assert info.value.kind == case["expect_error"], case["name"]


def notification_parser(v: Dict[str, Any], now: int, apiv3_key: str) -> goldplan.NotificationParser:
    verifier = goldplan.Verifier.public_key(v["public_key_id"], v["public_key_pem"])
    return goldplan.NotificationParser(verifier, apiv3_key, now=now)


def test_notification_vectors_verify_and_decrypt() -> None:
    v = load_vector("notification.json")
    for case in v["cases"]:
        assert case["expect"]["valid"] is True
        expect = case["expect"]
        if case["kind"] == "notification":
            parser = notification_parser(v, case["now"], v["apiv3_key"])
            n = parser.parse(case["headers"], case["body"].encode())
            assert n.id == expect["id"], case["name"]
            assert n.event_type == expect["event_type"]
            assert n.resource_type == expect["resource_type"]
            assert n.create_time == expect["create_time"]
            assert n.summary == expect.get("summary")
            assert n.original_type == expect.get("original_type")
            assert n.plaintext == expect["plaintext"]
            assert n.serial == v["public_key_id"]
            assert n.json()["trade_state"] == "SUCCESS"
            assert expect["plaintext"] not in repr(n)
        else:
            assert case["kind"] == "response"
            verifier = goldplan.Verifier.public_key(v["public_key_id"], v["public_key_pem"])
            verified = verifier.verify(
                list(case["headers"].items()), case["body"].encode(), now=case["now"]
            )
            assert verified.timestamp == 1700000000, case["name"]
    assert len(v["negative"]) >= 8
    for case in v["negative"]:
        parser = notification_parser(v, case["now"], case.get("apiv3_key", v["apiv3_key"]))
        with pytest.raises(errors.GoldPlanError) as info:
            parser.parse(case["headers"], case["body"].encode())
        assert info.value.kind == case["expect_error"], case["name"]
        expected_class = errors.KIND_TO_CLASS[case["expect_error"]]
        assert type(info.value) is expected_class, case["name"]
        # The answer to give WeChat Pay for it (spec 4.3).
        ack = goldplan.acknowledgement(info.value)
        assert ack.status in (400, 401), case["name"]
        assert json.loads(ack.body)["code"] == "FAIL"
    assert goldplan.acknowledgement().status == 200


def test_sensitive_vectors_decrypt_and_round_trip() -> None:
    v = load_vector("sensitive.json")
    key = goldplan.PrivateKey.from_file(vector_path(v["private_key"]))
    enc = goldplan.EncryptionKey.from_public_key("PUB_KEY_ID_1", vector_path(v["public_key"]))
    assert v["max_plaintext_len"] == goldplan.MAX_SENSITIVE_PLAINTEXT_LEN
    assert enc.max_plaintext_len == v["max_plaintext_len"]
    assert enc.wechatpay_serial == "PUB_KEY_ID_1"
    for case in v["cases"]:
        assert goldplan.decrypt_sensitive(key, case["ciphertext"]) == case["plaintext"]
        assert (
            goldplan.decrypt_sensitive(vector_path(v["private_key"]), case["ciphertext"])
            == case["plaintext"]
        )
        assert len(case["plaintext"].encode()) == case["plaintext_len"]
        again = enc.encrypt(case["plaintext"])
        assert again != case["ciphertext"], "OAEP is randomised"
        assert goldplan.decrypt_sensitive(key, again) == case["plaintext"]
    with pytest.raises(errors.InvalidInputError):
        enc.encrypt("x" * (v["max_plaintext_len"] + 1))
    assert enc.encrypt("") == ""
    with pytest.raises(errors.DecryptionError):
        goldplan.decrypt_sensitive(key, base64.b64encode(b"\x01" * 256).decode())


def receipt_check(case: Dict[str, Any]) -> bool:
    args = (
        case["configured_link"],
        case["sub_mch_id"],
        case["out_trade_no"],
        case["transaction_id"],
    )
    assert goldplan.check_code_input(*args) == case["string_to_hash"], case["name"]
    assert goldplan.expected_check_code(*args) == case["expected_check_code"], case["name"]
    return goldplan.verify_check_code(*args, case["check_code"])


def test_receipt_vectors() -> None:
    v = load_vector("receipt.json")
    assert len(v["cases"]) >= 4 and len(v["negative"]) >= 2 and v["urls"]
    for case in v["cases"]:
        assert case["valid"] is True, case["name"]
        assert receipt_check(case), case["name"]
    for case in v["negative"]:
        assert case["valid"] is False, case["name"]
        assert not receipt_check(case), case["name"]
    for case in v["urls"]:
        params = goldplan.parse_receipt_query(case["url"])
        for field in ("sub_mch_id", "out_trade_no", "check_code"):
            got = getattr(params, field)
            assert got.raw == case[field]["raw"], (case["name"], field)
            assert got.decoded == case[field]["decoded"], (case["name"], field)
    with pytest.raises(errors.InvalidInputError):
        goldplan.parse_receipt_query("https://x/r?sub_mch_id=1&out_trade_no=2")


def test_certificate_download_is_decrypted_matched_and_verified() -> None:
    v = load_vector("certificates.json")
    response = v["response"]
    got = goldplan.decrypt_certificates(
        response["headers"], response["body"], v["apiv3_key"], now=v["now"]
    )
    assert got.dropped == []
    by_serial = {c.serial_no: c for c in got.certificates}
    assert len(by_serial) == len(v["expect"])
    for e in v["expect"]:
        cert = by_serial[e["serial_no"]]
        assert cert.not_before == e["not_before_unix"]
        assert cert.not_after == e["not_after_unix"]
        on_disk = goldplan.PlatformCertificate.from_pem(vector_path(e["certificate"]))
        assert on_disk.public_key_der == cert.public_key_der
        assert on_disk.serial_no == e["serial_no"]
        # The very certificate of the file (the SDK keeps the PEM without its final newline).
        assert cert.pem == (VECTORS / e["certificate"]).read_text(encoding="utf-8").rstrip("\n")
        for field in ("not_before", "not_after"):
            parsed = datetime.datetime.strptime(e[field], "%Y-%m-%dT%H:%M:%SZ")
            unix = int(parsed.replace(tzinfo=datetime.timezone.utc).timestamp())
            assert getattr(cert, field) == unix == e[f"{field}_unix"], (e["serial_no"], field)
        assert cert.is_valid_at(v["now"])
    assert got.newest is not None and got.newest.serial_no == v["newest_serial"]

    assert len(v["negative"]) >= 5
    assert {c["expect_error"] for c in v["negative"]} == {
        None, "decryption", "decode", "certificate", "signature_invalid"
    }
    for case in v["negative"]:
        r = case["response"]
        trusted: List[str] = [vector_path(p) for p in case.get("trusted_certificates") or []]
        call = lambda: goldplan.decrypt_certificates(  # noqa: E731
            r["headers"], r["body"].encode(), v["apiv3_key"], trusted=trusted, now=v["now"]
        )
        if case["expect_error"] is None:
            result = call()
            assert [c.serial_no for c in result.certificates] == case["expect_serials"]
            assert len(result.dropped) == 1, case["name"]
        else:
            with pytest.raises(errors.GoldPlanError) as info:
                call()
            assert info.value.kind == case["expect_error"], case["name"]


def test_the_keys_every_suite_must_refuse() -> None:
    """keys/README: RSA-1024 and an encrypted PKCS#8 key must fail as configuration errors."""
    for name in ("rsa1024_test_key.pem", "merchant_test_key_encrypted.pem"):
        path = VECTORS / "keys" / name
        for load in (
            lambda: goldplan.PrivateKey.from_file(str(path)),
            lambda: goldplan.PrivateKey.from_pem(path.read_text(encoding="utf-8")),
            lambda: goldplan.Signer("1900000100", "3775B6A45ACD588826D15E583A95F5DD12345678", str(path)),
        ):
            with pytest.raises(errors.ConfigurationError) as info:
                load()
            assert info.value.kind == "configuration", name
    with pytest.raises(errors.ConfigurationError) as info:
        goldplan.PrivateKey.from_file(str(VECTORS / "keys" / "rsa1024_test_key.pem"))
    # Says why (aws-lc's "TooSmall" today; "2048" should a clearer message replace it).
    assert "TooSmall" in info.value.message or "2048" in info.value.message, info.value.message
    with pytest.raises(errors.ConfigurationError) as info:
        goldplan.PrivateKey.from_file(str(VECTORS / "keys" / "merchant_test_key_encrypted.pem"))
    assert "encrypted" in info.value.message and "decrypt" in info.value.message, info.value.message


def assert_no_secret(what: str, shown: str, sweep: Dict[str, Any]) -> None:
    window = int(sweep["window"])
    for secret in sweep["must_not_appear"]:
        for start in range(max(1, len(secret) - window + 1)):
            piece = secret[start : start + window]
            assert piece not in shown, f"{what}: shows {piece!r}"


def everything_shown(error: BaseException) -> str:
    """What a log of the exception can contain: its text, repr and attributes, with causes."""
    parts: List[str] = []
    seen: BaseException | None = error
    while seen is not None:
        parts += [str(seen), repr(seen), repr(getattr(seen, "__dict__", {}))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def test_secret_sweep_no_setting_echoes_a_misplaced_secret() -> None:
    sweep = load_vector("secret_sweep.json")
    notification = load_vector("notification.json")
    valid: Dict[str, Any] = {
        "base_url": "http://127.0.0.1:9",
        "mchid": "1900000100",
        "serial_no": "3775B6A45ACD588826D15E583A95F5DD12345678",
        "private_key": str(KEYS / "merchant_test_key.pem"),
        "apiv3_key": notification["apiv3_key"],
        "public_key_id": notification["public_key_id"],
        "public_key": notification["public_key_pem"],
        "mode": "public_key",
    }
    goldplan.Client(**valid)
    pem = key_text("merchant_test_key.pem")
    public_pem = notification["public_key_pem"]
    checked = 0
    for name, value in sweep["values"].items():
        attempts: List[Callable[[], Any]] = []
        for field in sweep["fields"]:
            for cls in (goldplan.Client, goldplan.AsyncClient):
                if field == "config_path":
                    attempts.append(lambda cls=cls: cls.from_file(value))
                else:
                    attempts.append(lambda cls=cls, field=field: cls(**{**valid, field: value}))
        attempts += [
            lambda: goldplan.Signer(value, "3775B6A45ACD588826D15E583A95F5DD", pem),
            lambda: goldplan.Signer("1900000100", value, pem),
            lambda: goldplan.Signer("1900000100", "3775B6A45ACD588826D15E583A95F5DD", value),
            lambda: goldplan.PrivateKey.from_pem(value),
            lambda: goldplan.PrivateKey.from_file(value),
            lambda: goldplan.Verifier.public_key(value, public_pem),
            lambda: goldplan.Verifier.public_key("PUB_KEY_ID_1", value),
            lambda: goldplan.Verifier.certificates([value]),
            lambda: goldplan.PlatformCertificate.from_pem(value),
            lambda: goldplan.EncryptionKey.from_public_key("PUB_KEY_ID_1", value),
            lambda: goldplan.aead_decrypt(value, b"", b"0123456789ab", "AAAA"),
            lambda: goldplan.NotificationParser(
                goldplan.Verifier.public_key("PUB_KEY_ID_1", public_pem), value
            ),
        ]
        for index, attempt in enumerate(attempts):
            try:
                attempt()
            except Exception as error:  # every refusal, whatever its class
                assert_no_secret(f"{name}, attempt {index}", everything_shown(error), sweep)
                checked += 1
    assert checked >= 50, f"only {checked} misplaced secrets were refused"
