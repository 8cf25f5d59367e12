"""One call for many: what the callers ask while the previous batch is on its way goes together in
the next one (the webhook's first-contact reads, its Redis claims). Under load the batches grow with
the round trip; alone, a call goes out on the next pass of the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Batcher(Generic[Item, Result]):
    """`await submit(item)`: the item's result from `run(items)`, which answers a list of results in
    the items' order (an exception in the list fails only its own item; one raised fails the batch)."""

    def __init__(self, run: Callable[[list[Item]], Awaitable[list[Result | BaseException]]]) -> None:
        self._run = run
        self._queue: list[tuple[Item, asyncio.Future]] = []
        self._task: asyncio.Task | None = None

    def submit(self, item: Item) -> asyncio.Future[Result]:
        """Queued at once (not when awaited): several submitted together go in one batch."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._send())
        return future

    async def _send(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    results = await self._run([item for item, _ in batch])
                except Exception as e:
                    results = [e] * len(batch)
                except BaseException:  # cancelled (shutdown): so are the calls waiting for it
                    for _, future in batch + self._queue:
                        future.cancel()
                    raise
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its caller stopped waiting
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._task = None
