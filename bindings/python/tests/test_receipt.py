"""The merchant receipt, whole: prepay -> pay -> the notification verified -> the Gold Plan
page -> the example receipt page (examples/receipt/python) checked in a real Chromium by
``goldplan.receipt.test`` -> a screenshot. Every deliberately broken variant of the example
fails for its own reason, and the page falls back to the official receipt in time when the
order query is slow."""

from __future__ import annotations

import contextlib
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import goldplan
from conftest import REPO
from goldplan import errors
from goldplan.testing import Sandbox
from test_payments import (
    SP_APPID,
    SUB_APPID,
    SUB_MCHID,
    SUB_OPENID,
    NotifyListener,
    admin_post,
    check_paid_notification,
    unique_out_trade_no,
)

EXAMPLE = REPO / "examples" / "receipt" / "python" / "receipt_server.py"

# What each broken variant must fail, and nothing else.
BROKEN = {
    "too-slow": ["ready_in_time"],
    "object-message": ["ready_in_time", "json_string_message"],
    "wrong-origin": ["ready_in_time", "documented_origin"],
    "no-check-code": ["checks_check_code"],
    "http-jump-out": ["jump_out_https"],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def receipt_server(config: pathlib.Path) -> Iterator[str]:
    """The example receipt server on a free port; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLE), str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.strip() == f"receipt page at http://127.0.0.1:{port}/receipt", line
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def failed(report: Dict[str, Any]) -> List[str]:
    return [r["rule"] for r in report["rules"] if not r["passed"]]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tuple[Sandbox, str, Dict[str, Any]]]:
    """A paid order of a special merchant with Gold Plan and the receipt open, the receipt link
    pointing at the example server: (sandbox, the server's base URL, the pay answer)."""
    state = tmp_path_factory.mktemp("sandbox")
    with Sandbox(state_dir=str(state)) as sandbox, receipt_server(state / "sandbox.json") as base:
        client = sandbox.client()
        sandbox.update_merchant(receipt_link=f"{base}/receipt")
        client.change_gold_plan_status(SUB_MCHID, "OPEN", "JSAPI")
        client.change_custom_page_status(SUB_MCHID, "OPEN")
        listener = NotifyListener(lambda headers, body: client.parse_notification(headers, body))
        try:
            out_trade_no = unique_out_trade_no()
            prepay = client.jsapi_prepay(
                SP_APPID, client.mchid, SUB_MCHID, "点金计划小票测试", out_trade_no,
                listener.url, {"total": 990}, {"sub_openid": SUB_OPENID}, sub_appid=SUB_APPID,
            )
            values = client.request_payment(SUB_APPID, prepay.data["prepay_id"]).data
            status, paid = admin_post(sandbox, "/v1/pay", values)
            assert status == 200, paid
            check_paid_notification(listener.wait(), paid["transaction_id"], out_trade_no, 990)
            paid["out_trade_no"] = out_trade_no
            yield sandbox, base, paid
        finally:
            listener.close()


def test_a_paid_order_gets_a_gold_plan_page_with_a_receipt_that_passes_in_chromium(
    story: Tuple[Sandbox, str, Dict[str, Any]], tmp_path: pathlib.Path
) -> None:
    sandbox, base, paid = story
    # The Gold Plan page WeChat would show embeds the receipt link with its check_code.
    with urllib.request.urlopen(paid["gold_plan_page_url"], timeout=10) as response:
        page = response.read().decode()
    assert paid["receipt_url"].startswith(f"{base}/receipt?sub_mch_id={SUB_MCHID}&")
    assert paid["receipt_url"].replace("&", "\\u0026") in page

    png = tmp_path / "gold-plan-page.png"
    started = time.monotonic()
    report = goldplan.receipt.test(
        f"{base}/receipt",
        sub_mch_id=SUB_MCHID,
        out_trade_no=paid["out_trade_no"],
        transaction_id=paid["transaction_id"],
        screenshot=png,
    )
    wall = time.monotonic() - started
    assert report["passed"], report
    # The tester loaded exactly the URL the sandbox's payment produced.
    assert report["url"] == paid["receipt_url"]
    assert report["display_style"] == "SHOW_CUSTOM_PAGE" and report["shown"] == "merchant receipt"
    assert 0 <= report["ready_ms"] < 3000 and report["margin_ms"] == 3000 - report["ready_ms"]
    assert [r["rule"] for r in report["rules"]] == goldplan.receipt.RULES
    assert report["jump_out_urls"] == [
        f"https://shop.example.com/orders/{paid['out_trade_no']}"
    ]
    assert report["screenshot"] == str(png)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.stat().st_size > 5000
    assert report["wall_ms"] <= wall * 1000 + 50


@pytest.mark.parametrize("variant", sorted(BROKEN))
def test_each_broken_receipt_fails_for_its_own_reason(
    story: Tuple[Sandbox, str, Dict[str, Any]], variant: str
) -> None:
    _, base, paid = story
    report = goldplan.receipt.test(
        f"{base}/broken/{variant}",
        sub_mch_id=SUB_MCHID,
        out_trade_no=paid["out_trade_no"],
        transaction_id=paid["transaction_id"],
    )
    assert not report["passed"]
    assert failed(report) == BROKEN[variant], report


def test_a_slow_order_query_falls_back_to_the_official_receipt_in_time(
    story: Tuple[Sandbox, str, Dict[str, Any]]
) -> None:
    sandbox, base, paid = story
    # E2 takes 2.5 s (three times: the correct, wrong-code and probe loads each query once):
    # the page gives up after its 1 s budget and asks for the official receipt.
    sandbox.inject_fault(
        "delay", count=3, delay_ms=2500, method="GET",
        path="/v3/pay/partner/transactions/out-trade-no/*",
    )
    try:
        report = goldplan.receipt.test(
            f"{base}/receipt",
            sub_mch_id=SUB_MCHID,
            out_trade_no=paid["out_trade_no"],
            transaction_id=paid["transaction_id"],
        )
    finally:
        sandbox.clear_faults()
    assert report["passed"], report
    assert report["display_style"] == "SHOW_OFFICIAL_PAGE" and report["shown"] == "official receipt"
    assert 1000 <= report["ready_ms"] < 2000, report["ready_ms"]


def test_bad_input_and_a_missing_chromium_raise_typed_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(errors.InvalidInputError) as bad:
        goldplan.receipt.test("not a url with a key 0123456789abcdefghijklmnopqrstuv")
    assert "0123456789abcdef" not in str(bad.value)
    with pytest.raises(errors.ConfigurationError) as missing:
        goldplan.receipt.test("http://127.0.0.1:9/receipt", chromium=tmp_path / "no-chromium")
    assert "apt-get install chromium" in str(missing.value)
