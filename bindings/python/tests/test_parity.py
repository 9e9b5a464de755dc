"""Parity with the core's operation registry (issue 20), driven by the committed files so that a
new registry entry or vector file fails here until the binding has it:

1. every entry of ``bindings/operations.json`` is a callable under its one canonical name on
   its receiver (``client``: ``Client`` and ``AsyncClient``; ``module``: the ``goldplan``
   package; ``signer``: ``Signer``; ``verifier``: ``Verifier``);
2. every ``tests/vectors/operations/*.json`` case, run through the TYPED method against a fresh
   sandbox, sends the logged request byte for byte and answers the result or the error kind
   (the Rust reference is ``tests/e2e/tests/operations.rs``);
3. every vector file there is read by this suite.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

import goldplan
from goldplan import errors
from goldplan.testing import Sandbox
from conftest import REPO

REGISTRY: List[Dict[str, Any]] = json.loads(
    (REPO / "bindings" / "operations.json").read_text(encoding="utf-8")
)
BY_NAME: Dict[str, Dict[str, Any]] = {op["name"]: op for op in REGISTRY}
OPERATION_VECTORS = REPO / "tests" / "vectors" / "operations"

# Where each registry receiver lives in Python (DESIGN: one name per concept).
RECEIVERS: Dict[str, List[Tuple[str, Any]]] = {
    "client": [("Client", goldplan.Client), ("AsyncClient", goldplan.AsyncClient)],
    "module": [("goldplan", goldplan)],
    "signer": [("Signer", goldplan.Signer)],
    "verifier": [("Verifier", goldplan.Verifier)],
}

HOMES = [
    (op["name"], where, home)
    for op in REGISTRY
    for where, home in RECEIVERS.get(op["receiver"], [(op["receiver"], None)])
]


def test_the_registry_is_read_and_names_every_kind() -> None:
    # Guards the existence test below against an empty or misread registry.
    assert {op["kind"] for op in REGISTRY} == {"remote", "client", "local", "method"}
    assert {op["receiver"] for op in REGISTRY} <= set(RECEIVERS)


@pytest.mark.parametrize(
    "name,where,home", HOMES, ids=[f"{where}.{name}" for name, where, _ in HOMES]
)
def test_every_registry_entry_is_callable_on_its_receiver(
    name: str, where: str, home: Any
) -> None:
    assert home is not None, f"registry receiver of {name} has no Python home"
    member = getattr(home, name, None)
    assert member is not None, f"{where} has no {name}"
    assert callable(member), f"{where}.{name} is not callable"
    if home is goldplan:
        assert name in goldplan.__all__, f"goldplan.{name} is not exported in __all__"
    else:
        # Defined by the class itself, not something every object has.
        assert name in vars(home), f"{where}.{name} is inherited, not the binding's own"


def test_async_client_operations_are_awaitables() -> None:
    # AsyncClient's operations answer awaitables; a blocking method by the same name would
    # pass the existence test yet break `await`.
    async def main(client: goldplan.AsyncClient) -> Any:
        call = client.change_gold_plan_status("1900000109", "OPEN")
        assert hasattr(call, "__await__")
        return await call

    with Sandbox() as sandbox:
        reply = asyncio.run(main(sandbox.async_client()))
    assert reply.data == {"sub_mchid": "1900000109"}


def vector_files() -> List[Path]:
    return sorted(OPERATION_VECTORS.glob("*.json"))


def load_operation_vector(path: Path) -> Dict[str, Any]:
    data: Dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == 1, path.name
    assert data["operation"] == path.stem, path.name
    assert data["operation"] in BY_NAME, f"{path.name} names no registry operation"
    assert data["cases"], f"{path.name} has no case"
    return data


def test_every_operation_vector_file_is_read_by_this_suite() -> None:
    # The vectors test below reads every file the directory holds; this pins that the set it
    # reads is the set of remote operations, in both directions.
    files = {p.stem for p in vector_files()}
    remote = {op["name"] for op in REGISTRY if op["kind"] == "remote"}
    assert files == remote, "every remote operation has a vector file and every file an operation"
    for path in vector_files():
        load_operation_vector(path)


def positional(operation: str, arguments: Dict[str, Any]) -> List[Any]:
    """The arguments in the order of the operation's registry parameters; absent ones are
    ``None`` (a parameter the registry does not know is a broken vector)."""
    names = [p["name"] for p in BY_NAME[operation]["parameters"]]
    unknown = set(arguments) - set(names)
    assert not unknown, f"{operation}: vector arguments {unknown} are no parameters"
    return [arguments.get(name) for name in names]


Call = Callable[[str, List[Any]], Any]


def run_vectors(sandbox: Sandbox, vectors: Dict[str, Any], call: Call) -> int:
    """Runs `before` and every case through `call(operation, args)`; returns the cases run."""
    for step in vectors.get("before", []):
        call(step["operation"], positional(step["operation"], step["arguments"]))
    operation = vectors["operation"]
    ran = 0
    for case in vectors["cases"]:
        name = f"{operation}: {case['name']}"
        sandbox.clear_requests()
        outcome: Optional[goldplan.Reply] = None
        failure: Optional[errors.GoldPlanError] = None
        try:
            outcome = call(operation, positional(operation, case["arguments"]))
        except errors.GoldPlanError as e:
            failure = e
        logged = sandbox.requests()
        request = case["request"]
        if request is None:
            assert logged == [], f"{name}: sent {logged}"
        else:
            assert logged, f"{name}: nothing sent"
            last = logged[-1]
            assert last["method"] == request["method"], name
            assert last["path"] == request["path"], name
            assert last["body"] == request["body"], name
        if "error" in case:
            assert failure is not None, f"{name}: expected {case['error']}, got {outcome}"
            assert failure.kind == case["error"]["kind"], f"{name}: {failure!r}"
            if "code" in case["error"]:
                assert isinstance(failure, errors.ApiError), f"{name}: {failure!r}"
                assert failure.code == case["error"]["code"], name
        else:
            assert failure is None, f"{name}: {failure!r}"
            assert isinstance(outcome, goldplan.Reply), name
            if "result_keys" in case:
                # Values the server chooses (a prepay_id): exactly these keys, each a
                # non-empty string.
                assert "result" not in case, f"{name}: both result and result_keys"
                data = outcome.data
                assert isinstance(data, dict), f"{name}: {data!r}"
                assert set(data) == set(case["result_keys"]), f"{name}: {data!r}"
                for key in case["result_keys"]:
                    assert isinstance(data[key], str) and data[key], f"{name}: {key}={data[key]!r}"
            else:
                assert outcome.data == case["result"], name
            assert outcome.request_id, name
        ran += 1
    return ran


VECTOR_IDS = [p.stem for p in vector_files()]


@pytest.mark.parametrize("path", vector_files(), ids=VECTOR_IDS)
def test_operation_vectors_through_the_typed_client_methods(path: Path) -> None:
    vectors = load_operation_vector(path)
    with Sandbox(mode="public_key") as sandbox:
        client = sandbox.client()

        def call(operation: str, args: List[Any]) -> Any:
            return getattr(client, operation)(*args)

        assert run_vectors(sandbox, vectors, call) == len(vectors["cases"])


@pytest.mark.parametrize("path", vector_files(), ids=VECTOR_IDS)
def test_operation_vectors_through_the_typed_async_client_methods(path: Path) -> None:
    vectors = load_operation_vector(path)
    with Sandbox() as sandbox:
        client = sandbox.async_client()
        loop = asyncio.new_event_loop()
        try:

            async def invoke(operation: str, args: List[Any]) -> Any:
                # Called inside the running loop, as an application would.
                return await getattr(client, operation)(*args)

            def call(operation: str, args: List[Any]) -> Any:
                return loop.run_until_complete(invoke(operation, args))

            assert run_vectors(sandbox, vectors, call) == len(vectors["cases"])
        finally:
            loop.close()


def test_the_old_receipt_name_is_a_deprecated_alias() -> None:
    args = ("https://shop.example/r", "1900000109", "T1", "4200000001")
    code = goldplan.expected_check_code(*args)
    assert goldplan.verify_check_code(*args, code) is True
    with pytest.warns(DeprecationWarning, match="verify_check_code"):
        assert goldplan.verify_receipt_check_code(*args, code) is True
    with pytest.warns(DeprecationWarning):
        assert goldplan.verify_receipt_check_code(*args, "0" * 32) is False
    # The canonical name itself does not warn.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        goldplan.verify_check_code(*args, code)


def test_the_message_helpers_take_the_registry_optional_body() -> None:
    # `body` is optional in the registry (a GET, a 204): absent is the empty body line.
    assert goldplan.message_to_sign("GET", "/v3/x", 1, "N") == b"GET\n/v3/x\n1\nN\n\n"
    assert goldplan.message_to_sign("GET", "/v3/x", 1, "N", b"") == b"GET\n/v3/x\n1\nN\n\n"
    assert goldplan.message_to_verify("1", "N") == b"1\nN\n\n"
