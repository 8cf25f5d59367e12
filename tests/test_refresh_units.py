"""core/refresh.py: the keyword rules and the member index kept current without holding messages up.
A load runs at most once per `every` (the injected clock); the message that started it waits for it
while it is alone, at most `wait` seconds, and no longer once another message arrives."""

from __future__ import annotations

import asyncio
import logging
import time

from core.clock import FakeClock
from core.refresh import Refresh


class Load:
    """A load that takes `seconds` (real time) and counts its runs; `fail` makes it raise."""

    def __init__(self, seconds: float = 0.0) -> None:
        self.seconds = seconds
        self.runs = 0
        self.finished = 0
        self.fail = False

    async def __call__(self) -> None:
        self.runs += 1
        await asyncio.sleep(self.seconds)
        if self.fail:
            raise ConnectionError("database down")
        self.finished += 1


async def test_a_lone_message_waits_for_the_load_and_sees_its_result():
    load, clock = Load(0.05), FakeClock()
    refresh = Refresh("rules", load, clock, every=1.0, wait=2.0)
    await refresh()
    assert load.finished == 1  # the editor's try right after a change gets the new table


async def test_at_most_one_load_per_interval_of_the_injected_clock():
    load, clock = Load(), FakeClock()
    refresh = Refresh("rules", load, clock, every=1.0)
    await refresh()
    clock.advance(0.5)
    await refresh()
    assert load.runs == 1
    clock.advance(0.6)
    await refresh()
    assert load.runs == 2


async def test_a_slow_load_holds_the_message_that_started_it_at_most_wait():
    load, clock = Load(5.0), FakeClock()
    refresh = Refresh("rules", load, clock, every=1.0, wait=0.05)
    started = time.monotonic()
    await refresh()
    assert time.monotonic() - started < 1.0 and load.finished == 0
    refresh._task.cancel()


async def test_the_next_message_releases_the_one_that_started_the_load():
    load, clock = Load(5.0), FakeClock()
    refresh = Refresh("rules", load, clock, every=1.0, wait=5.0)
    first = asyncio.ensure_future(refresh())
    await asyncio.sleep(0.01)
    assert not first.done()  # alone: it waits
    started = time.monotonic()
    await refresh()  # traffic: this one does not wait, and the first waits no longer
    await asyncio.wait_for(first, 1.0)
    assert time.monotonic() - started < 1.0
    assert load.runs == 1 and load.finished == 0
    refresh._task.cancel()


async def test_a_failing_load_is_logged_when_it_starts_failing_and_when_it_works_again(caplog):
    load, clock = Load(), FakeClock()
    refresh = Refresh("rules", load, clock, every=1.0)
    load.fail = True
    with caplog.at_level(logging.WARNING, logger="core.refresh"):
        for _ in range(3):
            await refresh()
            clock.advance(1.0)
        load.fail = False
        await refresh()
    said = [r.getMessage() for r in caplog.records]
    assert load.runs == 4
    assert said == ["rules: could not refresh (database down); answering with what was loaded before",
                    "rules: refreshed again"]


async def test_after_the_first_message_stopped_waiting_later_ones_pass_and_the_next_load_starts_when_due():
    load, clock = Load(0.2), FakeClock()
    refresh = Refresh("rules", load, clock, every=1.0, wait=5.0)
    first = asyncio.ensure_future(refresh())
    await asyncio.sleep(0.01)
    await refresh()  # releases the first
    await first
    await refresh()  # the load still runs, nobody waits for it any more
    await asyncio.sleep(0.3)
    await refresh()  # it finished: cleared
    clock.advance(1.0)
    await refresh()
    assert load.runs == 2 and load.finished == 2


async def test_by_default_a_message_waits_a_fifth_of_a_second_at_most():
    load, clock = Load(5.0), FakeClock()
    refresh = Refresh("rules", load, clock, every=1.0)
    started = time.monotonic()
    await refresh()
    assert time.monotonic() - started < 0.5
    refresh._task.cancel()


async def test_a_load_that_fails_again_after_working_is_said_again(caplog):
    load, clock = Load(), FakeClock()
    refresh = Refresh("rules", load, clock, every=1.0)
    with caplog.at_level(logging.WARNING, logger="core.refresh"):
        for fail in (True, False, True):
            load.fail = fail
            await refresh()
            clock.advance(1.0)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "rules: could not refresh", "rules: refreshed again", "rules: could not refresh"]
