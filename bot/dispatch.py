"""From a parsed message to the passive answer, within the reply budget.

`Dispatcher.answer()` tracks the follower, consults their pending step, then the routers, runs
the handler as a task and waits for it at most until `[server] reply_budget_seconds` after the
request arrived. A slower handler gets `success` (WeChat then neither retries nor shows an error)
and keeps running; its reply goes out through the outbox when done. Every task started here is
tracked and awaited on shutdown (`drain()`).

What the answer is made of is decided in `compose()`: replies held for the follower go first,
news are cut to the platform's article limit, and text beyond 2,048 bytes continues through
customer-service messages if the window allows, else behind 「更多」.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from bot import followers, messagelog, outbox, render
from bot.context import Context, Services
from bot.conversation import Conversation, NoConversation
from bot.replies import News, Reply, Text
from bot.router import Captured, Router, find_step, route, text_of
from bot.shared import NOT_READ
from handlers import texts

log = logging.getLogger(__name__)

# The reply machinery's own step: the rest of a long text, one part per 「更多」.
replies_router = Router("replies")


@replies_router.step("more", accepts=lambda text, data: text == texts.MORE)
async def more(message: Any, ctx: Context) -> Reply | None:
    pending = ctx.state.pending
    parts = list((pending[1] if pending else {}).get("parts") or [])
    if not parts:
        await ctx.state.clear()
        return None
    if len(parts) > 1:
        await ctx.state.expect("more", {"parts": parts[1:]}, texts.MORE_TTL_SECONDS)
        return Text(parts[0] + texts.MORE_HINT)
    await ctx.state.clear()
    return Text(parts[0])


def summary(message: Any) -> tuple[str, str]:
    """(type, content) of an inbound message for the log."""
    kind = message.type
    if kind == "text":
        return kind, message.content
    if kind == "event":
        data = message._data
        return f"event:{(message.event or '').lower()}", str(data.get("EventKey") or "")
    data = message._data
    for field in ("Recognition", "Label", "Url", "PicUrl", "MediaId"):
        if data.get(field):
            return kind, str(data[field])
    return kind, ""


class Dispatcher:
    def __init__(self, services: Services, routers: Sequence[Router]) -> None:
        self.services = services
        # A router that needs the process's services (the editors' keyword cache) binds to them.
        self.routers = [r.bind(services) if hasattr(r, "bind") else r for r in routers]
        self._prepare = [r.prepare for r in self.routers if hasattr(r, "prepare")]
        self.store = followers.of(services)
        self.log = messagelog.of(services)
        self.budget = services.settings.server.reply_budget_seconds
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coro: Coroutine) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def start(self) -> None:
        """Let routers that keep state (the keyword cache and its seeding) get ready."""
        for router in self.routers:
            if hasattr(router, "start"):
                await router.start()

    async def drain(self) -> None:
        """Wait for every handler and delivery still running (shutdown)."""
        while self.tasks:
            await asyncio.gather(*list(self.tasks), return_exceptions=True)

    async def answer(self, message: Any, key: str, started: float, version: object = NOT_READ) -> str:
        """The passive reply XML, or `success`. `version`: the sender's record version, if the
        caller read it already (FollowerStore.version_key_of)."""
        clock = self.services.clock
        openid = message.source
        follower = None
        state: Any = NoConversation()
        if followers.from_follower(message):
            follower = await self.store.get(openid, version)
            self.store.touch(follower, message)
            state = Conversation(self.store, follower, clock)
        self.log.record(openid, "in", "webhook", *summary(message), msg_key=key)
        held = outbox.take_held(self.services, follower) if follower is not None else []

        task = self.spawn(self.handle(message, follower, state))
        remaining = self.budget - (clock.monotonic() - started)
        try:
            reply = await asyncio.wait_for(asyncio.shield(task), max(remaining, 0.0))
        except TimeoutError:
            log.info("handler for %s is past the budget; answering success, reply follows", key)
            task.add_done_callback(lambda t: self._late(t, openid, held, follower))
            await self._sync(follower)
            return render.SUCCESS

        passive, later = await self.compose(message, follower, state, held, reply)
        # Before the follower can answer: what other processes must see of this exchange.
        await self._sync(follower)
        if later and follower is not None:
            self.spawn(outbox.deliver(self.services, openid, later))
        if passive is None:
            return render.SUCCESS
        elapsed_ms = (clock.monotonic() - started) * 1000
        self.log.record(openid, "out", "passive", *render.describe(passive), msg_key=key, elapsed_ms=elapsed_ms)
        return render.to_xml(passive, openid, message.target, int(clock.time()))

    async def handle(self, message: Any, follower: Any, state: Any) -> Reply | None:
        """The pending step if the input answers it, else the first matching rule's handler."""
        handler, captured = None, Captured()
        pending = state.pending
        text = text_of(message)
        if pending is not None and text is not None:
            step = find_step([replies_router, *self.routers], pending[0])
            if step is not None and step.accepts(text, pending[1]):
                handler = step.handler
        if handler is None:
            for prepare in self._prepare:
                await prepare()
            routed = route(self.routers, message)
            if routed is None:
                return None
            handler, captured = routed.handler, routed.captured
        ctx = Context(self.services, message.source, follower, state, captured.args, captured.match)
        try:
            return await handler(message, ctx)
        except Exception:
            log.exception("handler %s failed on %s from %s", getattr(handler, "__name__", handler),
                          message.type, message.source)
            return Text(texts.ERROR)

    async def compose(
        self, message: Any, follower: Any, state: Any, held: list[Reply], reply: Reply | None
    ) -> tuple[Reply | None, list[Reply]]:
        """(passive reply, replies to deliver after it)."""
        items = [*held, *([reply] if reply is not None else [])]
        if not items:
            return None, []
        if len(items) > 1 and all(isinstance(i, Text) for i in items):
            items = [Text("\n\n".join(i.content for i in items))]
        first, later = items[0], items[1:]
        if isinstance(first, News):
            first = render.fit_news(first, render.news_limit(message))
        if isinstance(first, Text):
            parts = render.split_text(first.content)
            if len(parts) > 1:
                if follower is not None and self.store.capacity(follower) >= len(parts) - 1 + len(later):
                    first, later = Text(parts[0]), [*(Text(p) for p in parts[1:]), *later]
                elif follower is not None:
                    room = render.MAX_TEXT_BYTES - render.utf8_len(texts.MORE_HINT)
                    parts = render.split_text(first.content, room)
                    await state.expect("more", {"parts": parts[1:]}, texts.MORE_TTL_SECONDS)
                    first = Text(parts[0] + texts.MORE_HINT)
                else:
                    first = Text(parts[0])
        return first, later

    async def _sync(self, follower: Any) -> None:
        """Write the follower's conversation step and held replies for the other processes
        (bot/followers.py; a no-op in one process). A failure is retried with the next batch."""
        if follower is None:
            return
        try:
            await self.store.sync(follower)
        except Exception:
            log.exception("could not write the state of %s now; the next batch retries", follower.openid)

    def _late(self, task: asyncio.Task, openid: str, held: list[Reply], follower: Any) -> None:
        """A handler finished after the budget: its reply (after any held ones) via the outbox."""
        if task.cancelled() or task.exception() is not None or follower is None:
            return
        self.spawn(self._sync(follower))
        items = [*held, *([task.result()] if task.result() is not None else [])]
        if items:
            self.spawn(outbox.deliver(self.services, openid, items))
