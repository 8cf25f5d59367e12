"""Routing: rules declared next to their handlers, consulted in one explicit order.

A handler is a plain `async def handler(message, ctx) -> Reply | None`. Each handlers module
makes a `Router` and decorates its handlers with rules; `handlers.ROUTERS` lists the routers in
priority order. What a rule captured reaches the handler as `ctx.args` (the text after a prefix)
and `ctx.match` (a regex match). A follower's pending step is tried before any rule, and only
when the input answers it (its `accepts` predicate).

A router whose rules come from the database refreshes them before a message is routed through a
`Refresh`, which never holds the message up for long: with the database down or slow, the rules
it has answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Awaitable[Any]]
# A matcher looks at the message and says whether it applies and what it captured.
Matcher = Callable[[Any], "Captured | None"]


@dataclass(frozen=True)
class Captured:
    args: str = ""
    match: re.Match | None = None


@dataclass(frozen=True)
class Rule:
    matcher: Matcher
    handler: Handler
    describe: str  # how the rule reads in `keywords test` and logs
    help: str | None = None  # a line for 帮助, if the rule is something followers should know


@dataclass(frozen=True)
class Step:
    """A pending conversation step: `accepts(text, data)` says whether input answers it."""

    kind: str
    accepts: Callable[[str, dict], bool]
    handler: Handler


@dataclass(frozen=True)
class Routed:
    handler: Handler
    captured: Captured
    describe: str


# wechatpy's field accessors convert on every read; a message is routed through dozens of rules,
# so its text and event name are worked out once and kept on the message object.
_TEXT = "_router_text"
_EVENT = "_router_event"
_UNSET = object()


def text_of(message: Any) -> str | None:
    """The stripped text of a text message, else None (computed once per message)."""
    found = getattr(message, _TEXT, _UNSET)
    if found is _UNSET:
        found = message.content.strip() if getattr(message, "type", None) == "text" else None
        _remember(message, _TEXT, found)
    return found


def event_of(message: Any) -> str | None:
    """The lower-case event name of an event, else None (computed once per message)."""
    found = getattr(message, _EVENT, _UNSET)
    if found is _UNSET:
        found = (message.event or "").lower() if getattr(message, "type", None) == "event" else None
        _remember(message, _EVENT, found)
    return found


def _remember(message: Any, name: str, value: str | None) -> None:
    try:
        setattr(message, name, value)
    except AttributeError:  # an object with __slots__: recomputed next time, still correct
        pass


@dataclass
class Router:
    name: str
    rules: list[Rule] = field(default_factory=list)
    steps: dict[str, Step] = field(default_factory=dict)

    def rule(self, matcher: Matcher, describe: str, help: str | None = None):
        """A rule with its own matcher: `matcher(message) -> Captured | None`."""
        def decorator(handler: Handler) -> Handler:
            self.rules.append(Rule(matcher, handler, f"{self.name}: {describe}", help))
            return handler

        return decorator

    def exact(self, *words: str, help: str | None = None, case: bool = False):
        keys = {w if case else w.lower() for w in words}

        def m(msg):
            t = text_of(msg)
            if t is not None and (t if case else t.lower()) in keys:
                return Captured()
            return None

        return self.rule(m, f"exact {'/'.join(words)}", help)

    def prefix(self, *prefixes: str, help: str | None = None):
        """`新闻 关键词` → ctx.args == "关键词". The bare prefix matches too (args == "")."""

        def m(msg):
            t = text_of(msg)
            if t is None:
                return None
            for p in prefixes:
                if t.lower().startswith(p.lower()):
                    rest = t[len(p):]
                    if rest and not (rest[0].isspace() or rest[0] in ":：,，"):
                        continue
                    return Captured(args=rest.strip(" \t:：,，"))
            return None

        return self.rule(m, f"prefix {'/'.join(prefixes)}", help)

    def contains(self, *parts: str, help: str | None = None):
        def m(msg):
            t = text_of(msg)
            return Captured() if t is not None and any(p in t for p in parts) else None

        return self.rule(m, f"contains {'/'.join(parts)}", help)

    def regex(self, pattern: str | re.Pattern, help: str | None = None):
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern

        def m(msg):
            t = text_of(msg)
            found = rx.search(t) if t is not None else None
            return Captured(match=found) if found else None

        return self.rule(m, f"regex {rx.pattern}", help)

    def event(self, *names: str, help: str | None = None):
        keys = {n.lower() for n in names}

        def m(msg):
            return Captured() if event_of(msg) in keys else None

        return self.rule(m, f"event {'/'.join(names)}", help)

    def click(self, *keys: str, help: str | None = None):
        """A menu CLICK with one of these keys."""

        def m(msg):
            if event_of(msg) == "click" and msg.key in keys:
                return Captured(args=msg.key)
            return None

        return self.rule(m, f"click {'/'.join(keys)}", help)

    def scene(self, *scenes: str, help: str | None = None):
        """A QR scene, whether the follower subscribed by scanning it or scanned it while following."""

        def m(msg):
            if event_of(msg) in ("subscribe_scan", "scan") and str(msg.scene_id) in scenes:
                return Captured(args=str(msg.scene_id))
            return None

        return self.rule(m, f"scene {'/'.join(scenes)}", help)

    def message(self, *types: str, help: str | None = None):
        """Any message of these types (image, voice, video, location, link, text, event)."""

        def m(msg):
            return Captured() if getattr(msg, "type", None) in types else None

        return self.rule(m, f"type {'/'.join(types)}", help)

    def step(self, kind: str, accepts: Callable[[str, dict], bool]):
        def decorator(handler: Handler) -> Handler:
            self.steps[kind] = Step(kind, accepts, handler)
            return handler

        return decorator


def route(routers: Iterable[Router], message: Any) -> Routed | None:
    """The first rule, in router order then declaration order, that matches the message."""
    for router in routers:
        for rule in router.rules:
            captured = rule.matcher(message)
            if captured is not None:
                return Routed(rule.handler, captured, rule.describe)
    return None


def find_step(routers: Iterable[Router], kind: str) -> Step | None:
    for router in routers:
        if kind in router.steps:
            return router.steps[kind]
    return None


def help_lines(routers: Iterable[Router]) -> list[str]:
    return [rule.help for router in routers for rule in router.rules if rule.help]


class Refresh:
    """`await refresh()` before routing: runs `load()` at most every `every` seconds (the injected
    clock) in a task of its own, and the message that started it waits for it at most `wait`
    seconds (real time); others do not wait for it. Meanwhile, or when it fails, what the router
    has answers. A failing load is logged when it starts failing and
    when it works again, not at every message."""

    def __init__(self, name: str, load: Callable[[], Awaitable[object]], clock: Any, every: float,
                 wait: float = 0.2) -> None:
        self.name = name
        self.load = load
        self.clock = clock
        self.every = every
        self.wait = wait
        self._next = float("-inf")
        self._task: asyncio.Task | None = None
        self._failing = False

    async def __call__(self) -> None:
        task = self._task
        if task is not None:
            if task.done():
                self._task = None
            return  # started for an earlier message and not done: do not make this one wait too
        if self.clock.monotonic() < self._next:
            return
        self._next = self.clock.monotonic() + self.every
        task = self._task = asyncio.ensure_future(self._run())
        await asyncio.wait({task}, timeout=self.wait)
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
