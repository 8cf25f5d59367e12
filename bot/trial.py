"""A trial run: which rule of the real routers would answer a text, and what it says, without a
follower and without changing anything (`main.py keywords test`, and the coming console's "try a
message" box). Rules of routers marked `trial` (help, the editors' keyword rules, the fallback) are
run; any other rule is only named, because its answer depends on data and some change it (binding)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from wechatpy.messages import TextMessage

from bot.context import Context
from bot.conversation import NoConversation
from bot.router import Router, route
from core.services import Services
from wechat.replies import Reply

TRIAL_OPENID = "keywords-test"


@dataclass(frozen=True)
class Explanation:
    """Which rule answers a text (`rule`: its description, None if none) and, when it could be run
    without side effects, what it says (`reply`)."""

    rule: str | None
    reply: Reply | None = None
    ran: bool = False

    @property
    def keyword_rule_id(self) -> int | None:
        """The editors' keyword rule that answers (handlers/keywords.py names each "keyword rule #N"),
        or None when a built-in rule does, or none."""
        found = re.match(r"keyword rule #(\d+):", self.rule or "")
        return int(found.group(1)) if found else None


async def explain(services: Services, routers: Sequence[Router], text: str) -> Explanation:
    # The tables routing reads, as they are now (a serve process keeps them current on its own).
    await services.keywords.refresh()
    await services.members.current()
    message = TextMessage({"ToUserName": services.settings.wechat.account_id, "FromUserName": TRIAL_OPENID,
                           "CreateTime": "0", "MsgType": "text", "Content": text, "MsgId": "0"})
    routed = route(routers, message, services)
    if routed is None:
        return Explanation(None)
    if not routed.router.trial:
        return Explanation(routed.describe)
    ctx = Context(services, TRIAL_OPENID, None, NoConversation(), routed.captured.args, routed.captured.match,
                  routers)
    return Explanation(routed.describe, await routed.handler(message, ctx), ran=True)
