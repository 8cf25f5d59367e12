"""A coroutine's first step run at once, in the caller: most webhook handlers answer from memory
without waiting for anything, and a task, its scheduling and a timer for the reply budget cost more
than the handler itself (about 13 µs a message). Only one that waits becomes a task, driven on from
the wait it stopped at. (Python 3.12's eager tasks do the same; this runs on 3.11.)

The first step runs in the caller's task: code that needs a task of its own before its first wait
(`asyncio.timeout`, `current_task`) must not be started this way.
"""

from __future__ import annotations

import types
from collections.abc import Coroutine, Generator
from typing import Any


def first_step(coro: Coroutine) -> tuple[bool, Any]:
    """(True, its result) if `coro` finished without waiting, else (False, a coroutine that runs the
    rest of it: give it to a task). Raises what `coro` raised in its first step."""
    try:
        waiting = coro.send(None)
    except StopIteration as done:
        return True, done.value
    rest = _rest(coro, waiting)
    rest.__qualname__ = coro.__qualname__  # what a failed task's log line names (Dispatcher._done)
    return False, rest


async def _rest(coro: Coroutine, waiting: Any) -> Any:
    return await _resume(coro, waiting)


@types.coroutine
def _resume(coro: Coroutine, waiting: Any) -> Generator[Any, Any, Any]:
    """Pass what `coro` waits for to the task running this, and the outcome back into `coro`."""
    while True:
        try:
            sent = yield waiting
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as e:  # cancelled while waiting: the coroutine's to handle
            try:
                waiting = coro.throw(e)
            except StopIteration as done:
                return done.value
        else:
            try:
                waiting = coro.send(sent)
            except StopIteration as done:
                return done.value
