"""The typed operation methods (generated from the core's operation registry) against the
registry itself, bodies captured on the wire, and the client calls every binding has:
``probe`` and ``refresh_certificates``."""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
from typing import Any, Callable, Dict, Iterator, List

import pytest

import goldplan
from goldplan import errors
from goldplan.testing import Sandbox
from conftest import REPO
from wechat_stub import Stub

REGISTRY: List[Dict[str, Any]] = [
    op
    for op in json.loads((REPO / "bindings" / "operations.json").read_text(encoding="utf-8"))
    if op["kind"] == "remote"
]
SUB = "1900000109"


def wire_order(op: Dict[str, Any]) -> List[str]:
    """Required parameters in declaration order, then the optional ones by name."""
    schema = op["arguments"]
    required = list(schema.get("required", []))
    return required + sorted(set(schema["properties"]) - set(required))


@pytest.mark.parametrize("cls", [goldplan.Client, goldplan.AsyncClient])
@pytest.mark.parametrize("op", REGISTRY, ids=[op["name"] for op in REGISTRY])
def test_each_remote_operation_is_a_method_named_by_the_registry(
    cls: type, op: Dict[str, Any]
) -> None:
    method = getattr(cls, op["name"])
    parameters = list(inspect.signature(method).parameters.values())[1:]
    assert [p.name for p in parameters] == wire_order(op)
    required = set(op["arguments"].get("required", []))
    for p in parameters:
        assert p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert (p.default is inspect.Parameter.empty) == (p.name in required), p.name
        if p.name not in required:
            assert p.default is None
    doc = " ".join((method.__doc__ or "").split())
    assert doc.startswith(" ".join(op["doc"].split()))
    for name, schema in op["arguments"]["properties"].items():
        assert f"{name}: {' '.join(schema.get('description', '').split())}" in doc


def test_the_old_filters_keyword_is_gone() -> None:
    with Stub() as stub:
        client = stub.client()
        with pytest.raises(TypeError):
            client.open_advertising_show(SUB, filters=["FOOD"])  # type: ignore[call-arg]
        with pytest.raises(TypeError):
            client.set_advertising_industry_filter(SUB, filters=["FOOD"])  # type: ignore[call-arg]
        assert stub.requests == []


def test_keyword_calls_send_the_wire_names_and_leave_absent_options_out() -> None:
    with Stub() as stub:
        client = stub.client()
        client.change_gold_plan_status(sub_mchid=SUB, operation_type=goldplan.OperationType.OPEN)
        client.change_gold_plan_status(SUB, "close", operation_pay_scene="miniprogram")
        client.change_custom_page_status(operation_type="OPEN", sub_mchid=SUB)
        sent = [json.loads(r.body) for r in stub.requests]
    # The enum's canonical spelling is the core's: any case goes in, the documented one out.
    assert sent == [
        {"sub_mchid": SUB, "operation_type": "OPEN"},
        {"sub_mchid": SUB, "operation_type": "CLOSE", "operation_pay_scene": "MINIPROGRAM"},
        {"sub_mchid": SUB, "operation_type": "OPEN"},
    ]


def test_list_parameters_take_any_sequence_of_str() -> None:
    with Stub(body=b"") as stub:
        client = stub.client()
        client.set_advertising_industry_filter(
            SUB, advertising_industry_filters=(goldplan.IndustryType.SOFTWARE, "game")
        )
        client.open_advertising_show(SUB, advertising_industry_filters=["Food"])
        client.open_advertising_show(sub_mchid=SUB, advertising_industry_filters=None)
        client.close_advertising_show(sub_mchid=SUB)
        sent = [(r.target, json.loads(r.body)) for r in stub.requests]
        with pytest.raises(TypeError):
            # A str is not a list of tags (it would be one tag per character).
            client.open_advertising_show(SUB, "FOOD")  # type: ignore[arg-type]
    assert sent == [
        (
            "/v3/goldplan/merchants/set-advertising-industry-filter",
            {"sub_mchid": SUB, "advertising_industry_filters": ["SOFTWARE", "GAME"]},
        ),
        (
            "/v3/goldplan/merchants/open-advertising-show",
            {"sub_mchid": SUB, "advertising_industry_filters": ["FOOD"]},
        ),
        ("/v3/goldplan/merchants/open-advertising-show", {"sub_mchid": SUB}),
        ("/v3/goldplan/merchants/close-advertising-show", {"sub_mchid": SUB}),
    ]


def test_values_outside_the_documented_sets_are_the_cores_invalid_input() -> None:
    with Stub() as stub:
        client = stub.client()
        with pytest.raises(errors.InvalidInputError) as info:
            client.change_gold_plan_status(SUB, "OPEN", "H5")
        # The core's message, naming the parameter and the documented values.
        assert "operation_pay_scene must be one of JSAPI_AND_MINIPROGRAM" in str(info.value)
        with pytest.raises(errors.InvalidInputError):
            client.change_custom_page_status(SUB, "ENABLE")
        with pytest.raises(errors.InvalidInputError):
            client.open_advertising_show(SUB, ["SPACE"])

        async def via_asyncio() -> None:
            with pytest.raises(errors.InvalidInputError):
                await stub.async_client().set_advertising_industry_filter(SUB, ["FOOD"] * 4)

        asyncio.run(via_asyncio())
        assert stub.requests == []


def test_the_asyncio_methods_send_the_same_bodies() -> None:
    with Stub() as stub:
        client = stub.async_client()

        async def main() -> Any:
            return await client.change_gold_plan_status(
                SUB, operation_type="open", operation_pay_scene=goldplan.OperationPayScene.JSAPI
            )

        reply = asyncio.run(main())
        (request,) = stub.requests
    assert reply.data == {"sub_mchid": SUB}
    assert json.loads(request.body) == {
        "sub_mchid": SUB,
        "operation_type": "OPEN",
        "operation_pay_scene": "JSAPI",
    }


# -- refresh_certificates and probe ------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(mode="combined") as s:
        yield s


def both(sandbox: Sandbox, mode: str) -> List[Callable[[str], Any]]:
    """Callers of a no-argument method on a blocking and an asyncio client (awaited when it
    returns an awaitable)."""
    blocking = sandbox.client(mode=mode)
    asynchronous = sandbox.async_client(mode=mode)

    def on_blocking(name: str) -> Any:
        return getattr(blocking, name)()

    def on_asyncio(name: str) -> Any:
        async def main() -> Any:
            result = getattr(asynchronous, name)()
            return await result if inspect.isawaitable(result) else result

        return asyncio.run(main())

    return [on_blocking, on_asyncio]


@pytest.mark.parametrize("mode", ["certificate", "combined"])
def test_refresh_certificates_returns_the_trusted_certificates(sandbox: Sandbox, mode: str) -> None:
    listed = {c["serial_no"] for c in sandbox.platform_certificates()}
    assert listed
    for call, client in zip(both(sandbox, mode), ("blocking", "asyncio")):
        trusted = call("refresh_certificates")
        assert isinstance(trusted, list), client
        assert all(isinstance(c, goldplan.PlatformCertificate) for c in trusted)
        assert {c.serial_no for c in trusted} >= listed
        assert [c.pem for c in trusted] == [c.pem for c in call("platform_certificates")]


def test_refresh_certificates_in_public_key_mode_trusts_none(sandbox: Sandbox) -> None:
    for call in both(sandbox, "public_key"):
        assert call("refresh_certificates") == []


def test_refresh_certificates_failure_is_raised() -> None:
    with Sandbox(mode="public_key") as s:
        with pytest.raises(errors.NoPlatformCertificateError):
            s.client(mode="certificate").refresh_certificates()


@pytest.mark.parametrize("mode", ["certificate", "combined", "public_key"])
def test_probe_reports_a_working_configuration(sandbox: Sandbox, mode: str) -> None:
    for call in both(sandbox, mode):
        report = call("probe")
        assert report["ok"] is True, report
        assert report["base_url"].rstrip("/") == sandbox.base_url.rstrip("/")
        assert report["status"] == 200 and report["request_id"]
        checks = {c["check"]: c for c in report["checks"]}
        assert {"reachability", "signature"} <= set(checks)
        assert all(c["status"] in ("ok", "warn") for c in report["checks"]), report
        assert abs(report["clock_skew_secs"]) < 60


def test_probe_reports_an_unreachable_gateway_as_data() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Nothing listens on the port now: the probe fails its reachability check, not the call.
    with Stub() as stub:
        options = stub.client_options(base_url=f"http://127.0.0.1:{port}", timeout=5.0)
    asynchronous = goldplan.AsyncClient(**options)

    async def on_asyncio() -> Any:
        return await asynchronous.probe()

    for report in (goldplan.Client(**options).probe(), asyncio.run(on_asyncio())):
        assert report["ok"] is False and report["status"] is None
        (check,) = report["checks"]
        assert check["check"] == "reachability" and check["status"] == "fail"
        assert check["fix"]
