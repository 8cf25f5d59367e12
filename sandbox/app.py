"""The local platform's HTTP face: `/cgi-bin/<endpoint>` and `/datacube/<name>` as api.weixin.qq.com
answers them, the `/_sandbox/` controls for tests and benchmarks, the pages people look at and the
follower simulator. All rules live in the sandbox.platform package; this module only turns HTTP into
`Platform` calls and back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from core.clock import Clock
from core.config import Settings
from sandbox import pages, simulator
from sandbox.platform import INVALID_BODY, PLATFORM_KEY, DropConnection, Platform

MAX_UPLOAD_BYTES = 12 * 1024 * 1024  # above the 10 MB image material limit, so 40009 can be answered


def make_sandbox_app(
    settings: Settings,
    clock: Clock | None = None,
    state_path: str | None = None,
    *,
    publish_delay: float = 1.5,
    webhook_url: str | None = None,
    delivery_retry_after: float = 5.0,
) -> web.Application:
    """The local WeChat platform as an aiohttp app; `app[PLATFORM_KEY]` is its Platform."""
    platform = Platform(settings, clock, state_path, publish_delay=publish_delay,
                        webhook_url=webhook_url, delivery_retry_after=delivery_retry_after)
    app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
    app[PLATFORM_KEY] = platform
    app.router.add_route("*", "/cgi-bin/{endpoint:.+}", _cgi)
    app.router.add_route("*", "/datacube/{endpoint}", _cgi)  # 数据统计 lives outside cgi-bin
    app.router.add_post("/_sandbox/faults", _faults)
    app.router.add_post("/_sandbox/faults/clear", _faults_clear)
    app.router.add_post("/_sandbox/clock/advance", _clock_advance)
    app.router.add_post("/_sandbox/quotas", _quotas)
    app.router.add_post("/_sandbox/follower-action", _follower_action)
    app.router.add_post("/_sandbox/followers", _followers)
    app.router.add_post("/_sandbox/token/invalidate", _token_invalidate)
    app.router.add_post("/_sandbox/whitelist", _whitelist)
    app.router.add_post("/_sandbox/options", _options)
    app.router.add_post("/_sandbox/mass/confirm", _mass_confirm)
    app.router.add_post("/_sandbox/settle", _settle)
    app.router.add_get("/_sandbox/state", _state)
    app.router.add_post("/_sandbox/reset", _reset)
    pages.setup(app, platform)
    simulator.setup(app)
    app.cleanup_ctx.append(_lifecycle)
    return app


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    platform = app[PLATFORM_KEY]
    async with aiohttp.ClientSession() as http:
        await platform.start(http)
        yield
        await platform.close()


# --- /cgi-bin -------------------------------------------------------------------------------------


async def _cgi(request: web.Request) -> web.StreamResponse:
    platform = request.app[PLATFORM_KEY]
    # URLs it hands out (uploadimg, article pages) use the address the caller reached it by.
    platform.base_url = str(request.url.origin())
    body: Any = None
    files: dict[str, tuple[str, bytes]] = {}
    ctype = request.content_type
    if request.method == "POST" and ctype.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if part.name is None:
                continue
            data = await part.read(decode=False)
            if part.filename is not None:
                files[part.name] = (part.filename, bytes(data))
            else:
                body = body or {}
                body[part.name] = bytes(data).decode("utf-8", "replace")
    elif request.method == "POST":
        raw = await request.read()
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                body = INVALID_BODY
    try:
        result = await platform.call(request.path, dict(request.query), body, files,
                                     method=request.method)
    except DropConnection:
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPInternalServerError() from None  # never written: the connection is gone
    return web.json_response(result, dumps=lambda o: json.dumps(o, ensure_ascii=False))


# --- /_sandbox controls ---------------------------------------------------------------------------


async def _json(request: web.Request) -> dict:
    try:
        data = await request.json() if (await request.read()).strip() else {}
    except ValueError:
        raise _bad("body must be JSON") from None
    if not isinstance(data, dict):
        raise _bad("body must be a JSON object")
    return data


def _bad(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _ok(**data: Any) -> web.Response:
    return web.json_response({"ok": True, **data}, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def _control(fn):
    """Run a control with the JSON body as keyword arguments; a bad argument is a 400 with the reason."""
    async def handler(request: web.Request) -> web.Response:
        data = await _json(request)
        try:
            return _ok(**(fn(request.app[PLATFORM_KEY], **data) or {}))
        except (TypeError, ValueError, KeyError) as e:
            raise _bad(str(e)) from None
    return handler


_faults = _control(lambda p, **kw: {"fault": p.add_fault(**kw)})
_faults_clear = _control(lambda p: p.state.update(faults=[], publish_faults=[]) or p.changed())
_clock_advance = _control(lambda p, seconds: {"now": p.advance_clock(float(seconds))})
_quotas = _control(lambda p, endpoint, limit: p.set_quota(endpoint, int(limit)))
_follower_action = _control(lambda p, openid, kind: p.follower_action(openid, kind))
_followers = _control(lambda p, openid, subscribed=True, tags=None: {
    "follower": p.set_follower(openid, bool(subscribed), tags)})
_token_invalidate = _control(lambda p, grace=0.0: p.invalidate_token(float(grace)))
_whitelist = _control(lambda p, whitelisted: p.set_whitelisted(bool(whitelisted)))
_options = _control(lambda p, **kw: {"options": p.configure(**kw)})
_mass_confirm = _control(lambda p, msg_id: p.confirm_mass(int(msg_id)))
_reset = _control(lambda p: p.reset())


async def _settle(request: web.Request) -> web.Response:
    await request.app[PLATFORM_KEY].settle()
    return _ok()


async def _state(request: web.Request) -> web.Response:
    platform = request.app[PLATFORM_KEY]
    calls = request.query.get("calls", "1") not in ("0", "false", "no")
    return web.json_response(platform.snapshot(calls=calls),
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))
