"""bot/dedupe.py's per-process maps are queues: entries go in at the back and leave from the front
(expiry, eviction for size). A plain dict finds its first item by stepping over every slot deleted
since its last resize, so at the bench's rates each message paid tens of µs and one expiry of
thousands at once (after a pause between plain and safe traffic) stalled the loop for a second.
The maps must be ordered maps whose front is found directly (OrderedDict), in the same order."""

from __future__ import annotations

from collections import OrderedDict

from bot.dedupe import Dedupe
from core.clock import FakeClock
from store.shared import MemoryState


async def answer(read):
    return "答复"


async def test_both_maps_are_emptied_from_the_front_of_an_ordered_map_oldest_first():
    clock = FakeClock()
    dedupe = Dedupe(MemoryState(clock), clock, ttl=30, query_ttl=60, max_answers=50, max_queries=80)
    for i in range(200):
        await dedupe.once(f"m:{i}", answer, clock.monotonic() + 5, signed=(f"sig{i}", "d"), signed_at=1000 + i)
        clock.advance(0.5)
    # OrderedDict, not dict: their front is found without stepping over the deleted slots.
    assert type(dedupe._seen) is OrderedDict and type(dedupe._queries) is OrderedDict
    assert list(dedupe._seen) == [f"m:{i}" for i in range(150, 200)]  # bounded by size, oldest out
    assert list(dedupe._queries) == [f"sig{i}" for i in range(120, 200)]
    clock.advance(20)  # now 120 s: the answers that came by 90 s and the queries by 60 s expire at once
    await dedupe.once("m:new", answer, clock.monotonic() + 5, signed=("sig-new", "d"), signed_at=2000)
    assert type(dedupe._seen) is OrderedDict and type(dedupe._queries) is OrderedDict
    assert list(dedupe._seen) == [*(f"m:{i}" for i in range(181, 200)), "m:new"]
    assert list(dedupe._queries)[-1] == "sig-new" and list(dedupe._queries)[0] == "sig121"
