"""bot/dispatch.py's routing on its own, with the stand-ins of tests/test_dispatch_budget.py: a
pending step takes only what it accepts, an unknown step and a router that cannot refresh still
route, the handler gets the follower and what its rule captured, held texts join the new one."""

from __future__ import annotations

import logging

from bot.router import Router
from tests import test_dispatch_budget as budget
from tests.test_dispatch_budget import OPENID, Log, Store, answer, make, protocol_content
from tests.webhook_helpers import text_xml
from wechat import protocol, render
from wechat.replies import Text

delivered = budget.delivered  # the stand-in outbox fixture


async def test_the_handler_gets_the_follower_and_the_captured_text(delivered):
    store, log = Store(), Log()
    seen = {}
    router = Router("t")

    @router.prefix("问")
    async def asked(message, ctx):
        seen.update(openid=ctx.openid, follower=ctx.follower, args=ctx.args)
        return None

    d = make(store, log, None)
    d.routers = [router]
    message = protocol.parse(text_xml(OPENID, "问 一下"))
    assert await d.answer(message, "k2", d.services.clock.monotonic()) == render.SUCCESS
    assert seen == {"openid": OPENID, "follower": store.follower, "args": "一下"}


async def test_a_router_that_cannot_refresh_still_routes_and_says_why(delivered, caplog):
    store, log = Store(), Log()
    router = Router("rules")

    @router.on_route
    async def refresh(services):
        raise OSError("db away")

    @router.contains("问")
    async def asked(message, ctx):
        return Text("照旧")

    d = make(store, log, None)
    d.routers = [router]
    with caplog.at_level(logging.WARNING, logger="bot.dispatch"):
        assert protocol_content(await answer(d)) == "照旧"
    assert "routing with what rules has: db away" in caplog.messages


async def test_a_pending_step_takes_the_answer_it_accepts_and_an_unknown_one_routes(delivered):
    store, log = Store(), Log()
    router = Router("t")

    @router.step("ask", accepts=lambda text, data: text in data["options"])
    async def answered(message, ctx):
        return Text("步骤:" + message.content)

    @router.contains("")
    async def anything(message, ctx):
        return Text("规则")

    d = make(store, log, None)
    d.routers = [router]
    far = d.services.clock.time() + 600
    for kind, options, said, expected in (("ask", ["是"], "是", "步骤:是"), ("ask", ["否"], "是", "规则"),
                                          ("gone", ["是"], "是", "规则")):
        store.follower.state = {"kind": kind, "data": {"options": options}, "expires": far}
        message = protocol.parse(text_xml(OPENID, said))
        assert protocol_content(await d.answer(message, "k3", d.services.clock.monotonic())) == expected


async def test_two_texts_are_joined_and_a_regex_handler_gets_its_match(delivered):
    store, log = Store(), Log()
    store.follower.taken = [Text("留言")]
    router = Router("t")
    seen = {}

    @router.regex(r"^问(.+)$")
    async def asked(message, ctx):
        seen["match"] = ctx.match.group(1)
        return Text("答")

    d = make(store, log, None)
    d.routers = [router]
    assert protocol_content(await answer(d)) == "留言\n\n答"
    assert seen == {"match": "一下"}
