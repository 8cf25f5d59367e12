"""core/eager.py: a coroutine's first step at once; the rest, if it waits, as a task that gets the
results, exceptions and cancellation of what it waits for just as if it had been a task from the start."""

from __future__ import annotations

import asyncio

import pytest

from core.eager import first_step


async def test_a_coroutine_that_does_not_wait_finishes_in_the_first_step():
    async def at_once():
        await done_already()  # awaiting a coroutine that does not wait is no wait
        return "答复"

    async def done_already():
        return None

    assert first_step(at_once()) == (True, "答复")


async def test_an_error_before_the_first_wait_is_raised_by_the_first_step():
    async def broken():
        raise KeyError("x")

    with pytest.raises(KeyError):
        first_step(broken())


async def test_one_that_waits_goes_on_in_a_task_with_what_it_waits_for():
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    order = []

    async def waits():
        order.append("first step")
        value = await first
        order.append(f"got {value}")
        try:
            await second
        except KeyError as e:
            return value, e.args

    finished, rest = first_step(waits())
    assert finished is False and order == ["first step"]
    task = asyncio.create_task(rest)
    await asyncio.sleep(0)
    first.set_result(7)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == ["first step", "got 7"] and not task.done()
    second.set_exception(KeyError("没有"))
    assert await task == (7, ("没有",))


async def test_cancelling_the_task_cancels_the_coroutine_where_it_waits():
    cleaned = []

    async def waits():
        try:
            await asyncio.sleep(60)
        finally:
            cleaned.append("finally")

    finished, rest = first_step(waits())
    task = asyncio.create_task(rest)
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally"] and finished is False


async def test_a_result_and_an_exception_after_the_wait_come_out_of_the_task():
    async def later(value, fail):
        await asyncio.sleep(0.001)
        if fail:
            raise ValueError(value)
        return value

    _, ok = first_step(later("好", False))
    _, bad = first_step(later("坏", True))
    assert await asyncio.create_task(ok) == "好"
    with pytest.raises(ValueError, match="坏"):
        await asyncio.create_task(bad)
