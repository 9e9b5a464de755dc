"""Error mapping: every core kind has its class, each kind raised by a real operation arrives
as that class with its attributes, every class pickles, and a panic is an InternalError."""

from __future__ import annotations

import asyncio
import gc
import http.server
import pickle
import socket
import threading
import warnings
from typing import Any, Callable, Iterator, Tuple

import pytest

import goldplan
from goldplan import _goldplan, errors
from conftest import APIV3, KEYS, MCHID, PUB_KEY_ID, SERIAL, key_text, load_vector


def test_every_core_kind_has_a_class_and_nothing_else_does() -> None:
    kinds = set(_goldplan.ERROR_KINDS) | {_goldplan.INTERNAL_ERROR_KIND, _goldplan.SANDBOX_ERROR_KIND}
    assert set(errors.KIND_TO_CLASS) == kinds
    for kind, cls in errors.KIND_TO_CLASS.items():
        assert issubclass(cls, errors.GoldPlanError)
        made = errors._from_native(kind, "m", {"retryable": True})
        assert type(made) is cls and made.kind == kind and made.retryable is True


def test_classes_group_kinds_by_the_core_family() -> None:
    assert set(_goldplan.ERROR_FAMILIES) == set(_goldplan.ERROR_KINDS)
    assert set(_goldplan.ERROR_FAMILIES.values()) == set(errors.FAMILY_TO_CLASS)
    for kind, family in _goldplan.ERROR_FAMILIES.items():
        assert issubclass(errors.KIND_TO_CLASS[kind], errors.FAMILY_TO_CLASS[family]), kind


@pytest.mark.parametrize("kind", sorted(errors.KIND_TO_CLASS))
def test_every_class_pickles_with_its_attributes(kind: str) -> None:
    error = errors._from_native(
        kind,
        "WeChat Pay answered HTTP 400 PARAM_ERROR: 参数错误",
        {
            "retryable": False,
            "request_id": "req-9",
            "status": 400,
            "code": "PARAM_ERROR",
            "api_message": "参数错误",
            "detail": {"field": "/sub_mchid"},
            "serial": "PUB_KEY_ID_1",
            "before_response": True,
            "notification_id": "n-1",
        },
    )
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.__dict__ == error.__dict__
    assert again.kind == kind and again.request_id == "req-9"


def verifier() -> goldplan.Verifier:
    return goldplan.Verifier.public_key(PUB_KEY_ID, str(KEYS / "wechatpay_test_pubkey.pem"))


def signed_headers(body: bytes, **override: str) -> dict:
    key = goldplan.PrivateKey.from_file(KEYS / "wechatpay_test_pubkey_key.pem")
    ts, nonce = "1700000000", "n0nce"
    headers = {
        "Wechatpay-Timestamp": ts,
        "Wechatpay-Nonce": nonce,
        "Wechatpay-Serial": PUB_KEY_ID,
        "Wechatpay-Signature": key.sign(goldplan.message_to_verify(ts, nonce, body)),
        "Request-ID": "req-1",
    }
    headers.update(override)
    return headers


VERIFICATION_CASES = [
    ("missing_header", errors.SignatureError, {"Wechatpay-Nonce": ""}),
    ("invalid_header", errors.SignatureError, {"Wechatpay-Timestamp": "17e8"}),
    ("clock_skew", errors.ClockSkewError, {"Wechatpay-Timestamp": "1600000000"}),
    ("unknown_serial", errors.UnknownSerialError, {"Wechatpay-Serial": "PUB_KEY_ID_2"}),
    ("signature_invalid", errors.SignatureError, {"Wechatpay-Signature": "AAAA"}),
    ("signature_probe", errors.SignatureProbeError, {"Wechatpay-Signature": "WECHATPAY/SIGNTEST/x"}),
    (
        "unsupported_signature_type",
        errors.SignatureError,
        {"Wechatpay-Signature-Type": "WECHATPAY2-SM2-WITH-SM3"},
    ),
]


@pytest.mark.parametrize("kind,cls,override", VERIFICATION_CASES)
def test_verification_failures(kind: str, cls: type, override: dict) -> None:
    body = b'{"sub_mchid":"1900000109"}'
    assert verifier().verify(signed_headers(body), body, now=1700000000).request_id == "req-1"
    with pytest.raises(cls) as info:
        verifier().verify(signed_headers(body, **override), body, now=1700000000)
    e = info.value
    assert type(e) is cls and e.kind == kind and not e.retryable
    assert e.request_id == "req-1"
    if kind not in ("missing_header", "invalid_header", "unsupported_signature_type"):
        assert e.serial == signed_headers(body, **override)["Wechatpay-Serial"]


def test_local_failures_map_to_their_classes() -> None:
    cases: list[Tuple[str, type, Callable[[], Any]]] = [
        ("configuration", errors.ConfigurationError, lambda: goldplan.aead_decrypt("short", "", "0" * 12, "AAAA")),
        ("invalid_input", errors.InvalidInputError, lambda: goldplan.canonical_url("v3/x")),
        ("decryption", errors.DecryptionError, lambda: goldplan.aead_decrypt(APIV3, "", "0" * 12, "AAAA")),
        ("encryption", errors.EncryptionError, lambda: goldplan.aead_encrypt(APIV3, "", "short", "x")),
        ("certificate", errors.CertificateError, lambda: goldplan.PlatformCertificate.from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")),
        ("decode", errors.DecodeError, lambda: goldplan.decrypt_certificates(signed_headers(b"{}"), b"{}", APIV3, now=1700000000)),
    ]
    for kind, cls, call in cases:
        with pytest.raises(cls) as info:
            call()
        assert info.value.kind == kind, kind
    # InvalidInputError and DecodeError are also ValueErrors.
    with pytest.raises(ValueError):
        goldplan.canonical_url("v3/x")


def test_replay_guard_reports_a_duplicate_as_replay() -> None:
    v = load_vector("notification.json")
    case = next(c for c in v["cases"] if c["kind"] == "notification")
    seen: set = set()

    def guard(notification_id: str) -> bool:
        duplicate = notification_id in seen
        seen.add(notification_id)
        return duplicate

    parser = goldplan.NotificationParser(
        goldplan.Verifier.public_key(v["public_key_id"], v["public_key_pem"]),
        v["apiv3_key"],
        now=case["now"],
        replay_guard=guard,
    )
    first = parser.parse(case["headers"], case["body"])
    with pytest.raises(errors.ReplayError) as info:
        parser.parse(case["headers"], case["body"])
    assert info.value.notification_id == first.id
    assert goldplan.acknowledgement(info.value).status == 200
    with pytest.raises(TypeError):
        goldplan.NotificationParser(verifier(), APIV3, replay_guard="not callable")  # type: ignore[arg-type]


def vector_parser(replay_guard: Callable[[str], Any]) -> Tuple[goldplan.NotificationParser, Any]:
    v = load_vector("notification.json")
    case = next(c for c in v["cases"] if c["kind"] == "notification")
    parser = goldplan.NotificationParser(
        goldplan.Verifier.public_key(v["public_key_id"], v["public_key_pem"]),
        v["apiv3_key"],
        now=case["now"],
        replay_guard=replay_guard,
    )
    return parser, case


def test_a_replay_guard_that_raises_refuses_the_notification() -> None:
    # The guard could not say whether the callback was processed: it must neither be accepted
    # nor be a ReplayError (acknowledged with success, so never re-delivered).
    asked: list = []

    def guard(notification_id: str) -> bool:
        asked.append(notification_id)
        raise ConnectionError("the dedup store at redis://:hunter2@10.0.0.5 is down")

    parser, case = vector_parser(guard)
    with pytest.raises(errors.InvalidInputError) as info:
        parser.parse(case["headers"], case["body"])
    assert isinstance(info.value.__cause__, ConnectionError)
    # The guard's own message may name what it connects to, credentials included: it stays on
    # __cause__, out of the library's message, which gets logged.
    assert "ConnectionError" in str(info.value)
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(info.value)
    assert "hunter2" in str(info.value.__cause__)
    assert len(asked) == 1
    # A failure answer (as Node's parseNotification gives): WeChat Pay re-delivers it.
    assert goldplan.acknowledgement(info.value).status >= 400


def test_a_replay_guard_answer_without_a_truth_value_refuses_the_notification() -> None:
    class NoTruth:
        def __bool__(self) -> bool:
            raise ValueError("no truth value")

    parser, case = vector_parser(lambda _id: NoTruth())
    with pytest.raises(errors.InvalidInputError) as info:
        parser.parse(case["headers"], case["body"])
    assert isinstance(info.value.__cause__, ValueError)


def test_an_async_replay_guard_refuses_the_notification_and_is_not_left_unawaited() -> None:
    # Its coroutine is truthy: taken as an answer, every callback would be a "replay".
    async def guard(_id: str) -> bool:
        return False

    parser, case = vector_parser(guard)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        with pytest.raises(errors.InvalidInputError) as info:
            parser.parse(case["headers"], case["body"])
        gc.collect()
    assert "awaitable" in str(info.value)
    assert [str(w.message) for w in warned] == []
    # A failure answer (as Node's parseNotification gives): WeChat Pay re-delivers it.
    assert goldplan.acknowledgement(info.value).status >= 400


def test_a_replay_guard_interrupted_by_a_base_exception_propagates_it() -> None:
    class Stop(BaseException):
        pass

    def guard(_id: str) -> bool:
        raise Stop()

    parser, case = vector_parser(guard)
    with pytest.raises(Stop):
        parser.parse(case["headers"], case["body"])


def test_a_panic_is_an_internal_error_never_a_panic_exception() -> None:
    with pytest.raises(errors.InternalError) as info:
        _goldplan._panic_for_tests()
    assert "deliberate panic" in str(info.value)

    async def main() -> None:
        await _goldplan._panic_for_tests(False)

    with pytest.raises(errors.InternalError):
        asyncio.run(main())


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        body = (
            '{"code":"INVALID_REQUEST","message":"命中频率限制","detail":{"field":"/sub_mchid"}}'
        ).encode()
        self.send_response(400)
        self.send_header("Request-ID", "req-api")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api_error_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def client(base_url: str, **kw: Any) -> goldplan.Client:
    return goldplan.Client(
        mchid=MCHID,
        serial_no=SERIAL,
        private_key=key_text("merchant_test_key.pem"),
        public_key_id=PUB_KEY_ID,
        public_key=KEYS / "wechatpay_test_pubkey.pem",
        base_url=base_url,
        max_attempts=1,
        **kw,
    )


def test_api_errors_carry_status_code_message_detail_and_request_id(api_error_server: str) -> None:
    with pytest.raises(errors.ApiError) as info:
        client(api_error_server).close_advertising_show("1900000109")
    e = info.value
    assert (e.status, e.code, e.message) == (400, "INVALID_REQUEST", "命中频率限制")
    assert e.detail == {"field": "/sub_mchid"}
    assert e.request_id == "req-api"
    assert e.retryable and e.rate_limited
    assert "400" in str(e) and "req-api" in str(e)
    again = pickle.loads(pickle.dumps(e))
    assert (again.status, again.code, again.message, again.detail) == (400, "INVALID_REQUEST", "命中频率限制", {"field": "/sub_mchid"})


def test_transport_and_timeout_errors() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(errors.TransportError) as info:
        client(f"http://127.0.0.1:{closed}", timeout=2).close_advertising_show("1")
    assert info.value.kind == "transport"
    assert info.value.before_response is True and info.value.retryable is True

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        port = silent.getsockname()[1]
        with pytest.raises(errors.TimeoutError) as t:
            client(f"http://127.0.0.1:{port}", timeout=0.3).close_advertising_show("1")
        assert t.value.kind == "timeout" and not t.value.retryable
        assert isinstance(t.value, errors.TransportError)

        async def main() -> None:
            c = goldplan.AsyncClient(
                mchid=MCHID,
                serial_no=SERIAL,
                private_key=str(KEYS / "merchant_test_key.pem"),
                public_key_id=PUB_KEY_ID,
                public_key=str(KEYS / "wechatpay_test_pubkey.pem"),
                base_url=f"http://127.0.0.1:{port}",
                timeout=0.3,
                max_attempts=1,
            )
            await c.close_advertising_show("1")

        with pytest.raises(errors.TimeoutError):
            asyncio.run(main())
    finally:
        silent.close()
