"""Editors' keyword rules answered: each rule of the process's table (store/keywords.py, where they
are added, removed and seeded) becomes a rule of this router, with the same matchers as the
built-in rules, in the table's order. The table is seeded from `[[keywords]]` and read when the
webhook starts, and checked for changes before each message is routed."""

from __future__ import annotations

import logging
import re
from typing import Any

from bot.context import Context
from bot.router import Router, Rule
from core.services import Services
from store import keywords
from store.models.webhook import KeywordRule
from wechat.replies import News, NewsItem, Reply, Text

log = logging.getLogger(__name__)


def reply_of(rule: KeywordRule) -> Reply:
    if rule.reply_type == "news":
        return News([NewsItem(title=rule.title, description=rule.reply, url=rule.url, picurl=rule.picurl)])
    return Text(rule.reply)


def compile_rules(rules: list[KeywordRule]) -> list[Rule]:
    """The table's rules as router rules (made again only when the table changed)."""
    compiled: list[Rule] = []
    for rule in rules:
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
        compiled.extend(one.rules)
    return compiled


router = Router("keywords", live=lambda services: services.keywords.derived(compile_rules), trial=True)


@router.on_startup
async def seed_and_load(services: Services) -> None:
    """Seed `[[keywords]]`, then read the table."""
    await keywords.seed(services)
    await services.keywords.refresh()


@router.on_route
async def keep_current(services: Services) -> None:
    await services.keywords.refresh_soon()
