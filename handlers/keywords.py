"""Editors' keyword rules: keyword → text or news reply, stored in the database and changed at
run time (`main.py keywords ...`) without a restart.

Each process keeps the rules in memory (compiled into a Router) and checks at most once per
`REFRESH_SECONDS` (injected clock) whether the largest `revision` in the table moved; every
write takes max(revision) + 1, so a rule added by the CLI in another process answers within a
second. Rules are tried by priority (lower number first), then exact before prefix before
contains before regex, then oldest first. `[[keywords]]` in config.toml seeds rules that were
never seeded before: a seeded rule an editor deleted stays deleted.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.context import Context, Services
from bot.router import Refresh, Router
from handlers import texts
from store.models.webhook import KeywordRule
from wechat.replies import News, NewsItem, Reply, Text

log = logging.getLogger(__name__)

REFRESH_SECONDS = 1.0
MATCHES = ("exact", "prefix", "contains", "regex")


class RuleError(ValueError):
    """A rule that cannot be stored as given (the message says why)."""


def reply_of(rule: KeywordRule) -> Reply:
    if rule.reply_type == "news":
        return News([NewsItem(title=rule.title, description=rule.reply, url=rule.url, picurl=rule.picurl)])
    return Text(rule.reply)


def _order(rule: KeywordRule) -> tuple:
    return (rule.priority, MATCHES.index(rule.match) if rule.match in MATCHES else 9, rule.id)


def compile_rules(rules: list[KeywordRule]) -> Router:
    """The live rules as a Router (the same matchers as built-in rules)."""
    compiled = Router("keywords")
    for rule in sorted(rules, key=_order):
        answer = reply_of(rule)

        async def handler(message: Any, ctx: Context, _answer: Reply = answer) -> Reply:
            return _answer

        handler.__name__ = f"keyword_rule_{rule.id}"
        # A router per rule only to name it: "keyword rule #3: exact 联系方式" in `keywords test`.
        one = Router(f"keyword rule #{rule.id}")
        try:
            getattr(one, rule.match)(rule.pattern)(handler)
        except (AttributeError, re.error) as e:
            log.error("keyword rule #%s skipped: %s", rule.id, e)
            continue
        compiled.rules.extend(one.rules)
    return compiled


@dataclass
class KeywordRules(Router):
    """In `handlers.ROUTERS` unbound (no rules); the dispatcher binds it to its process's services."""

    services: Services | None = None
    revision: int | None = None
    checked: float = float("-inf")
    _refreshing: Refresh | None = None

    def bind(self, services: Services) -> KeywordRules:
        return KeywordRules(self.name, services=services)

    async def start(self) -> None:
        """At serve start-up: seed `[[keywords]]`, then load."""
        await seed(self.services)
        await self.refresh()

    async def prepare(self) -> None:
        """Before routing: reload if another process changed the rules (checked once a second,
        never holding a message up for long: the current rules answer meanwhile)."""
        if self._refreshing is None:
            self._refreshing = Refresh("keyword rules", self.refresh, self.services.clock, REFRESH_SECONDS)
        await self._refreshing()

    async def refresh(self) -> None:
        async with self.services.db() as session:
            revision = await session.scalar(select(func.max(KeywordRule.revision)))
            if revision != self.revision:
                rows = list((await session.execute(
                    select(KeywordRule).where(KeywordRule.deleted.is_(False))
                )).scalars())
                self.rules = compile_rules(rows).rules
                self.revision = revision
        self.checked = self.services.clock.monotonic()


router = KeywordRules("keywords")


# --- editing (the CLI and the demo loader) ------------------------------------------------------


def validate(match: str, pattern: str, reply: str, reply_type: str, url: str) -> None:
    if match not in MATCHES:
        raise RuleError(texts.RULE_BAD_MATCH.format(choices="、".join(MATCHES)))
    if not pattern.strip():
        raise RuleError(texts.RULE_NO_PATTERN)
    if not reply.strip():
        raise RuleError(texts.RULE_NO_REPLY)
    if match == "regex":
        try:
            re.compile(pattern)
        except re.error as e:
            raise RuleError(texts.RULE_BAD_REGEX.format(error=e)) from None
    if reply_type == "news" and not url:
        raise RuleError(texts.RULE_NEWS_NEEDS_URL)


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


async def list_rules(services: Services) -> list[KeywordRule]:
    async with services.db() as session:
        rows = (await session.execute(select(KeywordRule).where(KeywordRule.deleted.is_(False)))).scalars()
        return sorted(rows, key=_order)


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


@dataclass(frozen=True)
class Explanation:
    """Which rule answers a text (`rule`: its description, None if none) and, when it could be run
    without side effects, what it says (`reply`)."""

    rule: str | None
    reply: Reply | None = None
    ran: bool = False


async def explain(services: Services, text: str) -> Explanation:
    """`keywords test`: which rule would answer `text` (built-in or editor rule) and what it says.
    Editors' rules, help and the fallback are run; other built-in commands are only named, because
    their answers depend on data and some change it (binding)."""
    from wechatpy.messages import TextMessage

    from bot.conversation import NoConversation
    from bot.router import route
    from handlers import ROUTERS

    routers = [r.bind(services) if hasattr(r, "bind") else r for r in ROUTERS]
    for r in routers:
        if hasattr(r, "refresh"):
            await r.refresh()
    message = TextMessage({"ToUserName": services.settings.wechat.account_id, "FromUserName": "keywords-test",
                           "CreateTime": "0", "MsgType": "text", "Content": text, "MsgId": "0"})
    routed = route(routers, message)
    if routed is None:
        return Explanation(None)
    if not routed.describe.startswith(("keyword rule", "help:", "fallback:")):
        return Explanation(routed.describe)
    ctx = Context(services, "keywords-test", None, NoConversation(), routed.captured.args, routed.captured.match)
    return Explanation(routed.describe, await routed.handler(message, ctx), ran=True)
