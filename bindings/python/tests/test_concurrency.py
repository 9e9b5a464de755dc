"""Concurrency proved by ordering, not by speed: the gateway is a Python ``http.server`` whose
handler needs the GIL and can hold requests until a given number are in flight at once. A
client that kept the GIL during a call, or that serialised calls, could never complete these
tests (the waits below are deadlock guards, never measured)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from typing import Any, Iterator, List

from goldplan import OperationType
from wechat_stub import Captured, Stub, parse_authorization

GUARD = 120.0  # seconds; only reached if the behaviour under test is broken
SUB = "1900000109"


def test_a_blocking_call_lets_other_python_threads_run() -> None:
    order: List[str] = []
    other_ran = threading.Event()

    def before_answer(_: Captured) -> None:
        # This handler is Python: it runs only if the calling thread released the GIL.
        order.append("handler")
        helper = threading.Thread(target=lambda: (order.append("helper"), other_ran.set()))
        helper.start()
        assert other_ran.wait(GUARD)

    with Stub(before_answer=before_answer) as stub:
        client = stub.client(timeout=GUARD)
        order.append("call")
        reply = client.change_gold_plan_status(SUB, OperationType.OPEN)
        order.append("returned")
    assert reply.data == {"sub_mchid": SUB}
    assert order == ["call", "handler", "helper", "returned"]


class HoldFirst:
    """Holds each of the first ``n`` requests until all ``n`` are in flight at once."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.barrier = threading.Barrier(n, timeout=GUARD)
        self.lock = threading.Lock()
        self.arrived = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def __call__(self, _: Captured) -> None:
        with self.lock:
            self.arrived += 1
            held = self.arrived <= self.n
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if held:
                self.barrier.wait()
        finally:
            with self.lock:
                self.in_flight -= 1


def test_threads_share_one_blocking_client() -> None:
    threads, calls = 8, 25
    hold = HoldFirst(threads)
    failures: List[BaseException] = []
    replies: List[Any] = []
    with Stub(before_answer=hold) as stub:
        client = stub.client(timeout=GUARD)

        def worker() -> None:
            try:
                for _ in range(calls):
                    replies.append(client.change_gold_plan_status(SUB, OperationType.OPEN))
            except BaseException as e:  # noqa: BLE001
                failures.append(e)

        workers = [threading.Thread(target=worker) for _ in range(threads)]
        for t in workers:
            t.start()
        for t in workers:
            t.join(GUARD * 2)
        assert not any(t.is_alive() for t in workers), "a worker never finished"
        requests = list(stub.requests)
    assert failures == []
    assert len(replies) == len(requests) == threads * calls
    assert all(r.data == {"sub_mchid": SUB} for r in replies)
    # Every thread's first call was in flight at the same time as the seven others.
    assert hold.max_in_flight >= threads and not hold.barrier.broken
    nonces = {parse_authorization(r.header("Authorization") or "")["nonce_str"] for r in requests}
    assert len(nonces) == threads * calls, "every request is signed afresh"


def test_asyncio_calls_run_concurrently() -> None:
    n = 20
    hold = HoldFirst(n)
    with Stub(before_answer=hold) as stub:
        client = stub.async_client(timeout=GUARD)

        async def main() -> List[Any]:
            return list(
                await asyncio.gather(
                    *(client.change_gold_plan_status(SUB, OperationType.OPEN) for _ in range(n))
                )
            )

        replies = asyncio.run(main())
        assert len(stub.requests) == n
    assert [r.data for r in replies] == [{"sub_mchid": SUB}] * n
    # All twenty were in flight at once, on one event loop thread.
    assert hold.max_in_flight == n and not hold.barrier.broken


@contextlib.contextmanager
def unraisable_errors() -> Iterator[List[Any]]:
    """Collects what Python reports as unraisable (errors in callbacks nobody awaits)."""
    caught: List[Any] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = caught.append
    try:
        yield caught
    finally:
        sys.unraisablehook = previous_hook


class HoldUntilReleased:
    """Holds each request in the gateway until ``release`` is set; ``arrived`` tells that one
    is held."""

    def __init__(self, order: List[str]) -> None:
        self.order = order
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, _: Captured) -> None:
        self.order.append("handler")
        self.arrived.set()
        assert self.release.wait(GUARD)

    async def held(self) -> None:
        """Returns, on the event loop, once a request is held."""
        while not self.arrived.is_set():
            await asyncio.sleep(0.001)


def test_an_asyncio_call_leaves_the_event_loop_free() -> None:
    order: List[str] = []
    hold = HoldUntilReleased(order)
    with Stub(before_answer=hold) as stub:
        client = stub.async_client(timeout=GUARD)

        async def main() -> Any:
            call = asyncio.ensure_future(client.change_gold_plan_status(SUB, "OPEN"))
            # While the call waits for its answer, this coroutine keeps running on the loop.
            await hold.held()
            order.append("loop ran during the call")
            assert not call.done()
            hold.release.set()
            reply = await call
            order.append("returned")
            return reply

        reply = asyncio.run(main())
    assert reply.data == {"sub_mchid": SUB}
    assert order == ["handler", "loop ran during the call", "returned"]


def test_a_cancelled_asyncio_call_ends_cleanly_and_the_loop_carries_on() -> None:
    hold = HoldUntilReleased([])
    with Stub(before_answer=hold) as stub:
        client = stub.async_client(timeout=GUARD)

        async def main() -> Any:
            call = asyncio.ensure_future(client.change_gold_plan_status(SUB, "OPEN"))
            await hold.held()
            call.cancel()
            try:
                await call
                raise AssertionError("a cancelled call returned")
            except asyncio.CancelledError:
                pass
            hold.release.set()
            # The abandoned call's answer must not reach (or break) anything: later calls work.
            reply = await client.change_gold_plan_status(SUB, "OPEN")
            await asyncio.sleep(0.05)
            return reply

        with unraisable_errors() as unraisable:
            reply = asyncio.run(main())
    assert reply.data == {"sub_mchid": SUB}
    assert unraisable == []


def open_unix_sockets() -> int:
    """This process's open Unix sockets (the wake-up sockets, asyncio's self-pipes). Not all
    fds: the stub closes each HTTP/1.0 connection, and the runtime closes its end of it after
    the answer has reached Python, so a count of all fds includes one or not by chance."""
    with open("/proc/net/unix", encoding="ascii") as table:
        next(table)
        inodes = {fields[6] for fields in (line.split() for line in table) if len(fields) > 6}
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the fd of the listing itself, closed by now
            continue
        if target.startswith("socket:[") and target[len("socket:["):-1] in inodes:
            count += 1
    return count


def test_event_loops_taking_turns_on_one_thread_each_get_their_answers() -> None:
    # A private loop beside the application's, both open, used in turns: each call's answer
    # reaches the loop that awaits it, and switching does not pile up wake-up sockets.
    with Stub() as stub:
        client = stub.async_client(timeout=GUARD)
        first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
        try:

            async def call() -> Any:
                return await client.change_gold_plan_status(SUB, "OPEN")

            for loop in (first, second):
                assert loop.run_until_complete(call()).data == {"sub_mchid": SUB}
            settled = open_unix_sockets()
            for _ in range(10):
                for loop in (first, second):
                    assert loop.run_until_complete(call()).data == {"sub_mchid": SUB}
            assert open_unix_sockets() == settled
        finally:
            first.close()
            second.close()
        # After both closed, a new loop (asyncio.run) gets its own way back.
        assert asyncio.run(call()).data == {"sub_mchid": SUB}


def test_a_call_still_pending_when_its_loop_ends_leaves_the_next_loop_working() -> None:
    hold = HoldUntilReleased([])
    with Stub(before_answer=hold) as stub:
        client = stub.async_client(timeout=GUARD)

        async def abandon() -> None:
            asyncio.ensure_future(client.change_gold_plan_status(SUB, "OPEN"))
            await hold.held()  # in flight; asyncio.run cancels it on the way out

        async def call() -> Any:
            return await client.change_gold_plan_status(SUB, "OPEN")

        with unraisable_errors() as unraisable:
            asyncio.run(abandon())
            hold.release.set()
            reply = asyncio.run(call())
    assert reply.data == {"sub_mchid": SUB}
    assert unraisable == []


EXIT_WITH_CALLS_FINISHING = """
import asyncio, sys
import goldplan

async def main(path):
    client = goldplan.AsyncClient.from_file(path)
    async def worker():
        for _ in range(20):
            await client.change_gold_plan_status("{sub}", goldplan.OperationType.OPEN)
    await asyncio.gather(*(worker() for _ in range(16)))

asyncio.run(main(sys.argv[1]))
"""


def test_the_interpreter_exits_cleanly_right_after_asyncio_calls(tmp_path: Any) -> None:
    # The results of async calls are handed to Python from runtime threads; one could still be
    # inside that hand-off when the script ends. Before the runtime was stopped at exit, about
    # one such exit in ten crashed the process (SIGSEGV/SIGABRT) during finalisation.
    import json
    import subprocess
    import sys

    from goldplan.testing import Sandbox

    with Sandbox(mode="public_key") as sandbox:
        config = tmp_path / "sandbox.json"
        config.write_text(json.dumps(sandbox.info), encoding="utf-8")
        script = EXIT_WITH_CALLS_FINISHING.replace("{sub}", SUB)
        for run in range(15):
            done = subprocess.run(
                [sys.executable, "-c", script, str(config)],
                capture_output=True,
                text=True,
                timeout=GUARD,
            )
            assert done.returncode == 0, (run, done.returncode, done.stderr[-2000:])
