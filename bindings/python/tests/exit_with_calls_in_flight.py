"""Run by test_exit.py in its own interpreter: daemon threads are inside blocking and asyncio
calls (held by the sandbox) when the main thread exits, as ``argv[1]`` says: ``end`` falls off
the end, ``exit:N`` calls ``sys.exit(N)``, ``late-call`` falls off the end and then makes a call
from an ``atexit`` handler that runs after goldplan's own."""

from __future__ import annotations

import asyncio
import atexit
import sys
import threading
from typing import Any

how = sys.argv[1] if len(sys.argv) > 1 else "end"


def late_call() -> None:
    # The exiting thread still gets its answers after goldplan stopped its runtime.
    with Sandbox() as late:
        late.client().change_gold_plan_status(late.sub_mchids[0], OperationType.OPEN)
    print("late call answered", flush=True)


# Registered before goldplan is imported, so it runs after goldplan's handler.
if how == "late-call":
    atexit.register(late_call)

from goldplan import OperationType  # noqa: E402
from goldplan.testing import Sandbox  # noqa: E402

BLOCKING_THREADS = 3
ASYNC_CALLS = 2
IN_FLIGHT = BLOCKING_THREADS + ASYNC_CALLS
HELD = 1000

sandbox = Sandbox()
sub = sandbox.sub_mchids[0]


client = sandbox.client(timeout=600, max_attempts=1)
async_client = sandbox.async_client(timeout=600, max_attempts=1)


async def one_call() -> None:
    await async_client.change_gold_plan_status(sub, OperationType.OPEN)


# Warmed up (platform certificates downloaded), so that each call below is one held request.
client.change_gold_plan_status(sub, OperationType.OPEN)
asyncio.run(one_call())


# No error is caught: a daemon thread must see nothing of the exit (no error, no answer), as
# one blocked reading a socket; anything it saw would print a traceback.
def blocking_calls() -> None:
    while True:
        client.change_gold_plan_status(sub, OperationType.OPEN)


def async_calls() -> None:
    async def one_loop() -> None:
        while True:
            await one_call()

    async def main() -> Any:
        return await asyncio.gather(*(one_loop() for _ in range(ASYNC_CALLS)))

    asyncio.run(main())


# Every request from here on is held by the sandbox (up to its 60 s limit): the calls are still
# in flight when the main thread leaves.
sandbox.inject_fault("delay", count=HELD, delay_ms=60_000)
for target in [blocking_calls] * BLOCKING_THREADS + [async_calls]:
    threading.Thread(target=target, daemon=True).start()


def arrived() -> int:
    faults = sandbox.faults()
    left = sum(int(f["count"]) for f in faults)
    return HELD - left


while arrived() < IN_FLIGHT:
    threading.Event().wait(0.01)
print("in flight", flush=True)

if how.startswith("exit:"):
    sys.exit(int(how.split(":", 1)[1]))
