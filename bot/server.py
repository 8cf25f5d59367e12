"""The webhook: one straight path per push, verify → decrypt → parse → dedupe → route → handler →
render → encrypt → respond (wechat-api.md §1–2). Nothing here knows what a reply says.

GET answers WeChat's one-off URL check. POST answers 403 for anything unauthenticated (before a
byte of the body is parsed), 413 for an oversized body, 400 for a body that is not a WeChat
message, and otherwise the passive reply or `success`. No request gets a 500: the middleware
turns anything unexpected into a logged `success`.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Sequence

from aiohttp import web

from bot import messagelog, protocol, render
from bot.context import Services
from bot.dedupe import Dedupe, key_of
from bot.dispatch import Dispatcher
from bot.protocol import Rejected
from bot.router import Router

log = logging.getLogger(__name__)


class Webhook:
    def __init__(self, services: Services, routers: Sequence[Router]) -> None:
        settings = services.settings
        self.services = services
        self.clock = services.clock
        self.token = settings.wechat.token
        self.window = settings.server.timestamp_window_seconds
        self.max_body = settings.server.max_body_bytes
        self.budget = settings.server.reply_budget_seconds
        self.envelope = protocol.Envelope(settings.wechat) if settings.wechat.encoding_aes_key else None
        self.dispatcher = Dispatcher(services, routers)
        self.dedupe = Dedupe(services.shared, self.clock, settings.server.dedupe_ttl_seconds)

    async def check(self, request: web.Request) -> web.Response:
        """GET: WeChat checks the URL by asking us to echo `echostr` (plaintext in every mode)."""
        try:
            protocol.verify_signature(self.token, request.query)
        except Rejected as e:
            return web.Response(status=e.status, text=e.reason)
        echostr = request.query.get("echostr")
        if echostr is None:
            return web.Response(status=403, text="no echostr")
        return web.Response(text=echostr)

    async def receive(self, request: web.Request) -> web.Response:
        started = self.clock.monotonic()
        query = request.query
        aes = query.get("encrypt_type", "raw").lower() == "aes"
        try:
            protocol.verify_signature(self.token, query)
            protocol.verify_fresh(query["timestamp"], self.clock.time(), self.window)
            body = await self._body(request)
            xml = self._decrypt(body, query) if aes else body
            message = protocol.parse(xml)
        except Rejected as e:
            log.info("webhook: %s %s from %s", e.status, e.reason, request.remote)
            return web.Response(status=e.status, text=e.reason)

        key = key_of(message)
        answer = await self.dedupe.once(
            key,
            lambda version: self.dispatcher.answer(message, key, started, version),
            started + self.budget,
            read=self.dispatcher.store.version_key_of(message),  # with the claim: one round trip
        )
        if answer == render.SUCCESS:
            return web.Response(text=answer)
        if aes:
            answer = self.envelope.seal(answer, query["nonce"], query["timestamp"])
        return web.Response(text=answer, content_type="application/xml")

    async def _body(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > self.max_body:
            raise Rejected(413, "body too large")
        try:
            return await request.read()  # bounded by the app's client_max_size
        except web.HTTPRequestEntityTooLarge:
            raise Rejected(413, "body too large") from None

    def _decrypt(self, body: bytes, query) -> str:
        if self.envelope is None:
            raise Rejected(403, "safe mode is not configured ([wechat] encoding_aes_key)")
        return self.envelope.open(body, query)

    async def start(self) -> None:
        messagelog.of(self.services).start()
        await self.dispatcher.start()
        # Everything loaded so far (modules, settings, routers, caches) lives as long as the
        # process: moved out of the collector's sight, so the full collections that a busy webhook
        # triggers do not walk it each time (they showed up as p99 stalls).
        if not gc.get_freeze_count():  # once per process (tests start many apps)
            gc.collect()
            gc.freeze()

    async def stop(self) -> None:
        await self.dispatcher.drain()
        await self.dedupe.drain()
        await messagelog.of(self.services).stop()


@web.middleware
async def never_500(request: web.Request, handler):
    """Whatever goes wrong, WeChat gets `success` (no retry storm, no error shown to the
    follower) and the log gets the stack trace; other callers get a plain 400."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("webhook: unexpected error on %s %s", request.method, request.path)
        if request.method == "POST":
            return web.Response(text=render.SUCCESS)
        return web.Response(status=400, text="bad request")


WEBHOOK = web.AppKey("webhook", Webhook)


def make_app(services: Services, routers: Sequence[Router] | None = None) -> web.Application:
    """The webhook application on `[server] webhook_path` (routers default to handlers.ROUTERS)."""
    if routers is None:
        from handlers import ROUTERS as routers
    settings = services.settings
    app = web.Application(middlewares=[never_500], client_max_size=settings.server.max_body_bytes)
    hook = app[WEBHOOK] = Webhook(services, routers)
    app.router.add_get(settings.server.webhook_path, hook.check)
    app.router.add_post(settings.server.webhook_path, hook.receive)

    async def on_startup(_app: web.Application) -> None:
        await hook.start()

    async def on_cleanup(_app: web.Application) -> None:
        await hook.stop()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app
