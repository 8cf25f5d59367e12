"""A follower's pending conversation step, kept on their follower record.

One step at a time: `expect(kind, data, ttl)` replaces any earlier one. The dispatcher consults
it before the rules, and only when the step's `accepts(text, data)` says the input answers it;
anything else goes to the rules as usual and leaves the step in place until it expires.
"""

from __future__ import annotations

from bot.followers import FollowerStore
from core.clock import Clock
from store.models.webhook import Follower


class Conversation:
    """bot.context.ConversationState for one follower."""

    def __init__(self, store: FollowerStore, follower: Follower, clock: Clock) -> None:
        self._store = store
        self._follower = follower
        self._clock = clock

    @property
    def pending(self) -> tuple[str, dict] | None:
        state = self._follower.state
        if not state or state.get("expires", 0) <= self._clock.time():
            return None
        return state["kind"], state.get("data") or {}

    async def expect(self, kind: str, data: dict, ttl_seconds: float) -> None:
        # A new dict, never mutated in place: the write-behind copies whatever the row holds.
        self._follower.state = {"kind": kind, "data": data, "expires": self._clock.time() + ttl_seconds}
        self._store.changed(self._follower)

    async def clear(self) -> None:
        if self._follower.state is not None:
            self._follower.state = None
            self._store.changed(self._follower)


class NoConversation:
    """For senders that are not followers (the platform's job-finish reports)."""

    pending = None

    async def expect(self, kind: str, data: dict, ttl_seconds: float) -> None:
        raise RuntimeError("this sender cannot hold a conversation")

    async def clear(self) -> None:
        return None
