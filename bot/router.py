"""Routing: rules declared next to their handlers, consulted in one explicit order.

A handler is a plain `async def handler(message, ctx) -> Reply | None`. Each handlers module
makes a `Router` and decorates its handlers with rules; `app.ROUTERS` lists the routers in
priority order. What a rule captured reaches the handler as `ctx.args` (the text after a prefix)
and `ctx.match` (a regex match). A follower's pending step is tried before any rule, and only
when the input answers it (its `accepts` predicate).

A router is a plain declaration, the same object in every process; what it needs of a process
comes with the call. A matcher is `matcher(message, services)`, and a router may declare, with the
process's services as their argument:

- `on_startup` hooks, run once when the webhook starts (seed and load a table, build an index);
- `on_route` hooks, run before each message is routed (see that a table is current: they refresh
  through core.refresh.Refresh, which never holds a message up for long);
- `live` rules: rules that come from the database (the editors' keyword rules), tried after the
  router's declared ones.

A router marked `trial` changes nothing and needs no follower, so a trial run (bot/trial.py:
`keywords test`) may run its handlers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[Any, Any], Awaitable[Any]]
# A matcher looks at the message (and the process's services, if it needs them: the member index)
# and says whether it applies and what it captured.
Matcher = Callable[[Any, Any], "Captured | None"]
# A router's startup or before-routing work, given the process's services.
Hook = Callable[[Any], Awaitable[None]]


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
    words: frozenset[str] | None = None  # a case-blind exact rule's words (see `_plan`)


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
    router: Router


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
    startup: list[Hook] = field(default_factory=list)
    before_route: list[Hook] = field(default_factory=list)
    live: Callable[[Any], Iterable[Rule]] | None = None  # services → the rules read from the database
    trial: bool = False  # its handlers change nothing: a trial run may run them
    clicks: list[str] = field(default_factory=list)  # the menu CLICK keys its rules answer (the menu editor offers them)
    _planned: tuple | None = field(default=None, repr=False, compare=False)  # (live rules, declared count, plan)

    def on_startup(self, hook: Hook) -> Hook:
        self.startup.append(hook)
        return hook

    def on_route(self, hook: Hook) -> Hook:
        self.before_route.append(hook)
        return hook

    def plan(self, services: Any) -> list[Rule | dict[str, Rule]]:
        """The declared rules, then the live ones, as `route` tries them (`_plan`); made again
        when either changes."""
        live = None if self.live is None else self.live(services)
        made = self._planned
        if made is None or made[0] is not live or made[1] != len(self.rules):
            made = self._planned = (live, len(self.rules), _plan([*self.rules, *(live or ())]))
        return made[2]

    def rule(self, matcher: Matcher, describe: str, help: str | None = None, words: frozenset[str] | None = None):
        """A rule with its own matcher: `matcher(message, services) -> Captured | None`."""
        def decorator(handler: Handler) -> Handler:
            self.rules.append(Rule(matcher, handler, f"{self.name}: {describe}", help, words))
            return handler

        return decorator

    def exact(self, *words: str, help: str | None = None, case: bool = False):
        keys = {w if case else w.lower() for w in words}

        def m(msg, services):
            t = text_of(msg)
            if t is not None and (t if case else t.lower()) in keys:
                return Captured()
            return None

        return self.rule(m, f"exact {'/'.join(words)}", help, None if case else frozenset(keys))

    def prefix(self, *prefixes: str, help: str | None = None):
        """`新闻 关键词` → ctx.args == "关键词". The bare prefix matches too (args == "")."""

        def m(msg, services):
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
        def m(msg, services):
            t = text_of(msg)
            return Captured() if t is not None and any(p in t for p in parts) else None

        return self.rule(m, f"contains {'/'.join(parts)}", help)

    def regex(self, pattern: str | re.Pattern, help: str | None = None):
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern

        def m(msg, services):
            t = text_of(msg)
            found = rx.search(t) if t is not None else None
            return Captured(match=found) if found else None

        return self.rule(m, f"regex {rx.pattern}", help)

    def event(self, *names: str, help: str | None = None):
        keys = {n.lower() for n in names}

        def m(msg, services):
            return Captured() if event_of(msg) in keys else None

        return self.rule(m, f"event {'/'.join(names)}", help)

    def click(self, *keys: str, help: str | None = None):
        """A menu CLICK with one of these keys."""
        self.clicks.extend(k for k in keys if k not in self.clicks)

        def m(msg, services):
            if event_of(msg) == "click" and msg.key in keys:
                return Captured(args=msg.key)
            return None

        return self.rule(m, f"click {'/'.join(keys)}", help)

    def scene(self, *scenes: str, help: str | None = None):
        """A QR scene, whether the follower subscribed by scanning it or scanned it while following."""

        def m(msg, services):
            if event_of(msg) in ("subscribe_scan", "scan") and str(msg.scene_id) in scenes:
                return Captured(args=str(msg.scene_id))
            return None

        return self.rule(m, f"scene {'/'.join(scenes)}", help)

    def message(self, *types: str, help: str | None = None):
        """Any message of these types (image, voice, video, location, link, text, event)."""

        def m(msg, services):
            return Captured() if getattr(msg, "type", None) in types else None

        return self.rule(m, f"type {'/'.join(types)}", help)

    def step(self, kind: str, accepts: Callable[[str, dict], bool]):
        def decorator(handler: Handler) -> Handler:
            self.steps[kind] = Step(kind, accepts, handler)
            return handler

        return decorator


def _plan(rules: list[Rule]) -> list[Rule | dict[str, Rule]]:
    """The rules in order, each run of case-blind exact rules as one map from word to its first
    rule: the editors' table is mostly exact keywords, and trying fifty matchers in turn was a
    twentieth of a message's work (the order, and so which rule wins, is the same)."""
    plan: list[Rule | dict[str, Rule]] = []
    for rule in rules:
        if rule.words is None:
            plan.append(rule)
            continue
        if not plan or not isinstance(plan[-1], dict):
            plan.append({})
        for word in rule.words:
            plan[-1].setdefault(word, rule)
    return plan


def route(routers: Iterable[Router], message: Any, services: Any) -> Routed | None:
    """The first rule, in router order then declaration order, that matches the message."""
    lowered = _UNSET
    for router in routers:
        for rule in router.plan(services):
            if isinstance(rule, dict):
                if lowered is _UNSET:
                    text = text_of(message)
                    lowered = None if text is None else text.lower()
                if lowered is None or (rule := rule.get(lowered)) is None:
                    continue
                return Routed(rule.handler, Captured(), rule.describe, router)
            captured = rule.matcher(message, services)
            if captured is not None:
                return Routed(rule.handler, captured, rule.describe, router)
    return None


def find_step(routers: Iterable[Router], kind: str) -> Step | None:
    for router in routers:
        if kind in router.steps:
            return router.steps[kind]
    return None


def help_lines(routers: Iterable[Router]) -> list[str]:
    return [rule.help for router in routers for rule in router.rules if rule.help]
