"""Refreshing what a process keeps in memory from the database (the editors' keyword rules, the member
index) without holding a follower's message up: the hot path calls `await refresh()` before it reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


class Refresh:
    """`await refresh()` before routing: runs `load()` at most every `every` seconds (the injected
    clock) in a task of its own, and the message that started it waits for it at most `wait`
    seconds (real time), and only until the next message arrives; others do not wait for it.
    Meanwhile, or when it fails, what the router has answers. A failing load is logged when it
    starts failing and when it works again, not at every message.

    Why the first message waits at all: an editor who changes a rule and tries it at once is the
    only one sending, and should get the new answer. Why no longer than the next message: at a
    peak the load's queries queue behind everyone's work, and the message that started it waited
    the whole `wait` (the webhook's slowest reply, once a second) to be answered with a table that
    differs, if at all, from the one every other message of that second got."""

    def __init__(self, name: str, load: Callable[[], Awaitable[object]], clock: Any, every: float,
                 wait: float = 0.2) -> None:
        self.name = name
        self.load = load
        self.clock = clock
        self.every = every
        self.wait = wait
        self._next = float("-inf")
        self._task: asyncio.Task | None = None
        self._next_message: asyncio.Future | None = None  # what the message that started it waits on
        self._failing = False

    async def __call__(self) -> None:
        task = self._task
        if task is not None:
            if task.done():
                self._task = None
            elif self._next_message is not None and not self._next_message.done():
                self._next_message.set_result(None)  # traffic: the one that started it waits no longer
            return  # started for an earlier message and not done: do not make this one wait too
        if self.clock.monotonic() < self._next:
            return
        self._next = self.clock.monotonic() + self.every
        task = self._task = asyncio.ensure_future(self._run())
        self._next_message = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait({task, self._next_message}, timeout=self.wait, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._next_message = None
        if task.done():
            self._task = None

    async def _run(self) -> None:
        try:
            await self.load()
        except Exception as e:
            if not self._failing:
                log.warning("%s: could not refresh (%s); answering with what was loaded before", self.name, e)
            self._failing = True
            return
        if self._failing:
            log.warning("%s: refreshed again", self.name)
        self._failing = False
