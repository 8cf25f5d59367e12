"""The webhook: one straight path per push, verify → read → decrypt → parse → dedupe → route →
handler → render → encrypt → respond (消息推送, 被动回复用户消息:
https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/message-push.html,
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html).
Nothing here knows what a reply says.

`webhook_app()` is an aiohttp application of its own, mounted by app.create_app on the root
application at `[server] webhook_path`, beside the other sub-apps (the coming console): its
middleware (`never_500`) and its body limit apply to the webhook's requests only.

GET answers WeChat's one-off URL check. POST, one status for each kind of request, never 500:

| request                                                                  | status          |
|--------------------------------------------------------------------------|-----------------|
| no or wrong `signature`; timestamp not a number or outside the window;   | 403             |
| plaintext in safe mode, encrypted in plain mode                          | (before the body is read) |
| body larger than `[server] max_body_bytes`                               | 413             |
| body not received within `[server] body_timeout_seconds`                | 408             |
| the server is shutting down while the body is still arriving             | 503 (WeChat retries) |
| wrong `msg_signature`, key or AppID; a signed query replayed with another body; ToUserName not this account | 403 |
| a body that is not a WeChat message (broken or hostile XML, bad encoding, undecodable compression, nested or oversized fields) | 400 |
| a WeChat message                                                         | 200, the reply or `success` |

Anything unexpected is logged and answered `success` (no retry storm, no error shown to the
follower). A replay or a wrong ToUserName can only be told once the body is read (and, for the
dedupe round trip, parsed by the entity-less parser); no handler runs for either.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.dedupe import Dedupe, key_of
from bot.dispatch import Dispatcher
from bot.router import Router
from core import metrics
from core.services import Services
from wechat import protocol, render
from wechat.protocol import Rejected

log = logging.getLogger(__name__)


class Webhook:
    def __init__(self, services: Services, routers: Sequence[Router]) -> None:
        settings = services.settings
        self.services = services
        self.clock = services.clock
        self.token = settings.wechat.token
        self.account = settings.wechat.account_id
        self.mode = settings.wechat.mode
        self.window = settings.server.timestamp_window_seconds
        self.max_body = settings.server.max_body_bytes
        self.body_timeout = settings.server.body_timeout_seconds
        self.budget = settings.server.reply_budget_seconds
        self.envelope = protocol.Envelope(settings.wechat) if settings.wechat.encoding_aes_key else None
        self.dispatcher = Dispatcher(services, routers)
        self.dedupe = Dedupe(services.shared, self.clock, settings.server.dedupe_ttl_seconds,
                             query_ttl=2 * self.window)
        self.closing = asyncio.Event()

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
        try:
            protocol.verify_signature(self.token, query)
            protocol.verify_fresh(query["timestamp"], self.clock.time(), self.window)
            aes = self._encrypted(query)
            body = await self._body(request)
            signed = (query["signature"], protocol.body_digest(body))
            try:
                xml = self.envelope.open(body, query) if aes else body
                message = protocol.parse(xml)
            except Rejected as e:
                if e.status == 400 and await self.dedupe.replayed(signed):
                    raise Rejected(403, "signed query replayed with another body") from None
                raise
            if message.target != self.account:
                raise Rejected(403, "not addressed to this account (ToUserName)")
            key = key_of(message)
            answer = await self.dedupe.once(
                key,
                lambda version: self.dispatcher.answer(message, key, started, version),
                started + self.budget,
                read=self.services.followers.version_key_of(message),  # with the claim: one round trip
                signed=signed,
                signed_at=int(query["timestamp"]),  # checked a number by verify_fresh
            )
        except Rejected as e:
            log.info("webhook: %s %s from %s", e.status, e.reason, request.remote)
            metrics.WEBHOOK_REQUESTS.labels(str(e.status)).inc()
            return web.Response(status=e.status, text=e.reason)
        if answer == render.SUCCESS:
            response = web.Response(text=answer)
        else:
            if aes:
                answer = self.envelope.seal(answer, query["nonce"], query["timestamp"])
            response = web.Response(text=answer, content_type="application/xml")
        metrics.WEBHOOK_REQUESTS.labels("200").inc()
        metrics.WEBHOOK_SECONDS.observe(self.clock.monotonic() - started)
        return response

    def _encrypted(self, query) -> bool:
        """Whether the request says it is encrypted, and whether `[wechat] mode` takes that."""
        aes = query.get("encrypt_type", "raw").lower() == "aes"
        if aes and self.mode == "plain":
            raise Rejected(403, "encrypted request, but [wechat] mode is plain")
        if not aes and self.mode == "safe":
            raise Rejected(403, "plaintext request, but [wechat] mode is safe")
        return aes

    async def _body(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > self.max_body:
            raise Rejected(413, "body too large")
        try:
            if request.content.is_eof():  # the usual case: it came with the headers
                return await self._read(request)
            return await self._arriving(request)
        except (web.RequestPayloadError, HttpProcessingError) as e:
            # an undecodable Content-Encoding, a broken chunked body
            raise Rejected(400, f"unreadable body ({str(e).strip()})") from None

    async def _read(self, request: web.Request) -> bytes:
        """The body, read up to `[server] max_body_bytes` and no further (the root application's
        client_max_size is the largest any sub-app takes, not the webhook's)."""
        body = bytearray()
        while chunk := await request.content.readany():
            body += chunk
            if len(body) > self.max_body:
                raise Rejected(413, "body too large")
        return bytes(body)

    async def _arriving(self, request: web.Request) -> bytes:
        """A body still on its way: waited for at most `body_timeout_seconds`, and not past the
        start of a shutdown (a sender that never finishes must not hold the process)."""
        reading = asyncio.ensure_future(self._read(request))
        closing = asyncio.ensure_future(self.closing.wait())
        try:
            await asyncio.wait({reading, closing}, timeout=self.body_timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            arrived = reading.done()
            if not arrived:
                reading.cancel()
        if not arrived:
            if self.closing.is_set():
                raise Rejected(503, "shutting down")
            raise Rejected(408, "body not received in time")
        return reading.result()

    async def start(self) -> None:
        await self.dispatcher.start()

    async def shutting_down(self) -> None:
        """Before aiohttp waits for the requests in flight: stop waiting for bodies."""
        self.closing.set()

    async def stop(self) -> None:
        await self.dispatcher.drain()
        await self.dedupe.drain()
        # What this app recorded, written now (the writer itself lives as long as the services).
        await self.services.messagelog.flush_quietly()


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


# --- logs: no signed query string, one line for a malformed request ---------------------------------

_SIGNED = re.compile(r"((?:msg_)?signature|timestamp|nonce|echostr|openid)=[^&\s'\"\\]*", re.IGNORECASE)


def redact(text: str) -> str:
    """A logged line without the values of a signed query (a replay within the window needs them)."""
    return _SIGNED.sub(r"\1=…", text)


class QuietProtocolLog(logging.Filter):
    """On aiohttp's loggers: a malformed HTTP request (anyone on the internet can send one) is one
    WARNING line without a traceback, and no record carries a signed query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError | web.RequestPayloadError):
            record.msg, record.args = "malformed HTTP request: %s", (redact(" ".join(str(exc).split())),)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
            return True
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.msg, record.args = redact(record.getMessage()), ()
        return True


def quiet_protocol_logs() -> None:
    """Install QuietProtocolLog on aiohttp's server-side loggers and ours (once per process)."""
    for name in ("aiohttp.server", "aiohttp.access", "aiohttp.web", __name__):
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietProtocolLog) for f in logger.filters):
            logger.addFilter(QuietProtocolLog())


WEBHOOK = web.AppKey("webhook", Webhook)


def webhook_app(services: Services, routers: Sequence[Router]) -> web.Application:
    """The webhook as a sub-application, its routes at its own root: mounted on `[server]
    webhook_path` ("/wechat", or "/wechat/" to answer on that URL), it answers there."""
    quiet_protocol_logs()
    app = web.Application(middlewares=[never_500])
    hook = app[WEBHOOK] = Webhook(services, routers)
    path = "/" if services.settings.server.webhook_path.endswith("/") else ""
    app.router.add_get(path, hook.check)
    app.router.add_post(path, hook.receive)

    async def on_startup(_app: web.Application) -> None:
        await hook.start()

    async def on_shutdown(_app: web.Application) -> None:
        await hook.shutting_down()

    async def on_cleanup(_app: web.Application) -> None:
        await hook.stop()

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    app.on_cleanup.append(on_cleanup)
    return app
