"""Editors' keyword rules (keyword → text or news reply): adding, removing, listing and seeding them,
and the table each process keeps of them. The webhook answers them (handlers/keywords.py); the CLI
(`main.py keywords …`) and the coming console change them, without a restart.

Every write takes max(revision) + 1, so a process sees that the rules changed by one look at the
largest revision: each process's KeywordTable looks at most once per `REFRESH_SECONDS` (injected
clock) and reads the rules again when it moved, so a rule added in another process answers within a
second. Rules are tried by priority (lower number first), then exact before prefix before contains
before regex, then oldest first. `[[keywords]]` in config.toml seeds rules that were never seeded
before: a seeded rule an editor deleted stays deleted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.refresh import Refresh
from store.models.webhook import KeywordRule

if TYPE_CHECKING:
    from core.clock import Clock
    from core.services import Services
    from store.db import SessionFactory

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
MATCHES = ("exact", "prefix", "contains", "regex")

# Why a rule cannot be stored (editors read these: `main.py keywords add`).
RULE_BAD_MATCH = "匹配方式应为 {choices} 之一"
RULE_NO_PATTERN = "关键词是空的"
RULE_NO_REPLY = "回复是空的"
RULE_BAD_REGEX = "不是有效的正则表达式：{error}"
RULE_NEWS_NEEDS_URL = "图文回复需要链接（--url）"


class RuleError(ValueError):
    """A rule that cannot be stored as given (the message says why)."""


def order(rule: KeywordRule) -> tuple:
    """The order rules are tried in."""
    return (rule.priority, MATCHES.index(rule.match) if rule.match in MATCHES else 9, rule.id)


class KeywordTable:
    """The rules not deleted, as this process last read them, and the revision they were read at."""

    def __init__(self, db: SessionFactory, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.rules: list[KeywordRule] = []
        self.revision: int | None = None
        self._refreshing = Refresh("keyword rules", self.refresh, clock, REFRESH_SECONDS)
        self._derived: tuple[Callable, int | None, Any] | None = None

    async def refresh(self) -> None:
        """Read the rules again if the largest revision moved."""
        async with self.db() as session:
            revision = await session.scalar(select(func.max(KeywordRule.revision)))
            if revision != self.revision:
                rows = (await session.execute(select(KeywordRule).where(KeywordRule.deleted.is_(False)))).scalars()
                self.rules = sorted(rows, key=order)
                self.revision = revision

    async def refresh_soon(self) -> None:
        """Before a message is routed: `refresh()` at most once a second, never holding the message
        up for long (the rules read before answer meanwhile, and while the database is down)."""
        await self._refreshing()

    def derived(self, make: Callable[[list[KeywordRule]], Any]) -> Any:
        """`make(rules)`, made again only when the rules changed (the webhook's matchers)."""
        if self._derived is None or self._derived[:2] != (make, self.revision):
            self._derived = (make, self.revision, make(self.rules))
        return self._derived[2]


# --- editing (the CLI, the demo loader and the coming console) ------------------------------------


def validate(match: str, pattern: str, reply: str, reply_type: str, url: str) -> None:
    if match not in MATCHES:
        raise RuleError(RULE_BAD_MATCH.format(choices="、".join(MATCHES)))
    if not pattern.strip():
        raise RuleError(RULE_NO_PATTERN)
    if not reply.strip():
        raise RuleError(RULE_NO_REPLY)
    if match == "regex":
        try:
            re.compile(pattern)
        except re.error as e:
            raise RuleError(RULE_BAD_REGEX.format(error=e)) from None
    if reply_type == "news" and not url:
        raise RuleError(RULE_NEWS_NEEDS_URL)


async def _next_revision(session) -> int:
    return (await session.scalar(select(func.max(KeywordRule.revision))) or 0) + 1


async def add_rule(
    services: Services,
    match: str,
    pattern: str,
    reply: str,
    *,
    priority: int = 100,
    title: str = "",
    url: str = "",
    picurl: str = "",
    seed_key: str | None = None,
) -> KeywordRule:
    reply_type = "news" if title or url else "text"
    validate(match, pattern, reply, reply_type, url)
    now = services.clock.now()
    async with services.db.begin() as session:
        rule = KeywordRule(
            match=match, pattern=pattern, reply=reply, reply_type=reply_type, title=title or pattern,
            url=url, picurl=picurl, priority=priority, deleted=False, seed_key=seed_key,
            revision=await _next_revision(session), created_at=now, updated_at=now,
        )
        session.add(rule)
    return rule


async def remove_rule(services: Services, rule_id: int) -> bool:
    async with services.db.begin() as session:
        rule = await session.get(KeywordRule, rule_id)
        if rule is None or rule.deleted:
            return False
        rule.deleted = True
        rule.revision = await _next_revision(session)
        rule.updated_at = services.clock.now()
    return True


async def edit_rule(
    services: Services,
    rule_id: int,
    match: str,
    pattern: str,
    reply: str,
    *,
    priority: int,
    title: str = "",
    url: str = "",
    picurl: str = "",
) -> tuple[KeywordRule, dict[str, tuple[object, object]]] | None:
    """Change a rule (checked as `add_rule` checks a new one); returns it with what changed
    (field → (before, after)), or None when there is no such rule. Every process answers with the
    new rule within a second (the revision moves)."""
    reply_type = "news" if title or url else "text"
    validate(match, pattern, reply, reply_type, url)
    values = {"match": match, "pattern": pattern, "reply": reply, "reply_type": reply_type,
              "title": title or pattern, "url": url, "picurl": picurl, "priority": priority}
    async with services.db.begin() as session:
        rule = await session.get(KeywordRule, rule_id)
        if rule is None or rule.deleted:
            return None
        changed = {k: (getattr(rule, k), v) for k, v in values.items() if getattr(rule, k) != v}
        if changed:
            for k, (_, v) in changed.items():
                setattr(rule, k, v)
            rule.revision = await _next_revision(session)
            rule.updated_at = services.clock.now()
    return rule, changed


async def reorder(services: Services, rule_ids: list[int]) -> list[KeywordRule]:
    """Put the rules in this order: each gets priority 10, 20, 30 … by its place (rules not named keep
    theirs). Returns the rules in their new order; unknown or deleted ids are left out."""
    async with services.db.begin() as session:
        revision = await _next_revision(session)
        now = services.clock.now()
        for place, rule_id in enumerate(dict.fromkeys(rule_ids), 1):
            rule = await session.get(KeywordRule, rule_id)
            if rule is None or rule.deleted or rule.priority == place * 10:
                continue
            rule.priority, rule.revision, rule.updated_at = place * 10, revision, now
    return await list_rules(services)


async def get_rule(services: Services, rule_id: int) -> KeywordRule | None:
    async with services.db() as session:
        rule = await session.get(KeywordRule, rule_id)
        return None if rule is None or rule.deleted else rule


async def list_rules(services: Services) -> list[KeywordRule]:
    async with services.db() as session:
        rows = (await session.execute(select(KeywordRule).where(KeywordRule.deleted.is_(False)))).scalars()
        return sorted(rows, key=order)


def seed_key(match: str, pattern: str) -> str:
    return f"{match}:{pattern}"[:600]


async def seed(services: Services) -> int:
    """Add the `[[keywords]]` rules never seeded before; returns how many were added."""
    seeds = services.settings.keywords
    if not seeds:
        return 0
    async with services.db() as session:
        known = set((await session.execute(
            select(KeywordRule.seed_key).where(KeywordRule.seed_key.is_not(None))
        )).scalars())
    added = 0
    for s in seeds:
        key = seed_key(s.match, s.pattern)
        if key in known:
            continue
        try:
            await add_rule(
                services, s.match, s.pattern, s.reply, priority=s.priority,
                title=s.title if s.reply_type == "news" else "", url=s.url, picurl=s.picurl, seed_key=key,
            )
        except IntegrityError:
            continue  # another process seeded it at the same moment
        except RuleError as e:
            log.error("[[keywords]] %s %r not seeded: %s", s.match, s.pattern, e)
            continue
        known.add(key)
        added += 1
    return added
