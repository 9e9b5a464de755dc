"""End to end against the in-process sandbox (goldplan.testing): every operation, blocking and
asyncio, every key mode, faults mapped to errors, callbacks, threads, fork and rotation."""

from __future__ import annotations

import asyncio
import base64
import http.server
import os
import signal
import threading
import time
from typing import Any, Callable, Iterator, List, Tuple

import pytest

import goldplan
from goldplan import IndustryType, OperationPayScene, OperationType, errors
from goldplan.testing import Sandbox

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
RECEIPT_LINK = "https://provider.example/receipt"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(mode="combined", settings={"reopen_wait_secs": 0}) as s:
        s.update_merchant(receipt_link=RECEIPT_LINK)
        yield s


@pytest.fixture(autouse=True)
def no_leftover_faults(sandbox: Sandbox) -> Iterator[None]:
    yield
    sandbox.clear_faults()


GOLD_PLAN_PATHS = "/v3/goldplan/*"


def run(result: Any) -> Any:
    """Blocking calls return values; the proxy below already awaited asyncio ones."""
    return result


class Awaited:
    """An AsyncClient whose methods are awaited in a fresh event loop, so one test body can
    exercise both clients. Methods that are not coroutines (decrypt_sensitive, ...) pass."""

    def __init__(self, client: goldplan.AsyncClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            async def inside_a_loop() -> Any:
                result = method(*args, **kwargs)
                if hasattr(result, "__await__"):
                    return await result
                return result

            return asyncio.run(inside_a_loop())

        return call


@pytest.fixture(params=["blocking", "asyncio"])
def make_client(request: pytest.FixtureRequest, sandbox: Sandbox) -> Callable[..., Any]:
    def make(**kw: Any) -> Any:
        if request.param == "blocking":
            return sandbox.client(**kw)
        return Awaited(sandbox.async_client(**kw))

    return make


def test_every_gold_plan_operation(sandbox: Sandbox, make_client: Callable[..., Any]) -> None:
    client = make_client()
    sub = sandbox.sub_mchids[0]
    reply = run(client.change_gold_plan_status(sub, OperationType.OPEN, OperationPayScene.MINIPROGRAM))
    assert reply.data == {"sub_mchid": sub} and reply.request_id
    reply = run(client.change_gold_plan_status(sub, "OPEN"))  # plain strings work too
    assert sandbox.sub_merchant(sub)["pay_scenes"] == ["JSAPI", "MINIPROGRAM"]
    run(client.change_custom_page_status(sub, OperationType.OPEN))
    assert sandbox.sub_merchant(sub)["custom_page"] == "OPEN"
    reply = run(client.set_advertising_industry_filter(sub, [IndustryType.SOFTWARE, "GAME"]))
    assert reply.data is None and reply.request_id
    run(client.open_advertising_show(sub, [IndustryType.POTOGRAPHY]))
    state = sandbox.sub_merchant(sub)
    assert state["advertising_show"] == "OPEN"
    assert state["advertising_industry_filters"] == ["POTOGRAPHY"]
    run(client.open_advertising_show(sub))
    run(client.close_advertising_show(sub))
    assert sandbox.sub_merchant(sub)["advertising_show"] == "CLOSE"
    run(client.change_custom_page_status(sub, OperationType.CLOSE))
    for scene in ("JSAPI", "MINIPROGRAM"):
        run(client.change_gold_plan_status(sub, OperationType.CLOSE, scene))
    assert sandbox.sub_merchant(sub)["gold_plan"] == "CLOSE"

    # Business errors arrive typed, with WeChat's code and message.
    with pytest.raises(errors.ApiError) as info:
        run(client.close_advertising_show(sub))
    assert info.value.status == 400 and info.value.code == "INVALID_REQUEST"
    assert info.value.message == "特约商户未开通点金计划" and not info.value.retryable
    with pytest.raises(errors.ApiError) as info:
        run(client.change_gold_plan_status("1999999999", OperationType.OPEN))
    assert info.value.code == "MCH_NOT_EXISTS"
    # Client-side validation: nothing is sent.
    sandbox.clear_requests()
    with pytest.raises(errors.InvalidInputError):
        run(client.set_advertising_industry_filter(sub, []))
    with pytest.raises(errors.InvalidInputError):
        run(client.open_advertising_show(sub, ["FOOD"] * 4))
    assert sandbox.requests() == []


def test_generic_request_media_and_sensitive_fields(sandbox: Sandbox, make_client: Callable[..., Any]) -> None:
    client = make_client()
    sub = sandbox.sub_mchids[0]
    response = run(
        client.request(
            "POST",
            "/v3/goldplan/merchants/changegoldplanstatus",
            {"sub_mchid": sub, "operation_type": "OPEN"},
        )
    )
    assert response.status == 200 and response.json() == {"sub_mchid": sub}
    assert response.header("request-id") == response.request_id
    assert response.serial == sandbox.info["public_key_id"]
    raw = run(client.request("POST", "/v3/goldplan/merchants/changegoldplanstatus",
                             f'{{"sub_mchid":"{sub}","operation_type":"OPEN"}}'.encode()))
    assert raw.text == f'{{"sub_mchid":"{sub}"}}'

    media = run(client.upload_image("pixel.png", PNG))
    assert sandbox.media(media.data["media_id"])["filename"] == "pixel.png"

    ciphertext, serial = run(client.encrypt_sensitive("张三"))
    assert serial == sandbox.info["public_key_id"] and len(base64.b64decode(ciphertext)) == 256
    merchant = goldplan.EncryptionKey.from_public_key(
        "PUB_KEY_ID_merchant", sandbox_merchant_public_key(sandbox)
    )
    assert client.decrypt_sensitive(merchant.encrypt("13800138000")) == "13800138000"


def sandbox_merchant_public_key(sandbox: Sandbox) -> str:
    cert = goldplan.PlatformCertificate.from_pem(sandbox.info["certificate_pem"])
    der = base64.b64encode(cert.public_key_der).decode()
    lines = "\n".join(der[i : i + 64] for i in range(0, len(der), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{lines}\n-----END PUBLIC KEY-----\n"


@pytest.mark.parametrize("mode", ["certificate", "combined", "public_key"])
def test_every_key_mode(sandbox: Sandbox, mode: str) -> None:
    client = sandbox.client(mode=mode)
    sub = sandbox.sub_mchids[0]
    reply = client.change_gold_plan_status(sub, OperationType.OPEN)
    assert reply.data["sub_mchid"] == sub
    listed = {c["serial_no"] for c in sandbox.platform_certificates()}
    if mode == "public_key":
        assert client.platform_certificates() == []
        assert client.certificate_downloads() == 0
    else:
        client.refresh_certificates()
        assert {c.serial_no for c in client.platform_certificates()} >= listed
        assert client.certificate_downloads() >= 1


def test_a_public_key_merchant_has_no_platform_certificate() -> None:
    with Sandbox(mode="public_key") as s:
        client = s.client(mode="certificate")
        with pytest.raises(errors.NoPlatformCertificateError) as info:
            client.refresh_certificates()
        assert info.value.kind == "no_platform_certificate" and info.value.request_id


FAULTS = [
    ("bad_signature", errors.SignatureError, "signature_invalid"),
    ("unknown_serial", errors.UnknownSerialError, "unknown_serial"),
    ("stale_timestamp", errors.ClockSkewError, "clock_skew"),
    ("too_many_requests", errors.ApiError, "api"),
    ("rate_limited", errors.ApiError, "api"),
    ("system_error", errors.ApiError, "api"),
    ("connection_reset", errors.TransportError, "transport"),
]


@pytest.mark.parametrize("fault,cls,kind", FAULTS)
def test_faults_arrive_as_typed_errors(
    sandbox: Sandbox, make_client: Callable[..., Any], fault: str, cls: type, kind: str
) -> None:
    client = make_client(max_attempts=1)
    sandbox.inject_fault(fault, count=3, path=GOLD_PLAN_PATHS)
    with pytest.raises(cls) as info:
        run(client.change_gold_plan_status(sandbox.sub_mchids[0], OperationType.OPEN))
    assert type(info.value) is cls and info.value.kind == kind
    if kind == "api":
        assert info.value.retryable and info.value.request_id


def test_retries_absorb_transient_faults(sandbox: Sandbox) -> None:
    client = sandbox.client(max_attempts=3)
    sub = sandbox.sub_mchids[0]
    client.change_gold_plan_status(sub, OperationType.OPEN)
    sandbox.inject_fault("system_error", count=2, path=GOLD_PLAN_PATHS)
    assert client.change_gold_plan_status(sub, OperationType.OPEN).data == {"sub_mchid": sub}


def test_timeouts(sandbox: Sandbox, make_client: Callable[..., Any]) -> None:
    client = make_client(timeout=0.3, max_attempts=1)
    sandbox.inject_fault("delay", delay_ms=2000, path=GOLD_PLAN_PATHS)
    with pytest.raises(errors.TimeoutError):
        run(client.change_gold_plan_status(sandbox.sub_mchids[0], OperationType.OPEN))


class CallbackReceiver:
    """A notify_url in this process that parses callbacks with the client under test."""

    def __init__(self, parse: Callable[[List[Any], bytes], Any]) -> None:
        self.events: List[Any] = []
        self.rejected: List[str] = []
        outer = self

        class Notify(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    outer.events.append(parse(list(self.headers.items()), body))
                    ack = goldplan.acknowledgement()
                except errors.GoldPlanError as error:
                    outer.rejected.append(error.kind)
                    ack = goldplan.acknowledgement(error)
                self.send_response(ack.status)
                self.send_header("Content-Length", str(len(ack.body.encode())))
                self.end_headers()
                self.wfile.write(ack.body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Notify)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notify"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_callbacks_blocking_and_asyncio(sandbox: Sandbox) -> None:
    blocking = sandbox.client()
    receiver = CallbackReceiver(lambda h, b: blocking.parse_notification(h, b))
    try:
        record = sandbox.send_callback(receiver.url, {"out_trade_no": "A-1", "trade_state": "SUCCESS"},
                                       summary="支付成功", wait=True)
        assert record["status"] == "delivered"
        (event,) = receiver.events
        assert event.id == record["id"] and event.event_type == "TRANSACTION.SUCCESS"
        assert event.json()["out_trade_no"] == "A-1" and event.summary == "支付成功"

        # A tampered delivery is refused with 401 and re-delivered until it verifies.
        sandbox.inject_fault("bad_signature", target="callback")
        record = sandbox.send_callback(receiver.url, {"out_trade_no": "A-2"}, wait=True,
                                       retry_delays_ms=[10, 10])
        assert record["status"] == "delivered" and len(record["attempts"]) == 2
        assert record["attempts"][0]["status"] == 401
        assert receiver.rejected == ["signature_invalid"]
    finally:
        receiver.close()

    async_client = sandbox.async_client()

    async def parse_async(headers: List[Any], body: bytes) -> Any:
        return await async_client.parse_notification(headers, body)

    receiver = CallbackReceiver(lambda h, b: asyncio.run(parse_async(h, b)))
    try:
        record = sandbox.send_callback(receiver.url, {"out_trade_no": "B-1"}, wait=True)
        assert record["status"] == "delivered"
        assert [e.json()["out_trade_no"] for e in receiver.events] == ["B-1"]
    finally:
        receiver.close()


def captured_callback(sandbox: Sandbox) -> Tuple[List[Any], bytes]:
    """One authentic callback of the sandbox, as received (acknowledged without parsing)."""
    captured: List[Tuple[List[Any], bytes]] = []
    receiver = CallbackReceiver(lambda h, b: captured.append((h, b)))
    try:
        record = sandbox.send_callback(receiver.url, {"out_trade_no": "G-1"}, wait=True)
        assert record["status"] == "delivered"
    finally:
        receiver.close()
    (callback,) = captured
    return callback


class DedupStoreDown(Exception):
    pass


def failing_guard(asked: List[str]) -> Callable[[str], bool]:
    def guard(notification_id: str) -> bool:
        asked.append(notification_id)
        raise DedupStoreDown("the dedup store is down")

    return guard


def test_clients_refuse_a_callback_whose_replay_guard_raises(sandbox: Sandbox) -> None:
    headers, body = captured_callback(sandbox)
    client = sandbox.client()
    assert client.parse_notification(headers, body, replay_guard=lambda _id: False).id
    with pytest.raises(errors.ReplayError):
        client.parse_notification(headers, body, replay_guard=lambda _id: True)

    asked: List[str] = []
    with pytest.raises(errors.InvalidInputError) as info:
        client.parse_notification(headers, body, replay_guard=failing_guard(asked))
    assert isinstance(info.value.__cause__, DedupStoreDown)
    # A failure answer (as Node's parseNotification gives): WeChat Pay re-delivers it.
    assert goldplan.acknowledgement(info.value).status >= 400
    assert len(asked) == 1

    async_client = sandbox.async_client()

    async def parse_async(guard: Callable[[str], bool]) -> Any:
        return await async_client.parse_notification(headers, body, replay_guard=guard)

    assert asyncio.run(parse_async(lambda _id: False)).id == asked[0]
    with pytest.raises(errors.ReplayError):
        asyncio.run(parse_async(lambda _id: True))
    with pytest.raises(errors.InvalidInputError) as info:
        asyncio.run(parse_async(failing_guard(asked)))
    assert isinstance(info.value.__cause__, DedupStoreDown)
    assert len(asked) == 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_calls_before_and_after_fork(sandbox: Sandbox) -> None:
    client = sandbox.client()
    sub = sandbox.sub_mchids[0]
    client.change_gold_plan_status(sub, OperationType.OPEN)
    async_client = sandbox.async_client()

    async def async_call() -> None:
        await async_client.change_gold_plan_status(sub, OperationType.OPEN)

    asyncio.run(async_call())  # the parent's loop, wake-up socket and runtime exist
    assert goldplan._goldplan._runtime_pid() == os.getpid()
    pid = os.fork()
    if pid == 0:  # the child: the parent's runtime and connections are unusable here
        code = 1
        try:
            client.change_gold_plan_status(sub, OperationType.OPEN)
            assert goldplan._goldplan._runtime_pid() == os.getpid()
            fresh = sandbox.client()
            fresh.change_gold_plan_status(sub, OperationType.OPEN)

            async def main() -> None:
                await sandbox.async_client().change_gold_plan_status(sub, OperationType.OPEN)
                await async_call()

            asyncio.run(main())
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    # The parent carries on with its own runtime and connections.
    assert goldplan._goldplan._runtime_pid() == os.getpid()
    client.change_gold_plan_status(sub, OperationType.OPEN)
    asyncio.run(async_call())


FORK_MESSAGE = b"POST\n/v3/goldplan/merchants/changegoldplanstatus\n1700000000\nfork\n{}\n"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
# Python 3.12+ warns that forking a process with threads may deadlock the child: forking while
# threads sign is what this test does on purpose, and a hung child fails it.
@pytest.mark.filterwarnings("ignore:This process .*is multi-threaded:DeprecationWarning")
def test_children_forked_while_threads_sign_can_sign_and_call(sandbox: Sandbox) -> None:
    # aws-lc's RSA blinding state is updated by every signature: a fork while another thread
    # signs copies it half-updated, and a child that signed with the copy used to abort.
    info = sandbox.info
    signer = goldplan.Signer(info["mchid"], info["serial_no"], info["private_key_pem"])
    key = goldplan.PrivateKey.from_pem(info["private_key_pem"])
    client = sandbox.client()
    sub = sandbox.sub_mchids[0]
    # PKCS#1 v1.5 signatures are deterministic: a child's must equal the parent's.
    expected = signer.sign(FORK_MESSAGE)
    assert key.sign(FORK_MESSAGE) == expected
    client.change_gold_plan_status(sub, OperationType.OPEN)

    stop = threading.Event()
    failures: List[BaseException] = []
    progress = threading.Condition()
    done = {"signatures": 0, "calls": 0}

    def busy(counter: str, work: Callable[[], None]) -> None:
        while not stop.is_set():
            try:
                work()
            except BaseException as e:  # noqa: BLE001
                failures.append(e)
                return
            with progress:
                done[counter] += 1
                progress.notify_all()

    def sign() -> None:
        assert signer.sign(FORK_MESSAGE) == expected
        assert key.sign(FORK_MESSAGE) == expected

    def call() -> None:
        client.change_gold_plan_status(sub, OperationType.OPEN)

    def wait_for_more(signatures: int, calls: int) -> None:
        # Counts, not time: the wait is only a guard against a hang.
        with progress:
            assert progress.wait_for(
                lambda: (done["signatures"] > signatures and done["calls"] > calls)
                or bool(failures),
                timeout=300,
            )
        assert not failures, failures

    threads = [threading.Thread(target=busy, args=("signatures", sign)) for _ in range(4)]
    threads += [threading.Thread(target=busy, args=("calls", call)) for _ in range(2)]
    for t in threads:
        t.start()
    children: List[Tuple[int, float]] = []
    try:
        for _ in range(20):
            # Every fork lands while the threads are at work, at a different point of it.
            with progress:
                seen = (done["signatures"], done["calls"])
            wait_for_more(*seen)
            pid = os.fork()
            if pid == 0:  # the child: its first signature is made with the parent's objects
                code = 1
                step = "sign"
                try:
                    if signer.sign(FORK_MESSAGE) == expected and key.sign(FORK_MESSAGE) == expected:
                        step = "call"
                        client.change_gold_plan_status(sub, OperationType.OPEN)
                        code = 0
                except BaseException as e:  # noqa: BLE001
                    os.write(2, f"forked child: {step} failed: {e!r}\n".encode())
                finally:
                    os._exit(code)
            children.append((pid, time.monotonic()))
    finally:
        outcomes = [wait_for_child(pid, started) for pid, started in children]
        stop.set()
        for t in threads:
            t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert not failures, failures
    failed = [f"child {i}: {outcome}" for i, outcome in enumerate(outcomes) if outcome != "ok"]
    assert not failed and len(outcomes) == 20, failed


def wait_for_child(pid: int, started: float) -> str:
    """How a forked child ended; one still running ~20 s after its fork is killed as hung."""
    while True:
        ended, status = os.waitpid(pid, os.WNOHANG)
        if ended:
            break
        if time.monotonic() - started > 20:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "hung, killed"
        time.sleep(0.02)
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return "ok" if os.WEXITSTATUS(status) == 0 else f"exit status {os.WEXITSTATUS(status)}"


def test_rotation_mid_stream_has_zero_failures(sandbox: Sandbox) -> None:
    client = sandbox.client(mode="certificate")
    sub = sandbox.sub_mchids[0]
    client.change_gold_plan_status(sub, OperationType.OPEN)
    failures: List[BaseException] = []
    lock = threading.Lock()
    calls = [0]
    progress = threading.Condition(lock)
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            try:
                client.change_gold_plan_status(sub, OperationType.OPEN)
            except BaseException as e:  # noqa: BLE001
                failures.append(e)
            with progress:
                calls[0] += 1
                progress.notify_all()

    def wait_for(count: int) -> None:
        # Counts, not time: the wait is only a guard against a hang.
        with progress:
            assert progress.wait_for(lambda: calls[0] >= count or bool(failures), timeout=300)

    workers = [threading.Thread(target=worker) for _ in range(4)]
    for t in workers:
        t.start()
    try:
        wait_for(8)
        # Responses switch to the new certificate at once: the client meets an unknown serial
        # mid-stream, downloads the new certificate once and carries on.
        new_serial = sandbox.rotate_certificates(sign_with_new=True)["new_serial_no"]
        with progress:
            before = calls[0]
        wait_for(before + 12)
    finally:
        stop.set()
        for t in workers:
            t.join()
    assert failures == []
    assert new_serial in {c.serial_no for c in client.platform_certificates()}
    assert sandbox.requests()[-1]["wechatpay_serial"] == new_serial


def test_sandbox_admin_operations(sandbox: Sandbox) -> None:
    before = sandbox.clock["now"]
    assert sandbox.advance_clock(3600)["now"] >= before + 3600
    sandbox.reset_clock()
    assert sandbox.update_settings(max_skew_secs=120)["max_skew_secs"] == 120
    sandbox.update_settings(max_skew_secs=300)
    sandbox.add_sub_merchant("1900000999", receipt_link=RECEIPT_LINK)
    assert "1900000999" in sandbox.merchant()["sub_mchids"]
    assert sandbox.update_sub_merchant("1900000999", punished=True)["punished"] is True
    with pytest.raises(errors.ApiError) as info:
        sandbox.client().change_gold_plan_status("1900000999", OperationType.OPEN)
    assert info.value.message == "特约商户被处罚中"
    with pytest.raises(errors.InvalidInputError):
        sandbox.inject_fault("no_such_fault")
    with pytest.raises(errors.SandboxError) as missing:
        sandbox.merchant("1234")
    assert missing.value.code == "NOT_FOUND"

    key = goldplan.PrivateKey.from_pem(sandbox.info["private_key_pem"])
    assert key.bits >= 2048
    view = sandbox.add_merchant(
        "1900000200",
        apiv3_key="A" * 32,
        certificate_pem=sandbox.info["certificate_pem"],
        mode="public_key",
        sub_mchids=["1900000201"],
    )
    assert view["mchid"] == "1900000200" and view["sub_mchids"] == ["1900000201"]
    # Each merchant has its own WeChat Pay public key, as on the real gateway.
    assert view["public_key_id"] != sandbox.info["public_key_id"]
    own = goldplan.Client(
        mchid="1900000200",
        serial_no=view["serial_no"],
        private_key=sandbox.info["private_key_pem"],
        public_key_id=view["public_key_id"],
        public_key=view["public_key_pem"],
        base_url=sandbox.base_url,
    )
    assert own.change_gold_plan_status("1900000201", "OPEN").data == {"sub_mchid": "1900000201"}
    # The built-in provider's key does not verify this merchant's answers.
    borrowed = goldplan.Client(
        mchid="1900000200",
        serial_no=view["serial_no"],
        private_key=sandbox.info["private_key_pem"],
        public_key_id=sandbox.info["public_key_id"],
        public_key=sandbox.info["public_key_pem"],
        base_url=sandbox.base_url,
    )
    with pytest.raises(errors.UnknownSerialError):
        borrowed.change_gold_plan_status("1900000201", "OPEN")


def test_the_pytest_fixtures(goldplan_sandbox: Sandbox, goldplan_client: goldplan.Client) -> None:
    sub = goldplan_sandbox.sub_mchids[0]
    goldplan_client.change_gold_plan_status(sub, OperationType.OPEN)
    assert goldplan_sandbox.sub_merchant(sub)["gold_plan"] == "OPEN"
    assert goldplan_sandbox.running


def test_client_from_the_sandbox_json_the_sandbox_writes(tmp_path: Any) -> None:
    with Sandbox(mode="public_key", state_dir=str(tmp_path)) as s:
        written = tmp_path / "sandbox.json"
        assert written.exists()
        for cls in (goldplan.Client, goldplan.AsyncClient):
            client = cls.from_file(written)
            assert client.mode == "public_key" and client.base_url == s.base_url
        reply = goldplan.Client.from_file(str(written)).change_gold_plan_status(
            s.sub_mchids[0], OperationType.OPEN
        )
        assert reply.data == {"sub_mchid": s.sub_mchids[0]}
