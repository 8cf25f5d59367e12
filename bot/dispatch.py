"""From a parsed message to the passive answer, within the reply budget.

`Dispatcher.answer()` tracks the follower, consults their pending step, then the routers, runs
the handler as a task and waits for it at most until `[server] reply_budget_seconds` after the
request arrived. Every wait on the way is bounded by that budget, the follower's record included:
a record that cannot be read in time is stood in for (bot/followers.py). A slower handler gets
`success` (WeChat then neither retries nor shows an error) and keeps running; its reply goes out
through the outbox when done. When the database is not answering (`LogWriter.in_trouble()`, or
the record could not be read) the follower gets the error text instead of silence: a reply that
needs no database comes as usual, and one that needed it may still follow later. A late failure is
logged, and told to the follower if nothing was. Every task started here is tracked and awaited
on shutdown (`drain()`), for at most DRAIN_SECONDS.

What the answer is made of is decided in `compose()`: replies held for the follower go first,
news are cut to the platform's article limit, and text beyond 2,048 bytes continues through
customer-service messages if the window allows, else behind 「更多」.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

from bot import followers, outbox, texts
from bot.context import Context
from bot.conversation import Conversation, NoConversation
from bot.router import Captured, Router, find_step, route, text_of
from core import logs, metrics
from core.eager import first_step
from core.services import Services
from core.shared import NOT_READ
from wechat import limits, protocol, render
from wechat.replies import News, Reply, Text

log = logging.getLogger(__name__)

DRAIN_SECONDS = 5.0  # at shutdown, how long handlers and deliveries still running are waited for

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
        data = protocol.fields(message)
        return f"event:{(message.event or '').lower()}", str(data.get("EventKey") or "")
    data = protocol.fields(message)
    for field in ("Recognition", "Label", "Url", "PicUrl", "MediaId"):
        if data.get(field):
            return kind, str(data[field])
    return kind, ""


class Dispatcher:
    def __init__(self, services: Services, routers: Sequence[Router]) -> None:
        self.services = services
        self.routers = list(routers)
        self.store = services.followers
        self.log = services.messagelog
        self.budget = services.settings.server.reply_budget_seconds
        self.tasks: set[asyncio.Task] = set()

    def spawn(self, coro: Coroutine) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_coro().__qualname__, exc_info=task.exception())

    async def start(self) -> None:
        """The routers' startup hooks (seed and load the keyword rules, build the member index)."""
        for router in self.routers:
            for hook in router.startup:
                await hook(self.services)

    async def drain(self, timeout: float = DRAIN_SECONDS) -> None:
        """Wait for every handler and delivery still running (shutdown), at most `timeout`
        seconds; what is still running then (waiting for a database that does not answer) is
        cancelled, and said so."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.tasks:
            left = deadline - loop.time()
            if left <= 0:
                log.error("shutdown: %d handlers or deliveries still waiting after %.0f s; cancelled",
                          len(self.tasks), timeout)
                for task in list(self.tasks):
                    task.cancel()
                await asyncio.gather(*list(self.tasks), return_exceptions=True)
                return
            await asyncio.wait(list(self.tasks), timeout=left)

    async def answer(self, message: Any, key: str, started: float, version: object = NOT_READ) -> str:
        """The passive reply XML, or `success`. `version`: the sender's record version, if the
        caller read it already (FollowerStore.version_key_of)."""
        clock = self.services.clock
        deadline = started + self.budget
        openid = message.source
        follower = None
        state: Any = NoConversation()
        trouble = False
        if followers.from_follower(message):
            follower = self.store.cached(openid, version)
            if follower is None:  # first message here: the row, read within half of what is left
                follower = await self.store.get_within(openid, version, (deadline - clock.monotonic()) / 2)
                trouble = self.store.is_provisional(openid)
            self.store.touch(follower, message)
            state = Conversation(self.store, follower, clock)
        self.log.record(openid, "in", "webhook", *summary(message), msg_key=key)
        held = outbox.take_held(self.services, follower) if follower is not None else []

        handling = self.handle(message, follower, state)
        try:
            finished, reply = first_step(handling)
        except Exception:  # the handling itself failed, before it waited for anything
            log.error("background task %s failed", handling.__qualname__, exc_info=True)
            return self._render(message, Text(texts.ERROR), key, started)
        if not finished:  # it waits for something: a task, waited for until the budget ends
            answered, reply = await self._within(message, key, started, reply, openid, held, follower, trouble)
            if answered is not None:
                return answered

        passive, later = await self.compose(message, follower, state, held, reply)
        # Before the follower can answer: what other processes must see of this exchange.
        await self._sync(follower, deadline)
        if later and follower is not None:
            self.spawn(outbox.deliver(self.services, openid, later))
        if passive is None:
            metrics.REPLIES.labels("success").inc()
            return render.SUCCESS
        return self._render(message, passive, key, started)

    async def _within(self, message: Any, key: str, started: float, rest: Coroutine, openid: str,
                      held: list[Reply], follower: Any, trouble: bool) -> tuple[str | None, Reply | None]:
        """(None, the reply) of the handling that had to wait, run as a task, if it finishes within
        the budget; else (the answer to give now, None)."""
        clock = self.services.clock
        deadline = started + self.budget
        task = self.spawn(rest)
        try:
            return None, await asyncio.wait_for(asyncio.shield(task), max(deadline - clock.monotonic(), 0.0))
        except Exception:
            if task.done():  # the handling itself failed (logged by `_done`)
                return self._render(message, Text(texts.ERROR), key, started), None
            fallback = Text(texts.ERROR) if trouble or self.log.in_trouble() else None
            metrics.DEADLINE_FALLBACKS.labels("error_text" if fallback else "success").inc()
            log.info("handler past the budget; answering %s, reply follows",
                     "the error text (database not answering)" if fallback else "success",
                     extra=logs.about(openid=openid, msg_key=key))
            task.add_done_callback(lambda t: self._late(t, openid, held, follower, fallback))
            await self._sync(follower, deadline)
            if fallback is None:
                metrics.REPLIES.labels("success").inc()
                return render.SUCCESS, None
            return self._render(message, fallback, key, started), None

    def _render(self, message: Any, passive: Reply, key: str, started: float) -> str:
        clock = self.services.clock
        elapsed_ms = (clock.monotonic() - started) * 1000
        kind, content = render.describe(passive)
        metrics.REPLIES.labels(kind).inc()
        self.log.record(message.source, "out", "passive", kind, content, msg_key=key, elapsed_ms=elapsed_ms)
        return render.to_xml(passive, message.source, message.target, int(clock.time()))

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
            for router in self.routers:
                for hook in router.before_route:
                    try:
                        await hook(self.services)
                    except Exception as e:  # a router that cannot refresh answers with what it has
                        log.warning("routing with what %s has: %s", router.name, e)
            routed = route(self.routers, message, self.services)
            if routed is None:
                return None
            handler, captured = routed.handler, routed.captured
        ctx = Context(self.services, message.source, follower, state, captured.args, captured.match,
                      self.routers)
        try:
            return await handler(message, ctx)
        except Exception:
            metrics.HANDLER_ERRORS.labels(getattr(handler, "__name__", str(handler))).inc()
            log.exception("handler %s failed on %s from %s", getattr(handler, "__name__", handler),
                          message.type, logs.hashed(message.source), extra=logs.about(openid=message.source))
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
                    room = limits.TEXT_BYTES - render.utf8_len(texts.MORE_HINT)
                    parts = render.split_text(first.content, room)
                    await state.expect("more", {"parts": parts[1:]}, texts.MORE_TTL_SECONDS)
                    first = Text(parts[0] + texts.MORE_HINT)
                else:
                    first = Text(parts[0])
        return first, later

    async def _sync(self, follower: Any, deadline: float | None = None) -> None:
        """Write the follower's conversation step and held replies for the other processes
        (bot/followers.py; a no-op in one process), waiting at most until `deadline`. A failure
        is retried with the next batch."""
        if follower is None or not self.store.needs_sync(follower):
            return
        syncing = asyncio.ensure_future(self.store.sync(follower))
        left = None if deadline is None else max(deadline - self.services.clock.monotonic(), 0.0)
        try:
            await asyncio.wait_for(asyncio.shield(syncing), left)
        except TimeoutError:
            syncing.add_done_callback(lambda t: t.cancelled() or t.exception())
            log.warning("the state of %s is not written yet; the next batch retries", logs.hashed(follower.openid))
        except Exception:
            log.exception("could not write the state of %s now; the next batch retries", logs.hashed(follower.openid))

    def _late(self, task: asyncio.Task, openid: str, held: list[Reply], follower: Any,
              answered: Reply | None) -> None:
        """A handler finished after the budget: its reply (after any held ones) via the outbox.
        `answered`: what the follower got meanwhile (the error text), if not `success`."""
        if task.cancelled():  # shutdown: what was held for the follower is held again
            log.warning("handler for %s cancelled after the budget (shutdown)", logs.hashed(openid))
            if follower is not None and held:
                outbox.hold_in_memory(self.services, follower, held)
            return
        if task.exception() is not None:
            log.error("handler for %s failed after the budget", logs.hashed(openid), exc_info=task.exception())
            reply = None if answered is not None else Text(texts.ERROR)  # say something, once
        else:
            reply = task.result()
            if reply == answered:  # the late answer is the error text the follower already has
                reply = None
        if follower is None:
            return
        self.spawn(self._sync(follower))
        items = [*held, *([reply] if reply is not None else [])]
        if items:
            self.spawn(outbox.deliver(self.services, openid, items))
